// Integration: a real server on port 0, real `ws` clients, the public API only.

import net from 'node:net'
import { SwitchboardError } from '@switchboard/server'
import { connect, serverFixture, until } from '@switchboard/testing'
import { describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { RawClient } from './raw-websocket.js'

const { setup } = serverFixture()
describe('connection', () => {
  it('greets with hello: connection id, heartbeat, limits', async () => {
    const { sb, client } = await setup({ heartbeat: 1234 })
    const ids: string[] = []
    sb.on('connection', (conn) => ids.push(conn.id))
    const c = await client()
    const hello = c.frames[0]
    expect(hello).toMatchObject({ type: 'hello', version: 1, heartbeat: 1234 })
    expect(hello).toMatchObject({ limits: { maxPayload: 65536, maxSubscriptions: 256 } })
    // The default rate limit, so a client can pace itself under it.
    expect(hello).toMatchObject({ limits: { rateLimit: { capacity: 200, refillPerSecond: 100 } } })
    await until(() => ids.length === 1)
    expect(hello?.type === 'hello' && hello.connectionId).toBe(ids[0])
    expect(c.ws.protocol).toBe('switchboard.v1')
  })

  it('announces no rate limit in hello when it is not finite (JSON has no Infinity)', async () => {
    const { client } = await setup({ rateLimit: { capacity: Number.POSITIVE_INFINITY } })
    const c = await client()
    expect(c.frames[0]).toMatchObject({ type: 'hello', limits: { maxPayload: 65536 } })
    expect(c.frames[0]?.type === 'hello' && c.frames[0].limits).not.toHaveProperty('rateLimit')
  })

  it('sends events with conn.send and reports disconnects', async () => {
    const { sb, client } = await setup()
    const gone: Array<{ id: string; code: number }> = []
    sb.on('connection', (conn) => conn.send('notice', { text: 'welcome' }))
    sb.on('disconnect', (conn, { code }) => gone.push({ id: conn.id, code }))
    const c = await client()
    expect(await c.next('event')).toEqual({ type: 'event', event: 'notice', data: { text: 'welcome' } })
    c.ws.close(1000)
    await until(() => gone.length === 1)
    expect(gone[0]!.code).toBe(1000)
    expect(sb.connections.size).toBe(0)
  })

  it('answers ping with pong, invalid JSON and unknown types with error frames', async () => {
    const { client } = await setup()
    const c = await client()
    c.send({ type: 'ping', id: 'p1' })
    expect(await c.next('pong')).toEqual({ type: 'pong', id: 'p1' })
    c.send('{"type":')
    expect(await c.next('error')).toMatchObject({ code: 'invalid_json' })
    c.send({ type: 'shout', id: 'x' })
    expect(await c.next('error')).toMatchObject({ code: 'unknown_type', id: 'x' })
  })

  it('closes with 1008 after repeated invalid frames', async () => {
    const { client } = await setup({ maxProtocolErrors: 4 })
    const c = await client()
    for (let i = 0; i < 10; i++) c.send('nope')
    expect((await c.closed).code).toBe(1008)
  })

  it('tolerates maxProtocolErrors (default 10) invalid frames in a burst, and closes on the next with 1008', async () => {
    const { client } = await setup()
    const c = await client()
    for (let i = 0; i < 10; i++) c.send('nope')
    c.send({ type: 'ping', id: 'alive' })
    expect(await c.next('pong')).toEqual({ type: 'pong', id: 'alive' })
    expect(c.frames.filter((f) => f.type === 'error')).toHaveLength(10)
    expect(c.ws.readyState).toBe(c.ws.OPEN)
    c.send('nope')
    expect((await c.closed).code).toBe(1008)
    expect(c.frames.filter((f) => f.type === 'error')).toHaveLength(11)
  })

  it('closes binary messages with 1003', async () => {
    const { client } = await setup()
    const c = await client()
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true })
    expect((await c.closed).code).toBe(1003)
  })

  it('closes a message over maxPayload with 1009', async () => {
    const { client } = await setup({ maxPayload: 1024 })
    const c = await client()
    c.send({ type: 'request', event: 'x', data: 'y'.repeat(2000) })
    expect((await c.closed).code).toBe(1009)
  })

  it('refuses over the rate limit, then closes with 4101', async () => {
    const { client } = await setup({ rateLimit: { capacity: 5, refillPerSecond: 1 } })
    const c = await client()
    for (let i = 0; i < 20; i++) c.send({ type: 'ping', id: String(i) })
    const refused = await c.next('reply', (r) => !r.ok)
    expect(refused).toMatchObject({ ok: false, error: { code: 'rate_limited' } })
    expect((await c.closed).code).toBe(4101)
    expect(c.frames.filter((f) => f.type === 'pong')).toHaveLength(5)
  })

  it('drops a peer that misses heartbeats, with 4102', async () => {
    const { sb, port } = await setup({ heartbeat: 50 })
    const codes: number[] = []
    sb.on('disconnect', (_c, { code }) => codes.push(code))
    // A raw client never answers pings.
    const raw = await RawClient.open(port)
    await until(() => codes.length === 1)
    raw.socket.destroy()
    expect(codes[0]).toBe(4102)
  })

  it('keeps answering peers alive across heartbeats', async () => {
    const { client } = await setup({ heartbeat: 150 })
    const c = await client()
    await new Promise((r) => setTimeout(r, 500))
    c.send({ type: 'ping', id: 'still' })
    expect(await c.next('pong')).toEqual({ type: 'pong', id: 'still' })
  })

  it('authenticates on the handshake: data on conn.data, refusal with 401', async () => {
    const { sb, url } = await setup({
      authenticate: (req) => {
        const token = new URL(req.url ?? '', 'http://x').searchParams.get('token')
        if (token !== 'good') throw new Error('bad token')
        return { user: 'ada' }
      },
    })
    const seen: unknown[] = []
    sb.on('connection', (conn) => seen.push(conn.data))
    await expect(connect(`${url}?token=bad`)).rejects.toThrow('HTTP 401')
    const c = await connect(`${url}?token=good`)
    await until(() => seen.length === 1)
    expect(seen[0]).toEqual({ user: 'ada' })
    c.ws.close()
  })
})

describe('requests', () => {
  it('validates with a Standard Schema and replies with the handler result', async () => {
    const { sb, client } = await setup()
    sb.handle('sum', z.object({ a: z.number(), b: z.number() }), (_conn, { a, b }) => ({ sum: a + b }))
    const c = await client()
    c.send({ type: 'request', id: '1', event: 'sum', data: { a: 2, b: 3 } })
    expect(await c.next('reply')).toEqual({ type: 'reply', id: '1', ok: true, data: { sum: 5 } })
    c.send({ type: 'request', id: '2', event: 'sum', data: { a: 'x' } })
    const bad = await c.next('reply')
    expect(bad).toMatchObject({ id: '2', ok: false, error: { code: 'invalid_payload' } })
    expect(bad.ok === false && bad.error.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: ['a'] }),
        expect.objectContaining({ path: ['b'] }),
      ]),
    )
  })

  it('supports async validators', async () => {
    const { sb, client } = await setup()
    const schema = z.string().refine(async (s) => s.startsWith('ok'), 'must start with ok')
    sb.handle('async', schema, async (_conn, s) => s.length)
    const c = await client()
    c.send({ type: 'request', id: '1', event: 'async', data: 'okay' })
    expect(await c.next('reply')).toMatchObject({ ok: true, data: 4 })
    c.send({ type: 'request', id: '2', event: 'async', data: 'nope' })
    expect(await c.next('reply')).toMatchObject({ ok: false, error: { code: 'invalid_payload' } })
  })

  it('maps errors: unknown event, SwitchboardError codes, internal without a leak', async () => {
    const { sb, client } = await setup()
    sb.handle('deny', () => {
      throw new SwitchboardError('forbidden', 'not you', { why: 'role' })
    })
    sb.handle('crash', () => {
      throw new Error('password=hunter2')
    })
    const c = await client()
    c.send({ type: 'request', id: '1', event: 'nope' })
    expect(await c.next('reply')).toMatchObject({ id: '1', ok: false, error: { code: 'unknown_event' } })
    c.send({ type: 'request', id: '2', event: 'deny' })
    expect(await c.next('reply')).toMatchObject({
      id: '2',
      error: { code: 'forbidden', message: 'not you', details: { why: 'role' } },
    })
    c.send({ type: 'request', id: '3', event: 'crash' })
    const crash = await c.next('reply')
    expect(crash).toMatchObject({ id: '3', error: { code: 'internal' } })
    expect(JSON.stringify(crash)).not.toContain('hunter2')
    // The same from handlers that answer later: a rejected promise, and a thenable.
    sb.handle('late-deny', async () => {
      await new Promise((r) => setTimeout(r, 5))
      throw new SwitchboardError('forbidden', 'not you either')
    })
    // biome-ignore lint/suspicious/noThenProperty: a thenable on purpose, as some libraries return
    sb.handle('thenable', () => ({ then: (resolve: (v: unknown) => void) => resolve({ via: 'then' }) }))
    c.send({ type: 'request', id: '4', event: 'late-deny' })
    expect(await c.next('reply')).toMatchObject({
      id: '4',
      error: { code: 'forbidden', message: 'not you either' },
    })
    c.send({ type: 'request', id: '5', event: 'thenable' })
    expect(await c.next('reply')).toMatchObject({ id: '5', ok: true, data: { via: 'then' } })
  })

  it('runs fire-and-forget requests and caps requests in flight', async () => {
    const { sb, client } = await setup({ maxPendingRequests: 2 })
    let release: () => void = () => {}
    const gate = new Promise<void>((r) => {
      release = r
    })
    let calls = 0
    sb.handle('slow', async () => {
      calls++
      await gate
      return 'done'
    })
    const c = await client()
    c.send({ type: 'request', event: 'slow' })
    c.send({ type: 'request', id: 'a', event: 'slow' })
    c.send({ type: 'request', id: 'b', event: 'slow' })
    expect(await c.next('reply')).toMatchObject({ id: 'b', ok: false, error: { code: 'limit_exceeded' } })
    release()
    expect(await c.next('reply')).toMatchObject({ id: 'a', ok: true, data: 'done' })
    expect(calls).toBe(2)
  })
})

describe('channels', () => {
  it('delivers to every subscriber with epoch and offset; except skips one', async () => {
    const { sb, client } = await setup()
    const a = await client()
    const b = await client()
    a.send({ type: 'subscribe', id: 's', channel: 'news' })
    b.send({ type: 'subscribe', id: 's', channel: 'news' })
    const ra = await a.next('reply')
    await b.next('reply')
    expect(ra).toMatchObject({ ok: true, data: { offset: 0 } })
    const epoch = ra.ok ? (ra.data as { epoch: string }).epoch : ''
    expect(sb.channelSize('news')).toBe(2)

    expect(await sb.publish('news', { n: 1 })).toEqual({ epoch, offset: 1 })
    expect(await a.next('message')).toEqual({
      type: 'message',
      channel: 'news',
      epoch,
      offset: 1,
      data: { n: 1 },
    })
    expect(await b.next('message')).toMatchObject({ offset: 1 })

    const aId = [...sb.connections.values()].find((c) => c.subscriptions.has('news'))!.id
    await sb.publish('news', { n: 2 }, { except: aId })
    await sb.publish('news', { n: 3 })
    expect(await b.next('message')).toMatchObject({ offset: 2, data: { n: 2 } })
    expect(await a.next('message')).toMatchObject({ offset: 3 })
  })

  it('unsubscribes; unknown subscriptions answer not_subscribed', async () => {
    const { sb, client } = await setup()
    const c = await client()
    c.send({ type: 'subscribe', id: '1', channel: 'x' })
    await c.next('reply')
    c.send({ type: 'unsubscribe', id: '2', channel: 'x' })
    expect(await c.next('reply')).toEqual({ type: 'reply', id: '2', ok: true })
    expect(sb.channelSize('x')).toBe(0)
    c.send({ type: 'unsubscribe', id: '3', channel: 'x' })
    expect(await c.next('reply')).toMatchObject({ id: '3', ok: false, error: { code: 'not_subscribed' } })
  })

  it('lets clients publish only where clientPublish allows; acks after the broker accepted', async () => {
    const { client } = await setup({ channels: { 'chat:*': { clientPublish: true } } })
    const c = await client()
    c.send({ type: 'publish', id: '1', channel: 'news', data: 'hi' })
    expect(await c.next('reply')).toMatchObject({ id: '1', ok: false, error: { code: 'forbidden' } })
    c.send({ type: 'subscribe', id: '2', channel: 'chat:room' })
    await c.next('reply')
    c.send({ type: 'publish', id: '3', channel: 'chat:room', data: 'hi' })
    const ack = await c.next('reply', (r) => r.id === '3')
    expect(ack).toMatchObject({ ok: true, data: { offset: 1 } })
    expect(await c.next('message')).toMatchObject({ channel: 'chat:room', offset: 1, data: 'hi' })
    // The same idempotency key lands once and gets the first reply again.
    c.send({ type: 'publish', id: '4', channel: 'chat:room', data: 'again', key: 'k1' })
    c.send({ type: 'publish', id: '5', channel: 'chat:room', data: 'again', key: 'k1' })
    const r4 = await c.next('reply', (r) => r.id === '4')
    const r5 = await c.next('reply', (r) => r.id === '5')
    expect(r5).toEqual({ ...r4, id: '5' })
    await new Promise((r) => setTimeout(r, 50))
    expect(c.frames.filter((f) => f.type === 'message')).toHaveLength(2)
  })

  it('validates channel names and caps subscriptions per connection', async () => {
    const { client } = await setup({ maxSubscriptions: 2 })
    const c = await client()
    c.send({ type: 'subscribe', id: 'bad', channel: 'chat:*' })
    expect(await c.next('error')).toMatchObject({ code: 'invalid_channel', id: 'bad' })
    for (const id of ['1', '2', '3']) c.send({ type: 'subscribe', id, channel: `c${id}` })
    expect(await c.next('reply', (r) => r.id === '3')).toMatchObject({
      ok: false,
      error: { code: 'limit_exceeded' },
    })
    c.send({ type: 'subscribe', id: '4', channel: 'c1' })
    expect(await c.next('reply', (r) => r.id === '4')).toMatchObject({ ok: true })
  })

  it('answers a subscribe from an unknown epoch as not recovered, with the current position', async () => {
    const { client } = await setup({ channels: { h: { history: 10 } } })
    const c = await client()
    c.send({ type: 'subscribe', id: '1', channel: 'h', since: { epoch: 'old', offset: 3 } })
    expect(await c.next('reply')).toMatchObject({ ok: true, data: { offset: 0, recovered: false } })
  })

  it('applies authorize hooks', async () => {
    const { client } = await setup({
      channels: { '*': { clientPublish: true } },
      authorize: { subscribe: (_c, ch) => ch !== 'secret', publish: (_c, _ch, data) => data !== 'bad' },
    })
    const c = await client()
    c.send({ type: 'subscribe', id: '1', channel: 'secret' })
    expect(await c.next('reply')).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    c.send({ type: 'publish', id: '2', channel: 'open', data: 'bad' })
    expect(await c.next('reply')).toMatchObject({ ok: false, error: { code: 'forbidden' } })
  })

  it('tracks presence: members in the reply, join and leave frames to the subscribers', async () => {
    const { client } = await setup({ channels: { 'room:*': { presence: { grace: 0 } } } })
    const a = await client()
    const b = await client()
    const idOf = (c: typeof a) => (c.frames[0]?.type === 'hello' ? c.frames[0].connectionId : '')
    a.send({ type: 'subscribe', id: '1', channel: 'room:1' })
    await a.next('reply')
    b.send({ type: 'subscribe', id: '1', channel: 'room:1' })
    const rb = await b.next('reply')
    expect(rb.ok && (rb.data as { members: unknown[] }).members).toHaveLength(2)
    // Without a presence(conn) option a connection is its own user.
    const bJoined = (f: { joins?: Array<{ userId: string }> }) =>
      f.joins?.some((u) => u.userId === idOf(b)) === true
    expect(await a.next('presence', bJoined)).toMatchObject({ channel: 'room:1' })
    b.ws.close()
    expect(await a.next('presence', (f) => f.leaves !== undefined)).toMatchObject({
      leaves: [{ userId: idOf(b), connections: 0 }],
    })
  })

  it('subscribes connections from the server side', async () => {
    const { sb, client } = await setup()
    sb.on('connection', (conn) => void sb.subscribe(conn, 'lobby'))
    const c = await client()
    await until(() => sb.channelSize('lobby') === 1)
    await sb.publish('lobby', 'hello')
    expect(await c.next('message')).toMatchObject({ channel: 'lobby', data: 'hello' })
  })

  it('server-side subscribe and unsubscribe both refuse a connection that is not open here', async () => {
    const { sb, client } = await setup()
    const c = await client()
    await until(() => sb.connections.size === 1)
    const conn = [...sb.connections.values()][0]!
    c.ws.close(1000)
    await until(() => sb.connections.size === 0)
    await expect(sb.subscribe(conn, 'lobby')).rejects.toThrow(TypeError)
    await expect(sb.unsubscribe(conn, 'lobby')).rejects.toThrow(TypeError)
  })

  it('on() returns a function that removes the listener', async () => {
    const { sb, client } = await setup()
    const seen: string[] = []
    const stop = sb.on('connection', (conn) => seen.push(conn.id))
    await client()
    await until(() => seen.length === 1)
    stop()
    await client()
    await until(() => sb.connections.size === 2)
    expect(seen).toHaveLength(1)
  })

  it('sends one WebSocket frame per message: many publishes in one turn arrive intact and in order', async () => {
    const { sb, client } = await setup()
    const c = await client()
    c.send({ type: 'subscribe', id: '1', channel: 'burst' })
    await c.next('reply')
    await Promise.all(Array.from({ length: 200 }, (_, i) => sb.publish('burst', i)))
    await until(() => c.frames.filter((f) => f.type === 'message').length === 200)
    const offsets = c.frames.flatMap((f) => (f.type === 'message' ? [f.offset] : []))
    expect(offsets).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))
  })
})

describe('hot path', () => {
  it('encodes a publish once for all subscribers, and writes each connection’s burst in one write', async () => {
    const { sb, client } = await setup()
    const subs = await Promise.all([client(), client(), client()])
    for (const c of subs) c.send({ type: 'subscribe', id: 's', channel: 'fan' })
    await Promise.all(subs.map((c) => c.next('reply')))

    const stringify = vi.spyOn(JSON, 'stringify')
    const writes = vi.spyOn(net.Socket.prototype, 'write')
    await sb.publish('fan', { n: 1 })
    const encodings = stringify.mock.calls.length
    stringify.mockRestore()
    for (let i = 2; i <= 50; i++) void sb.publish('fan', { n: i })
    await Promise.all(
      subs.map((c) => until(() => c.frames.filter((f) => f.type === 'message').length === 50)),
    )
    const socketWrites = writes.mock.calls.length
    writes.mockRestore()

    expect(encodings).toBe(1)
    // 50 messages x 3 subscribers, yet one write per connection and turn: the first publish went
    // out in a turn of its own, the other 49 together.
    expect(socketWrites).toBeGreaterThanOrEqual(3)
    expect(socketWrites).toBeLessThanOrEqual(2 * 3)
  })
})

describe('http and shutdown', () => {
  it('answers /healthz and other paths over plain HTTP', async () => {
    const { port } = await setup({
      onRequest: (_req, res) => {
        res.end('app')
      },
    })
    const health = await fetch(`http://127.0.0.1:${port}/healthz`)
    expect(health.status).toBe(200)
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('app')
  })

  it('closes every connection with 1012 and stops listening', async () => {
    const { sb, port, client } = await setup()
    const a = await client()
    const b = await client()
    sb.on('connection', () => {})
    await sb.close({ timeout: 2000 })
    expect((await a.closed).code).toBe(1012)
    expect((await b.closed).code).toBe(1012)
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow()
  })

  it('force-closes after the timeout when a client does not finish the close handshake', async () => {
    const { sb, port } = await setup()
    // A raw client that never reads, so never answers the close frame.
    const raw = await RawClient.open(port)
    await until(() => sb.connections.size === 1)
    raw.socket.pause()
    const started = Date.now()
    await sb.close({ timeout: 200 })
    expect(Date.now() - started).toBeLessThan(2000)
    expect(sb.connections.size).toBe(0)
    raw.socket.destroy()
  })
})
