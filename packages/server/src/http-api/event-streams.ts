/**
 * The API's two event streams (Server-Sent Events, `text/event-stream`), authenticated like every
 * method — `Authorization: Bearer`, so a browser reads them with `fetch`, not `EventSource`, and
 * no credential ever sits in a URL:
 *
 * - `GET /api/stats/stream`: first a `backlog` event with the samples kept (up to 15 minutes),
 *   then a `sample` event every second (stats/stats-gatherer.ts: one gather per server, shared).
 * - `GET /api/tail?channel=<name>`: a `message` event with `{ channel, epoch, offset, data }` for
 *   each message published on the channel from now on (the node watches it on the broker while
 *   a tail is open).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { BrokerMessage } from '@switchboard/broker'
import { binaryReplacer, ErrorCode, isValidChannel } from '@switchboard/protocol'
import type { StatsGatherer } from '../stats/stats-gatherer.js'
import type { StatsSample } from '../stats/stats-sample.js'
import { ApiError } from './api-error.js'

/** The stream paths under `/api/`. */
export const STREAMS = ['stats/stream', 'tail'] as const
export type StreamName = (typeof STREAMS)[number]
export const isStream = (name: string): name is StreamName => (STREAMS as readonly string[]).includes(name)

export interface StreamParts {
  stats: StatsGatherer
  /** Watches a channel's messages on this node (the hub's `watch`). */
  watch(channel: string, watcher: (message: BrokerMessage) => void): Promise<() => Promise<void>>
}

/** A comment every 15 s keeps proxies from closing a quiet stream. */
const KEEPALIVE_MS = 15_000

function open(res: ServerResponse): (event: string, data: unknown) => void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
  })
  res.write(': switchboard\n\n')
  return (event, data) => {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data, binaryReplacer)}\n\n`)
  }
}

/** Runs until the client goes away; `stop` is called then. */
function untilClosed(req: IncomingMessage, res: ServerResponse, stop: () => void): void {
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS)
  let stopped = false
  const end = () => {
    if (stopped) return
    stopped = true
    clearInterval(keepalive)
    stop()
  }
  req.once('close', end)
  res.once('close', end)
}

export async function serveStream(
  name: StreamName,
  req: IncomingMessage,
  res: ServerResponse,
  parts: StreamParts,
): Promise<void> {
  if (name === 'stats/stream') {
    const send = open(res)
    send('backlog', parts.stats.history)
    const unwatch = parts.stats.watch((sample: StatsSample) => send('sample', sample))
    untilClosed(req, res, unwatch)
    return
  }
  const channel = new URL(req.url ?? '/', 'http://x').searchParams.get('channel') ?? ''
  if (!isValidChannel(channel)) {
    throw new ApiError(ErrorCode.INVALID_CHANNEL, 'tail: give a valid ?channel=')
  }
  let sendLater: ((event: string, data: unknown) => void) | undefined
  const unwatch = await parts.watch(channel, (m) =>
    sendLater?.('message', { channel: m.channel, epoch: m.epoch, offset: m.offset, data: m.data }),
  )
  if (req.destroyed) {
    await unwatch()
    return
  }
  sendLater = open(res)
  untilClosed(req, res, () => void unwatch().catch(() => {}))
}
