/**
 * `switchboard bench`: a load test of a Switchboard server — the user's own deployment, or a
 * throw-away in-process one when no URL is given. N subscribers (in worker processes) join one
 * channel, one publisher publishes on it at a fixed rate, and the run reports how many messages
 * reached how many subscribers, in what order and how fast. Every phase has a deadline, and a
 * watchdog ends the process if the whole run ever overstays them: it never hangs.
 */
import { randomBytes } from 'node:crypto'
import { createSwitchboard, type Switchboard } from '@switchboard/server'
import type { BenchConfig } from './config.js'
import { Fleet } from './fleet.js'
import { Publisher } from './publisher.js'
import { type BenchResult, type RunCounts, summarize } from './report.js'
import { BenchError, openSession, type Session } from './session.js'
import { addCounts, clock, type Target } from './shared.js'

/** Time one connection gets to be ready (hello, auth, subscribe reply). */
const CONNECT_TIMEOUT_MS = 10_000
/** After the last publish: the most time for replies and deliveries to arrive… */
const DRAIN_MS = 5_000
/** …or this long without a new delivery once every publish was answered (the rest are lost). */
const QUIET_MS = 2_000
/** Time workers get to report and close their connections. */
const STOP_MS = 5_000

/** A throw-away server for the run: loopback, any port, clients may publish on the channel. */
async function localServer(config: BenchConfig): Promise<{ sb: Switchboard; url: string }> {
  const sb = createSwitchboard({
    port: 0,
    host: '127.0.0.1',
    logger: false,
    channels: { [config.channel]: { clientPublish: true } },
    // The publisher is one connection: let it publish at the asked rate.
    rateLimit: {
      capacity: Math.max(200, Math.ceil(config.rate)),
      refillPerSecond: Math.max(100, config.rate * 2),
    },
    maxPayload: Math.max(64 * 1024, config.payload + 4096),
  })
  const { url } = await sb.ready
  return { sb, url }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Waits until every publish is answered and every delivery counted — or, if some never come,
 * until deliveries stop (`QUIET_MS`) or `DRAIN_MS` passed.
 */
async function drain(publisher: Publisher, fleet: Fleet, subscribers: number): Promise<void> {
  const deadline = clock() + DRAIN_MS
  let delivered = fleet.delivered
  let quietSince = clock()
  while (clock() < deadline && !publisher.fatal) {
    if (publisher.pending === 0 && fleet.delivered >= publisher.stats().published * subscribers) return
    if (fleet.delivered !== delivered || publisher.pending > 0) {
      delivered = fleet.delivered
      quietSince = clock()
    } else if (clock() - quietSince > QUIET_MS) return
    await sleep(20)
  }
}

/** The most frequent code of a count, and all of them as text. */
function describe(counts: Record<string, number>): { code: string; text: string } {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1])
  return {
    code: entries[0]?.[0] ?? 'connect_failed',
    text: entries.map(([code, n]) => `${code} ×${n}`).join(', '),
  }
}

/**
 * Runs the benchmark; `say` gets progress lines. Resolves with the result; rejects only on
 * failures of the tool itself (the server's refusals are part of the result).
 */
export async function bench(
  config: BenchConfig,
  say: (line: string) => void = () => {},
): Promise<BenchResult> {
  const perWorker = Math.ceil(config.clients / config.workers)
  const connectPhaseMs = CONNECT_TIMEOUT_MS + perWorker * 2
  const hardMs = 10_000 + connectPhaseMs + CONNECT_TIMEOUT_MS + config.duration * 1000 + DRAIN_MS + STOP_MS
  let fleet: Fleet | undefined
  const watchdog = setTimeout(() => {
    console.error(`switchboard bench: still running after ${Math.round(hardMs / 1000)} s; giving up`)
    fleet?.kill()
    process.exit(1)
  }, hardMs)
  watchdog.unref()

  let local: { sb: Switchboard; url: string } | undefined
  let session: Session | undefined
  try {
    if (config.url === undefined) local = await localServer(config)
    const url = config.url ?? local!.url
    const counts: RunCounts = {
      url,
      server: local ? 'in-process' : 'remote',
      connectMs: 0,
      connect: [],
      publish: undefined,
      subscribers: [],
      error: undefined,
    }
    const target: Target = {
      url,
      token: config.token,
      channel: config.channel,
      run: randomBytes(6).toString('base64url'),
    }
    // The publisher first: if it cannot connect, there is no run, and no need to connect N clients.
    try {
      session = await openSession(url, config.token, CONNECT_TIMEOUT_MS)
    } catch (err) {
      const e = err instanceof BenchError ? err : new BenchError('connect_failed', String(err))
      counts.error = { code: e.code, message: `the publisher could not connect: ${e.message}` }
      return summarize(config, counts)
    }

    const workers = `${config.workers} worker${config.workers === 1 ? '' : 's'}`
    say(`connecting ${config.clients} subscribers to ${url} (${workers})…`)
    const started = clock()
    fleet = new Fleet(config.clients, config.workers, target, CONNECT_TIMEOUT_MS)
    counts.connect = await fleet.connected(connectPhaseMs)
    counts.connectMs = clock() - started
    const connected = counts.connect.reduce((sum, c) => sum + c.connected, 0)

    if (connected === 0) {
      const errors = counts.connect.reduce((all, c) => addCounts(all, c.connectErrors), {})
      const { code, text } = describe(errors)
      counts.error = { code, message: `no subscriber could connect (${text})` }
    } else {
      const publisher = new Publisher(session, { ...config, run: target.run })
      say(`publishing at ${config.rate}/s for ${config.duration} s…`)
      await publisher.run()
      await drain(publisher, fleet, connected)
      counts.publish = publisher.stats()
    }
    counts.subscribers = await fleet.stop(STOP_MS)
    return summarize(config, counts)
  } finally {
    fleet?.kill()
    await session?.close()
    await local?.sb.close({ timeout: 1000 })
    clearTimeout(watchdog)
  }
}
