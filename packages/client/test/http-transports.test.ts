/**
 * The whole client — ReconnectingWebSocket, SwitchboardClient, channels with recovery — over the
 * SSE and long-polling sockets, against the real server on port 0, through a TCP proxy that can
 * cut connections and refuse WebSocket upgrades. And the fallback: WebSocket blocked, the client
 * connects over SSE (or long-polling when the server has no SSE), remembers it for reconnects,
 * and a WebSocket that is absent from the runtime is skipped.
 */

import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  fallbackWebSocket,
  LongPollSocket,
  ReconnectingWebSocket,
  type RecoveryInfo,
  SseSocket,
  SwitchboardClient,
  type SwitchboardClientOptions,
  type TransportName,
  type WebSocketConstructor,
} from '@switchboard/client'
import {
  CloseCode,
  encodeCloseFrame,
  encodePollAnswer,
  encodeSessionStart,
  HttpTransportPath,
  httpTransportPath,
  SseEvent,
  SUBPROTOCOL,
} from '@switchboard/protocol'
import { createSwitchboard, type Switchboard, type SwitchboardOptions } from '@switchboard/server'
import { startProxy, type TcpProxy } from '@switchboard/testing'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { until } from './client-states.js'

interface TestApp {
  requests: { echo: { data: { text: string }; reply: { text: string } } }
  events: { notice: { text: string } }
  channels: { [name: `chat:${string}`]: { n: number; text?: string } }
}

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function start(options: SwitchboardOptions<TestApp> = {}) {
  const sb: Switchboard<TestApp> = createSwitchboard<TestApp>({
    port: 0,
    host: '127.0.0.1',
    logger: false,
    channels: { 'chat:*': { history: 100, clientPublish: true } },
    ...options,
  })
  sb.handle('echo', (_conn, data) => data)
  const { port, url } = await sb.ready
  cleanups.push(() => sb.close({ timeout: 300 }))
  const proxy = await startProxy(port)
  cleanups.push(() => proxy.close())
  return { sb, url, proxy }
}

function connect(url: string, options: SwitchboardClientOptions) {
  const client = new SwitchboardClient<TestApp>(url, { backoff: () => 50, ...options })
  cleanups.push(() => client.close())
  return client
}

const used = (proxy: TcpProxy, part: string) => proxy.requests.filter((r) => r.includes(part)).length
/** The open paths under the server's default WebSocket path, `/ws`. */
const SSE_PATH = httpTransportPath('/ws', HttpTransportPath.SSE)
const POLL_PATH = httpTransportPath('/ws', HttpTransportPath.LONG_POLLING)

describe.each<TransportName>(['sse', 'long-polling'])('SwitchboardClient over %s', (transport) => {
  it('connects, requests, publishes, receives channel messages and server events', async () => {
    const { sb, proxy } = await start()
    const client = connect(proxy.url, { transports: [transport] })
    const room = client.channel('chat:a')
    const got: number[] = []
    room.on('publication', ({ data }) => got.push(data.n))
    await new Promise((resolve) => room.once('subscribed', resolve))
    expect(client.state).toBe('connected')
    await expect(client.request('echo', { text: 'hi' })).resolves.toEqual({ text: 'hi' })
    const notices: string[] = []
    client.onEvent('notice', (d) => notices.push(d.text))
    for (const conn of sb.connections.values()) conn.send('notice', { text: 'hello' })
    // Many publishes at once: sent in order, in batched POSTs, each acknowledged once.
    const posts = () => proxy.requests.filter((r) => r.startsWith('POST ')).length
    const postsBefore = posts()
    const acks = await Promise.all(Array.from({ length: 50 }, (_, i) => client.publish('chat:a', { n: i })))
    expect(acks.map((a) => a.offset)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    expect(posts() - postsBefore).toBeLessThan(10)
    await sb.publish('chat:a', { n: 50 })
    await expect.poll(() => got.length).toBe(51)
    expect(got).toEqual(Array.from({ length: 51 }, (_, i) => i))
    expect(notices).toEqual(['hello'])
    expect(used(proxy, transport === 'sse' ? SSE_PATH : POLL_PATH)).toBeGreaterThan(0)
    expect(proxy.requests.some((r) => r === 'GET /ws')).toBe(false)
  })

  it('recovers a channel with `since` after the connection is cut: missed messages once, in order', async () => {
    const { sb, proxy } = await start()
    const client = connect(proxy.url, { transports: [transport] })
    const room = client.channel('chat:resume')
    const got: number[] = []
    room.on('publication', ({ data }) => got.push(data.n))
    const recoveries: RecoveryInfo[] = []
    room.on('recovery', (r) => recoveries.push(r))
    await new Promise((resolve) => room.once('subscribed', resolve))
    for (let n = 1; n <= 3; n++) await sb.publish('chat:resume', { n })
    await expect.poll(() => got).toEqual([1, 2, 3])
    const firstId = client.connectionId
    const reconnecting = until(client, 'reconnecting')
    proxy.cutAll()
    await reconnecting
    for (let n = 4; n <= 6; n++) await sb.publish('chat:resume', { n })
    await until(client, 'connected')
    expect(client.connectionId).not.toBe(firstId)
    await expect.poll(() => room.state).toBe('subscribed')
    await sb.publish('chat:resume', { n: 7 })
    await expect.poll(() => got).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(recoveries).toHaveLength(1)
    expect(recoveries[0]).toMatchObject({ recovered: true, since: { offset: 3 } })
  })

  it('keeps each batched POST within the maxPayload announced in hello', async () => {
    const { sb, proxy } = await start({ maxPayload: 2048 })
    const codes: number[] = []
    sb.on('disconnect', (_c, { code }) => codes.push(code))
    const client = connect(proxy.url, { transports: [transport] })
    await until(client, 'connected')
    const text = 'x'.repeat(300)
    const acks = await Promise.all(
      Array.from({ length: 40 }, (_, i) => client.publish('chat:big', { n: i, text })),
    )
    expect(acks).toHaveLength(40)
    expect(codes).toEqual([])
  })

  it('hears the close code: a terminal close from the server stops reconnecting', async () => {
    const { sb, proxy } = await start()
    const client = connect(proxy.url, { transports: [transport] })
    await until(client, 'connected')
    const closed = new Promise<number | undefined>((resolve) =>
      client.on('state', (s) => s.newState === 'closed' && resolve(s.closeCode)),
    )
    for (const conn of sb.connections.values()) conn.close(4003, 'not you')
    expect(await closed).toBe(4003)
  })
})

describe('SseSocket on its own', () => {
  it('parses a stream that arrives one byte at a time, with CRLF, comments and split UTF-8', async () => {
    const stream = Buffer.from(
      ': hello proxies\r\nevent: session\r\ndata: s1\r\n\r\n' +
        'data: {"type":"hello","text":"h\u00e9llo \u{1F600}"}\n\n:\n\n' +
        'id: 7\nretry: 10\ndata:{"type":"event","event":"e"}\n\n' +
        `event: ${SseEvent.CLOSE}\ndata: ${encodeCloseFrame(CloseCode.RATE_LIMITED, 'slow down')}\n\n`,
    )
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      let i = 0
      const drip = setInterval(() => {
        if (i < stream.length) res.write(stream.subarray(i, ++i))
        else {
          clearInterval(drip)
          res.end()
        }
      }, 1)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise((resolve) => server.close(resolve)))
    const { port } = server.address() as AddressInfo
    const socket = new SseSocket(`ws://127.0.0.1:${port}/ws`)
    const messages: unknown[] = []
    socket.onmessage = (e) => messages.push(JSON.parse(String(e.data)))
    let opened = false
    socket.onopen = () => {
      opened = true
    }
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
      socket.onclose = resolve
    })
    expect(opened).toBe(true)
    expect(messages).toEqual([
      { type: 'hello', text: 'h\u00e9llo \u{1F600}' },
      { type: 'event', event: 'e' },
    ])
    expect(closed).toMatchObject({ code: 4101, reason: 'slow down', wasClean: true })
  })
})

describe('LongPollSocket on its own', () => {
  it('opens with the session start, passes frames on and ends at the close pseudo-frame, in any key order', async () => {
    const paths: string[] = []
    const server = createServer((req, res) => {
      paths.push(`${req.method} ${req.url}`)
      res.writeHead(200, { 'content-type': 'application/json' })
      if (req.method === 'POST') res.end(encodeSessionStart('s1'))
      else
        res.end(
          encodePollAnswer([
            '{"type":"event","event":"e","data":{"type":"close"}}',
            '{ "reason": "slow down", "code": 4101, "type": "close" }',
          ]),
        )
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise((resolve) => server.close(resolve)))
    const { port } = server.address() as AddressInfo
    const socket = new LongPollSocket(`ws://127.0.0.1:${port}/ws?name=a`, SUBPROTOCOL)
    const messages: unknown[] = []
    socket.onmessage = (e) => messages.push(JSON.parse(String(e.data)))
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
      socket.onclose = resolve
    })
    expect(socket.protocol).toBe(SUBPROTOCOL)
    expect(messages).toEqual([{ type: 'event', event: 'e', data: { type: 'close' } }])
    expect(closed).toMatchObject({ code: CloseCode.RATE_LIMITED, reason: 'slow down', wasClean: true })
    expect(paths).toEqual([`POST ${POLL_PATH}?name=a`, `GET ${POLL_PATH}/s1`])
  })
})

describe('transport fallback', () => {
  it('falls back to SSE when a proxy refuses the WebSocket upgrade, and remembers it', async () => {
    const { sb, proxy } = await start()
    proxy.blockWebSocket = true
    const client = connect(proxy.url, { transports: ['websocket', 'sse', 'long-polling'] })
    const room = client.channel('chat:f')
    const got: number[] = []
    room.on('publication', ({ data }) => got.push(data.n))
    await new Promise((resolve) => room.once('subscribed', resolve))
    expect(used(proxy, `GET ${SSE_PATH}`)).toBe(1)
    expect(used(proxy, POLL_PATH)).toBe(0)
    const upgrades = used(proxy, 'GET /ws') - used(proxy, 'GET /ws/')
    expect(upgrades).toBe(1)
    await sb.publish('chat:f', { n: 1 })
    await expect.poll(() => got).toEqual([1])
    // A reconnect goes straight to SSE: no second try of the blocked WebSocket.
    proxy.cutAll()
    await until(client, 'reconnecting')
    await sb.publish('chat:f', { n: 2 })
    await until(client, 'connected')
    await expect.poll(() => got).toEqual([1, 2])
    expect(used(proxy, `GET ${SSE_PATH}`)).toBe(2)
    expect(used(proxy, 'GET /ws') - used(proxy, 'GET /ws/')).toBe(1)
  })

  it('gives up on a WebSocket upgrade that a proxy holds, after its share of connectTimeout', async () => {
    const { proxy } = await start()
    proxy.holdWebSocket = true
    const client = connect(proxy.url, { transports: ['websocket', 'sse'], connectTimeout: 2000 })
    const started = Date.now()
    await until(client, 'connected')
    // Each of the two transports gets 1 s: the held upgrade is abandoned, then SSE opens.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    expect(client.state).toBe('connected')
    expect(used(proxy, `GET ${SSE_PATH}`)).toBe(1)
    await expect(client.request('echo', { text: 'held' })).resolves.toEqual({ text: 'held' })
  })

  it('falls back to long-polling when WebSocket is blocked and the server has no SSE', async () => {
    const { proxy } = await start({ transports: { sse: false } })
    proxy.blockWebSocket = true
    const client = connect(proxy.url, { transports: ['websocket', 'sse', 'long-polling'] })
    await until(client, 'connected')
    await expect(client.request('echo', { text: 'via polling' })).resolves.toEqual({ text: 'via polling' })
    expect(used(proxy, `POST ${POLL_PATH}`)).toBeGreaterThan(0)
  })

  it('uses WebSocket when it works, and only WebSocket', async () => {
    const { proxy } = await start()
    const client = connect(proxy.url, { transports: ['websocket', 'sse', 'long-polling'] })
    await until(client, 'connected')
    await expect(client.request('echo', { text: 'ws' })).resolves.toEqual({ text: 'ws' })
    expect(proxy.requests.filter((r) => r !== 'GET /ws')).toEqual([])
  })

  it('skips a WebSocket the runtime does not have (a ReconnectingWebSocket without one)', async () => {
    const { proxy } = await start()
    const FallbackSocket = fallbackWebSocket(['websocket', 'sse'], undefined, { connectTimeout: 2000 })
    const rws = new ReconnectingWebSocket(proxy.url, {
      WebSocket: FallbackSocket,
      protocols: SUBPROTOCOL,
    })
    cleanups.push(() => rws.close())
    const first = await new Promise<unknown>((resolve) => rws.once('message', (m) => resolve(m.data)))
    expect(JSON.parse(String(first))).toMatchObject({ type: 'hello' })
    expect(rws.protocol).toBe(SUBPROTOCOL)
    expect(used(proxy, `GET ${SSE_PATH}`)).toBe(1)
  })

  it('tries WebSocket again once `retryAfter` has passed since the last open', async () => {
    const { proxy } = await start()
    proxy.blockWebSocket = true
    const ws = WebSocket as unknown as WebSocketConstructor
    const FallbackSocket = fallbackWebSocket(['websocket', 'sse'], ws, {
      connectTimeout: 4000,
      retryAfter: 0,
    })
    const rws = new ReconnectingWebSocket(proxy.url, { WebSocket: FallbackSocket, backoff: () => 20 })
    cleanups.push(() => rws.close())
    await new Promise((resolve) => rws.once('open', resolve))
    const upgrades = () => used(proxy, 'GET /ws') - used(proxy, 'GET /ws/')
    expect(upgrades()).toBe(1)
    proxy.cutAll()
    await new Promise((resolve) => rws.once('open', resolve))
    expect(upgrades()).toBe(2)
    expect(used(proxy, `GET ${SSE_PATH}`)).toBe(2)
  })

  it('an SseSocket to a server that refuses the session fails like a WebSocket: close 1006', async () => {
    const { proxy } = await start({ allowedOrigins: ['https://app.example'] })
    const socket = new SseSocket(proxy.url, SUBPROTOCOL)
    const event = await new Promise<{ code: number; wasClean?: boolean }>((resolve) => {
      socket.onclose = resolve
    })
    expect(event).toMatchObject({ code: 1006, wasClean: false })
    expect(socket.readyState).toBe(3)
  })
})
