/**
 * What the browser tests of the shared connection and the outbox use: the client's browser
 * entry with `@switchboard/client/share` and `/outbox`, bundled from source into one script that
 * sets `window.Switchboard`; the share worker script, bundled; a real Switchboard server that
 * serves a blank page, both scripts and its WebSocket; and, in each page, `open(options)`, which
 * makes a client and records what it sees.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import type * as ClientModule from '@switchboard/client'
import type * as OutboxModule from '@switchboard/client/outbox'
import type * as ShareModule from '@switchboard/client/share'
import { build } from 'esbuild'
import type { Page } from 'playwright-core'
import { root } from './e2e-support.js'

/** What `window.Switchboard` holds in the test pages. */
export type Bundle = typeof ClientModule & typeof ShareModule & typeof OutboxModule

/** What a test page keeps: its client, and what the client saw. */
export interface Probe {
  client: ClientModule.SwitchboardClient
  outbox: OutboxModule.IndexedDbOutbox | undefined
  /** Offsets of each channel's publications, in order. */
  offsets: Record<string, number[]>
  /** `newState:reason` of every state change. */
  states: string[]
  /** `reason` of every outbox `dropped` event. */
  dropped: string[]
}

export type TestWindow = typeof globalThis & { Switchboard: Bundle; probe: Probe }

const alias = { '@switchboard/protocol': join(root, 'packages/protocol/src/index.ts') }

/** An IIFE of `contents` (a module in packages/client/src), or of that entry file. */
async function bundle(contents: string, entry?: string): Promise<string> {
  const result = await build({
    ...(entry
      ? { entryPoints: [join(root, 'packages/client/src', entry)] }
      : { stdin: { contents, resolveDir: join(root, 'packages/client/src'), loader: 'ts' as const } }),
    alias,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  })
  return result.outputFiles[0]!.text
}

/** The page's script and the share worker's, built from source. */
export async function scripts(): Promise<{ client: string; worker: string }> {
  const client = await bundle(
    [
      "import * as core from './browser.ts'",
      "import * as share from './share.ts'",
      "import * as outbox from './outbox.ts'",
      'globalThis.Switchboard = { ...core, ...share, ...outbox }',
    ].join('\n'),
  )
  const worker = await bundle('', 'share-worker.ts')
  return { client, worker }
}

/** The server's `onRequest`: the blank page at `/`, the client at `/client.js`, the worker at `/share-worker.js`. */
export function pageServer({ client, worker }: { client: string; worker: string }) {
  const html = '<!doctype html><title>share</title><script src="/client.js"></script>'
  const files: Record<string, [string, string]> = {
    '/': ['text/html', html],
    '/client.js': ['text/javascript', client],
    '/share-worker.js': ['text/javascript', worker],
  }
  return (req: IncomingMessage, res: ServerResponse): void => {
    const [type, body] = files[req.url ?? ''] ?? ['text/plain', 'not found']
    res.writeHead(body === 'not found' ? 404 : 200, { 'content-type': type }).end(body)
  }
}

export interface TabOptions {
  url: string
  /** `'leader'`: a leader tab over BroadcastChannel; `'worker'`: the SharedWorker; false: none. */
  share: 'leader' | 'worker' | false
  /** Channels to subscribe to. */
  channels?: string[]
  /** An IndexedDB outbox with these options. */
  outbox?: OutboxModule.IndexedDbOutboxOptions
  autoConnect?: boolean
}

/** Makes the page's client (see Probe). */
export function openClient(page: Page, options: TabOptions): Promise<void> {
  return page.evaluate((o) => {
    const w = globalThis as TestWindow
    const S = w.Switchboard
    const share =
      o.share === 'leader'
        ? S.shareConnection({ leaderTab: true })
        : o.share === 'worker'
          ? S.shareConnection({ worker: '/share-worker.js' })
          : false
    const outbox = o.outbox ? S.indexedDbOutbox(o.outbox) : undefined
    const client = new S.SwitchboardClient(o.url, {
      share,
      backoff: () => 100,
      autoConnect: o.autoConnect ?? true,
      ...(outbox ? { outbox } : {}),
    })
    const probe: Probe = { client, outbox, offsets: {}, states: [], dropped: [] }
    w.probe = probe
    client.on('state', ({ newState, reason }) => probe.states.push(`${newState}:${reason}`))
    outbox?.on('dropped', ({ reason }) => probe.dropped.push(reason))
    for (const name of o.channels ?? []) {
      const seen: number[] = []
      probe.offsets[name] = seen
      client.channel(name).on('publication', ({ offset }) => seen.push(offset))
    }
  }, options)
}

/** The offsets a page's client got on a channel. */
export const offsetsIn = (page: Page, channel: string) =>
  page.evaluate((name) => [...((globalThis as TestWindow).probe.offsets[name] ?? [])], channel)

/** Whether a page's client has every one of its channels subscribed. */
export const allSubscribed = (page: Page, channels: string[]) =>
  page.evaluate(
    (names) =>
      names.every((name) => (globalThis as TestWindow).probe.client.channel(name).state === 'subscribed'),
    channels,
  )

/** 1..n */
export const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1)
