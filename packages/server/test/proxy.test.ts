/**
 * The proxy hooks (issue 15 point 4) against a real backend process: python/proxy_backend.py on
 * Debian's /usr/bin/python3 (standard library only), with a real server and real clients. Each
 * hook allows, denies and fails for real: a backend with nothing listening, one that hangs, one
 * that answers garbage. What the backend was sent is read back from it (GET /calls), so
 * forwarding is checked where it lands, and every log line the server writes is captured to
 * check that failures are logged once and no secret ever is. A revocation of a user closes the
 * connections the connect hook allowed before it.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { SwitchboardClient } from '@switchboard/client'
import type { ServerFrame } from '@switchboard/protocol'
import {
  createSwitchboard,
  type Logger,
  type ProxyOptions,
  type SwitchboardOptions,
} from '@switchboard/server'
import { freePort, RecordingSocket, until } from '@switchboard/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { z } from 'zod'

const PYTHON = '/usr/bin/python3'
const script = fileURLToPath(new URL('./python/proxy_backend.py', import.meta.url))

let backend: ChildProcess
let base = ''
beforeAll(async () => {
  backend = spawn(PYTHON, [script], { stdio: ['ignore', 'pipe', 'inherit'] })
  const first = await new Promise<string>((resolve, reject) => {
    backend.once('error', reject)
    createInterface({ input: backend.stdout! }).once('line', resolve)
  })
  base = `http://127.0.0.1:${(JSON.parse(first) as { port: number }).port}`
})
afterAll(() => {
  backend.kill()
})

type Call = { path: string; body: Record<string, unknown>; secret: string | null }
const calls = async (path: string): Promise<Call[]> =>
  ((await (await fetch(`${base}/calls`)).json()) as Call[]).filter((c) => c.path === path)

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Every line the server logs. */
function capture() {
  const lines: string[] = []
  const logger: Logger = {
    info: (m) => lines.push(m),
    warn: (m) => lines.push(m),
    error: (m, err) => lines.push(`${m} ${err instanceof Error ? err.message : String(err ?? '')}`),
  }
  return { lines, logger }
}

async function serve(proxy: ProxyOptions, options: SwitchboardOptions = {}) {
  const { lines, logger } = capture()
  const sb = createSwitchboard({ port: 0, host: '127.0.0.1', logger, proxy, ...options })
  const { url } = await sb.ready
  cleanups.push(() => sb.close({ timeout: 300 }))
  return { sb, url, lines }
}

type Outcome = { status: number } | { close: { code: number; reason: string } } | { client: RecordingSocket }

/** Opens a raw WebSocket: refused with an HTTP status, closed before hello, or a client after hello. */
async function open(url: string, headers: Record<string, string> = {}): Promise<Outcome> {
  const client = new RecordingSocket<ServerFrame>(new WebSocket(url, 'switchboard.v1', { headers }))
  cleanups.push(() => client.ws.terminate())
  const refused = new Promise<Outcome>((resolve) =>
    client.ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 })),
  )
  const closed = client.closed.then((close): Outcome => ({ close }))
  const hello = client.next('hello').then((): Outcome => ({ client }))
  return Promise.race([refused, closed, hello])
}

async function connected(url: string, headers?: Record<string, string>): Promise<RecordingSocket> {
  const outcome = await open(url, headers)
  if (!('client' in outcome)) throw new Error(`not connected: ${JSON.stringify(outcome)}`)
  return outcome.client
}

let ids = 0
async function ask(client: RecordingSocket, frame: Record<string, unknown>) {
  const id = String(++ids)
  client.send({ ...frame, id })
  return client.next('reply', (r) => r.id === id)
}

describe('connect', () => {
  it('allows with the user, data and channels the backend gives: conn.data, then a server-side subscription the SDK surfaces', async () => {
    const { sb, url } = await serve({ connect: { url: `${base}/connect` } })
    const seen = new Promise<Record<string, unknown>>((resolve) =>
      sb.on('connection', (conn) => resolve(conn.data as Record<string, unknown>)),
    )
    const client = await connected(`${url}?token=alice`)
    expect(await seen).toEqual({ name: 'Alice', userId: 'alice' })
    expect(await client.next('subscribed')).toMatchObject({ channel: 'news:alice', offset: 0 })
    await sb.publish('news:alice', { hello: 'alice' })
    expect(await client.next('message')).toMatchObject({ channel: 'news:alice', data: { hello: 'alice' } })

    const sdk = new SwitchboardClient(`${url}?token=alice`)
    cleanups.push(() => sdk.close())
    const channel = await new Promise<{ name: string }>((resolve) => sdk.on('serverSubscribed', resolve))
    expect(channel.name).toBe('news:alice')
  })

  it('sends the token from the header or the query, the listed headers and cookies only, and the remote address', async () => {
    const { url } = await serve({
      connect: {
        url: `${base}/connect`,
        forwardHeaders: ['X-App-Version'],
        forwardCookies: ['session'],
        headers: { 'x-backend-secret': 'between-us' },
      },
    })
    const before = (await calls('/connect')).length
    await connected(url, {
      authorization: 'Bearer bob',
      'x-app-version': '7.1',
      'x-other': 'not sent',
      cookie: 'theme=dark; session=zzz',
    })
    // A cookie alone can be the credential.
    await connected(url, { cookie: 'session=alice-cookie' })
    const [header, cookie] = (await calls('/connect')).slice(before)
    expect(header).toEqual({
      path: '/connect',
      secret: 'between-us',
      body: {
        remoteAddress: '127.0.0.1',
        token: 'bob',
        headers: { 'x-app-version': '7.1' },
        cookies: { session: 'zzz' },
      },
    })
    expect(cookie!.body).toEqual({
      remoteAddress: '127.0.0.1',
      headers: {},
      cookies: { session: 'alice-cookie' },
    })
  })

  it('denies: error unauthorized → HTTP 401, forbidden → 403, disconnect → accepted then closed with its code', async () => {
    const { sb, url } = await serve({ connect: { url: `${base}/connect` } })
    expect(await open(url)).toEqual({ status: 401 })
    expect(await open(`${url}?token=nobody`)).toEqual({ status: 401 })
    expect(await open(`${url}?token=not-yours`)).toEqual({ status: 403 })
    expect(await open(`${url}?token=banned`)).toEqual({ close: { code: 4003, reason: 'banned' } })
    expect(sb.connections.size).toBe(0)
    expect(sb.stats().handshakesRefused).toBe(4)
  })

  it('a backend with nothing listening: close 1013, and the SDK backs off and retries instead of giving up', async () => {
    const dead = `http://127.0.0.1:${await freePort()}/connect`
    const { sb, url, lines } = await serve({ connect: { url: dead } })
    expect(await open(`${url}?token=alice`)).toEqual({ close: { code: 1013, reason: 'try again later' } })
    const sdk = new SwitchboardClient(`${url}?token=alice`, { backoff: () => 50 })
    cleanups.push(() => sdk.close())
    const changes: Array<{ newState: string; closeCode?: number }> = []
    sdk.on('state', (change) => changes.push(change))
    // Reconnecting (1013 is in the reconnect band), and trying again: each try another refused handshake.
    await until(() => sb.stats().handshakesRefused >= 4)
    expect(changes[0]).toMatchObject({ newState: 'reconnecting', closeCode: 1013 })
    expect(sdk.state).toBe('reconnecting')
    expect(lines.filter((l) => l.includes('proxy connect hook')).length).toBe(1)
    expect(lines[0]).toMatch(
      /proxy connect hook http:\/\/127\.0\.0\.1:\d+\/connect unavailable: could not reach it \(ECONNREFUSED\)/,
    )
  })

  it('a backend that hangs: 1013 at the timeout, while connections already open go on at full speed', async () => {
    const { sb, url } = await serve(
      { connect: { url: `${base}/connect`, timeout: 800 } },
      {
        channels: { 'chat:*': { clientPublish: true } },
      },
    )
    sb.handle('echo', (_conn, data) => data)
    const early = await connected(`${url}?token=bob`)
    const started = Date.now()
    const hung = open(`${url}?token=hang`)
    let hungEnded = false
    void hung.then(() => {
      hungEnded = true
    })
    // While that handshake waits on the backend, an open connection subscribes, publishes and asks.
    await new Promise((r) => setTimeout(r, 100))
    expect((await ask(early, { type: 'subscribe', channel: 'chat:a' })).ok).toBe(true)
    expect((await ask(early, { type: 'publish', channel: 'chat:a', data: { n: 1 } })).ok).toBe(true)
    expect(await early.next('message')).toMatchObject({ data: { n: 1 } })
    expect(await ask(early, { type: 'request', event: 'echo', data: 'hi' })).toMatchObject({
      ok: true,
      data: 'hi',
    })
    // All of it done while the other handshake was still waiting: nothing queued behind the hang.
    expect(hungEnded).toBe(false)
    expect(await hung).toEqual({ close: { code: 1013, reason: 'try again later' } })
    expect(Date.now() - started).toBeGreaterThanOrEqual(750)
  })

  it('a malformed answer is a denial (HTTP 403), logged once for a burst, never with a secret', async () => {
    const { url, lines } = await serve({
      connect: {
        url: `${base}/connect`,
        forwardCookies: ['session'],
        headers: { 'x-backend-secret': 'between-us' },
      },
    })
    for (let i = 0; i < 5; i++)
      expect(await open(`${url}?token=malformed-T0K3N`, { cookie: 'session=s3cr3t' })).toEqual({
        status: 403,
      })
    expect(await open(`${url}?token=bad-channel`)).toEqual({ status: 403 })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(
      /proxy connect hook .*\/connect answered with a malformed response: .*\/result\/user must be string/,
    )
    for (const secret of ['T0K3N', 's3cr3t', 'between-us']) expect(lines.join('\n')).not.toContain(secret)
  })
})

describe('refresh', () => {
  it('asks for a fresh token before expiresAt; the backend extends it or refuses it, or closes the connection', async () => {
    const { sb, url } = await serve({
      connect: { url: `${base}/connect` },
      refresh: { url: `${base}/refresh` },
    })
    const client = await connected(`${url}?token=short`)
    const refresh = await client.next('refresh')
    expect(refresh.expiresIn).toBeLessThanOrEqual(2000)
    expect(await ask(client, { type: 'auth', token: 'stale' })).toMatchObject({
      ok: false,
      error: { code: 'unauthorized', message: 'stale token' },
    })
    expect(await ask(client, { type: 'auth', token: 'fresh' })).toMatchObject({ ok: true })
    const conn = [...sb.connections.values()][0]!
    expect(conn.data).toEqual({ refreshed: true, userId: 'carol' })
    const [call] = (await calls('/refresh')).filter((c) => c.body.token === 'fresh').slice(-1)
    expect(call!.body).toEqual({ connectionId: conn.id, user: 'carol', token: 'fresh' })
    // Past the first expiry (2 s), still open: the refresh moved it.
    await new Promise((r) => setTimeout(r, 2200))
    expect(conn.state).toBe('open')
    expect(await ask(client, { type: 'auth', token: 'ban-me' })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    })
    expect(await client.closed).toEqual({ code: 4003, reason: 'banned on refresh' })
  })
})

describe('revocation', () => {
  it('revoke({ user }) closes the connections the connect hook allowed until then with 4001; the hook decides the next ones', async () => {
    const { sb, url } = await serve({ connect: { url: `${base}/connect` } })
    const bob1 = await connected(`${url}?token=bob`)
    const bob2 = await connected(`${url}?token=bob`)
    const alice = await connected(`${url}?token=alice`)
    const before = (await calls('/connect')).length
    await sb.revoke({ user: 'bob' })
    expect(await bob1.closed).toEqual({ code: 4001, reason: 'token revoked' })
    expect(await bob2.closed).toEqual({ code: 4001, reason: 'token revoked' })
    expect(await ask(alice, { type: 'subscribe', channel: 'room' })).toMatchObject({ ok: true })
    // A new connection is issued now, after the revocation: the backend is asked and allows it.
    const again = await connected(`${url}?token=bob`)
    expect((await calls('/connect')).length).toBe(before + 1)
    expect(await ask(again, { type: 'subscribe', channel: 'room' })).toMatchObject({ ok: true })
  })
})

describe('subscribe', () => {
  const channels = { 'room:*': { presence: true }, 'secret:*': { history: 10 } }

  it('allows with presence info, denies as forbidden (the backend message), also for $history', async () => {
    const { sb, url } = await serve(
      {
        connect: { url: `${base}/connect` },
        subscribe: { 'room:*': { url: `${base}/subscribe` }, 'secret:*': { url: `${base}/subscribe` } },
      },
      { channels },
    )
    const bob = await connected(`${url}?token=bob`)
    const joined = await ask(bob, { type: 'subscribe', channel: 'room:1' })
    expect(joined).toMatchObject({
      ok: true,
      data: { members: [{ userId: 'bob', info: { name: 'bob', seat: 7 } }] },
    })
    expect(await ask(bob, { type: 'subscribe', channel: 'secret:x' })).toMatchObject({
      ok: false,
      error: { code: 'forbidden', message: 'only alice' },
    })
    expect(
      await ask(bob, { type: 'request', event: '$history', data: { channel: 'secret:x' } }),
    ).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    })
    const alice = await connected(`${url}?token=alice`)
    expect(await ask(alice, { type: 'subscribe', channel: 'secret:x' })).toMatchObject({ ok: true })
    // A channel no pattern matches is not sent to the backend.
    const before = (await calls('/subscribe')).length
    expect(await ask(bob, { type: 'subscribe', channel: 'open:1' })).toMatchObject({ ok: true })
    expect((await calls('/subscribe')).length).toBe(before)
    expect(sb.channelSize('secret:x')).toBe(1)
  })

  it('a hung or down backend answers unavailable; a malformed answer is forbidden; nothing is left subscribed', async () => {
    const dead = `http://127.0.0.1:${await freePort()}/subscribe`
    const { sb, url, lines } = await serve({
      subscribe: {
        'slow:*': { url: `${base}/hang`, timeout: 300 },
        'down:*': { url: dead },
        'junk:*': { url: `${base}/subscribe` },
        'html:*': { url: `${base}/not-json` },
        'err:*': { url: `${base}/error500` },
      },
    })
    const client = await connected(url)
    for (const channel of ['slow:1', 'down:1', 'err:1']) {
      expect(await ask(client, { type: 'subscribe', channel })).toMatchObject({
        ok: false,
        error: { code: 'unavailable' },
      })
    }
    for (const channel of ['junk:1', 'html:1']) {
      expect(await ask(client, { type: 'subscribe', channel })).toMatchObject({
        ok: false,
        error: { code: 'forbidden' },
      })
    }
    expect(sb.stats().channels).toBe(0)
    expect(lines.map((l) => l.replace(/^proxy subscribe "(\S+)" .*$/, '$1')).sort()).toEqual([
      'down:*',
      'err:*',
      'html:*',
      'junk:*',
      'slow:*',
    ])
  })

  it('respects maxConcurrency: calls past the bound wait for a slot; past maxQueue they are unavailable at once', async () => {
    const { url } = await serve({
      subscribe: { url: `${base}/slow`, maxConcurrency: 2, maxQueue: 3, timeout: 5000 },
    })
    // One connection's channel operations run one at a time: six connections ask at once.
    const clients = await Promise.all(Array.from({ length: 6 }, () => connected(url)))
    const started = Date.now()
    const replies = await Promise.all(
      clients.map((client, i) => ask(client, { type: 'subscribe', channel: `c:${i}` })),
    )
    // 2 in flight, 3 waiting, the 6th refused; the 5 allowed took three rounds of 300 ms.
    expect(replies.filter((r) => r.ok)).toHaveLength(5)
    expect(replies.filter((r) => !r.ok).map((r) => !r.ok && r.error.code)).toEqual(['unavailable'])
    expect(Date.now() - started).toBeGreaterThanOrEqual(850)
    const stats = (await (await fetch(`${base}/stats`)).json()) as { max: number }
    expect(stats.max).toBe(2)
  })
})

describe('publish', () => {
  it('allows, denies, or replaces the data — and the replacement still passes the channel schema', async () => {
    const { url } = await serve(
      { publish: { 'chat:*': { url: `${base}/publish` } } },
      {
        channels: {
          'chat:*': {
            clientPublish: true,
            schema: z.object({ text: z.string(), by: z.string().optional() }),
          },
        },
        tokenAuth: {
          fromRequest: () => ({ data: {}, subject: 'erin' }),
          verify: () => ({ data: {} }),
        },
      },
    )
    const client = await connected(url)
    await ask(client, { type: 'subscribe', channel: 'chat:a' })
    expect(await ask(client, { type: 'publish', channel: 'chat:a', data: { text: 'plain' } })).toMatchObject({
      ok: true,
    })
    expect(await client.next('message')).toMatchObject({ offset: 1, data: { text: 'plain' } })
    expect(
      await ask(client, { type: 'publish', channel: 'chat:a', data: { text: 'shout hello' } }),
    ).toMatchObject({ ok: true })
    expect(await client.next('message')).toMatchObject({ offset: 2, data: { text: 'HELLO', by: 'erin' } })
    expect(
      await ask(client, { type: 'publish', channel: 'chat:a', data: { text: 'forbidden' } }),
    ).toMatchObject({
      ok: false,
      error: { code: 'forbidden', message: 'not that' },
    })
    expect(
      await ask(client, { type: 'publish', channel: 'chat:a', data: { text: 'break the schema' } }),
    ).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    })
    // Neither refusal took an offset: the next publication is 3.
    await ask(client, { type: 'publish', channel: 'chat:a', data: { text: 'after' } })
    expect(await client.next('message')).toMatchObject({ offset: 3, data: { text: 'after' } })
    const [call] = (await calls('/publish')).filter(
      (c) => (c.body.data as { text: string }).text === 'shout hello',
    )
    expect(call!.body).toMatchObject({ user: 'erin', channel: 'chat:a', data: { text: 'shout hello' } })
  })
})

describe('rpc', () => {
  it("answers a request whose event matches: the backend's reply (bytes too), its error code, and a handler of the server's own first", async () => {
    const { sb, url } = await serve({
      connect: { url: `${base}/connect` },
      rpc: { 'math.*': { url: `${base}/rpc` } },
    })
    sb.handle('math.local', () => 'from node')
    const client = await connected(`${url}?token=bob`)
    expect(await ask(client, { type: 'request', event: 'math.add', data: { a: 2, b: 3 } })).toMatchObject({
      ok: true,
      data: { sum: 5, user: 'bob' },
    })
    expect(await ask(client, { type: 'request', event: 'math.bytes' })).toMatchObject({
      ok: true,
      data: { $bin: 'AAEC/w==' },
    })
    expect(await ask(client, { type: 'request', event: 'math.missing', data: 9 })).toMatchObject({
      ok: false,
      error: { code: 'not_found', message: 'no such thing', details: { id: 9 } },
    })
    expect(await ask(client, { type: 'request', event: 'math.local' })).toMatchObject({
      ok: true,
      data: 'from node',
    })
    expect(await ask(client, { type: 'request', event: 'math.weird' })).toMatchObject({
      ok: false,
      error: { code: 'internal' },
    })
    expect(await ask(client, { type: 'request', event: 'other' })).toMatchObject({
      ok: false,
      error: { code: 'unknown_event' },
    })
  })

  it('a backend that hangs answers unavailable at the timeout', async () => {
    const { url } = await serve({ rpc: { url: `${base}/hang`, timeout: 300 } })
    const client = await connected(url)
    expect(await ask(client, { type: 'request', event: 'anything' })).toMatchObject({
      ok: false,
      error: { code: 'unavailable' },
    })
  })
})

describe('options', () => {
  it('refuses proxy.connect next to other authentication, refresh without connect, and a URL that is not http(s)', () => {
    expect(() =>
      createSwitchboard({
        server: undefined,
        port: 0,
        proxy: { connect: { url: `${base}/c` } },
        authenticate: () => ({}),
      }),
    ).toThrow(TypeError)
    expect(() => createSwitchboard({ port: 0, proxy: { refresh: { url: `${base}/r` } } })).toThrow(
      /needs proxy.connect/,
    )
    expect(() => createSwitchboard({ port: 0, proxy: { rpc: { url: 'file:///etc/passwd' } } })).toThrow(
      /http: or https:/,
    )
  })
})
