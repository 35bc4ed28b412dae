/**
 * The SSE transport against a real server on port 0, spoken by hand as docs/protocol.md describes
 * it: the event stream on fetch, frames POSTed as raw bodies, and a raw TCP reader that stops
 * reading. Covers the handshake checks (Origin, per-IP cap, authenticate), the channel operations,
 * POST validation and limits, close codes carried by the final `close` event, session ids that
 * die with their session, the slow-consumer cut and the drain on `sb.close()`.
 */
import net from 'node:net'
import { type Connection, SwitchboardError } from '@switchboard/server'
import { httpBase, SseClient, serverFixture, until } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'

const { setup, onCleanup } = serverFixture({
  channels: { 'chat:*': { history: 100, clientPublish: true } },
})

async function open(base: string, query = '', headers: Record<string, string> = {}) {
  const c = await SseClient.open(base, query, headers)
  onCleanup(() => c.cut())
  return c
}

describe('SSE transport', () => {
  it('opens a stream: the session event, then hello, with headers that keep proxies from buffering', async () => {
    const { url } = await setup()
    const c = await open(httpBase(url))
    expect(c.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(c.response.headers.get('x-accel-buffering')).toBe('no')
    expect(c.response.headers.get('cache-control')).toContain('no-store')
    const hello = await c.next('hello')
    expect(c.events.slice(0, 2)).toEqual(['session', 'message'])
    expect(hello).toMatchObject({ version: 1, limits: { maxPayload: 65536 } })
    // The session id is a secret of 144 random bits, not the public connection id.
    expect(c.session).toMatch(/^[A-Za-z0-9_-]{24}$/)
    expect(c.session).not.toBe(hello.connectionId)
  })

  it('subscribes, publishes and requests over POSTs, one frame or a batch per body', async () => {
    const { sb, url } = await setup()
    sb.handle('echo', (_conn, data) => ({ echoed: data }))
    const c = await open(httpBase(url))
    await c.next('hello')
    const res = await c.post({ type: 'subscribe', id: '1', channel: 'chat:a' })
    expect(res.status).toBe(204)
    expect(await c.next('reply', (r) => r.id === '1')).toMatchObject({ ok: true, data: { offset: 0 } })
    await c.post([
      { type: 'publish', id: '2', channel: 'chat:a', data: { text: 'hi' } },
      { type: 'request', id: '3', event: 'echo', data: 42 },
      { type: 'ping', id: '4' },
    ])
    expect(await c.next('message')).toMatchObject({ channel: 'chat:a', offset: 1, data: { text: 'hi' } })
    expect(await c.next('reply', (r) => r.id === '2')).toMatchObject({ ok: true, data: { offset: 1 } })
    expect(await c.next('reply', (r) => r.id === '3')).toMatchObject({ ok: true, data: { echoed: 42 } })
    expect(await c.next('pong')).toEqual({ type: 'pong', id: '4' })
    // Server-side publishes and events reach the stream too.
    await sb.publish('chat:a', 'from server')
    expect(await c.next('message')).toMatchObject({ offset: 2, data: 'from server' })
  })

  it('answers invalid JSON in a POST with an error frame, like a bad WebSocket message', async () => {
    const { url } = await setup()
    const c = await open(httpBase(url))
    await c.next('hello')
    expect((await c.post('{"type":')).status).toBe(204)
    expect(await c.next('error')).toMatchObject({ code: 'invalid_json' })
    await c.post('[{"type":"nope"}, 17]')
    expect(await c.next('error')).toMatchObject({ code: 'unknown_type' })
    expect(await c.next('error')).toMatchObject({ code: 'invalid_json' })
    // Forbidden keys are caught alone and inside a batch (which the server re-encodes per frame).
    await c.post('{"type":"publish","id":"x","channel":"chat:a","data":{"__proto__":{"a":1}}}')
    expect(await c.next('error')).toMatchObject({ code: 'invalid_frame' })
    await c.post('[{"type":"publish","channel":"chat:a","data":{"__proto__":{"a":1}}}]')
    expect(await c.next('error')).toMatchObject({ code: 'invalid_frame' })
    expect(c.frames.filter((f) => f.type === 'reply' || f.type === 'message')).toEqual([])
  })

  it('refuses a POST over maxPayload with 413, a frame_too_large error, and closes the session with 1009', async () => {
    const { sb, url } = await setup({ maxPayload: 1024 })
    const closed = new Promise<number>((resolve) => sb.on('disconnect', (_c, { code }) => resolve(code)))
    const c = await open(httpBase(url))
    await c.next('hello')
    const res = await c.post({ type: 'publish', channel: 'chat:a', data: 'x'.repeat(2000) })
    expect(res.status).toBe(413)
    expect(await c.next('error')).toMatchObject({ type: 'error', code: 'frame_too_large' })
    expect(await c.next('close')).toEqual({ type: 'close', code: 1009, reason: 'message too big' })
    expect(c.frames.at(-2)).toMatchObject({ type: 'error', code: 'frame_too_large' })
    expect(await closed).toBe(1009)
    await c.ended
    expect((await c.post({ type: 'ping' })).status).toBe(410)
  })

  it('refuses a body that is not UTF-8 with 400 and closes the session with 1007', async () => {
    const { url } = await setup()
    const c = await open(httpBase(url))
    await c.next('hello')
    const res = await fetch(`${httpBase(url)}/sse/${c.session}`, {
      method: 'POST',
      body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
    })
    expect(res.status).toBe(400)
    expect(await c.next('close')).toMatchObject({ code: 1007 })
  })

  it('answers an unknown session with 404 and a closed one with 410: ids are not reusable', async () => {
    const { url } = await setup()
    const base = httpBase(url)
    const unknown = await fetch(`${base}/sse/AAAAAAAAAAAAAAAAAAAAAAAA`, { method: 'POST', body: '{}' })
    expect(unknown.status).toBe(404)
    expect(await unknown.text()).toBe('unknown session\n')
    const c = await open(base)
    await c.next('hello')
    const del = await fetch(`${base}/sse/${c.session}`, { method: 'DELETE' })
    expect(del.status).toBe(204)
    expect(await c.next('close')).toMatchObject({ code: 1000 })
    await c.ended
    const again = await c.post({ type: 'ping', id: '1' })
    expect(again.status).toBe(410)
    expect(await again.text()).toBe('session closed\n')
    expect((await fetch(`${base}/sse/${c.session}`)).status).toBe(410)
  })

  it('with an Origin allowlist: a foreign or missing Origin gets 403, an allowed one CORS headers', async () => {
    const { sb, url } = await setup({ allowedOrigins: ['https://app.example'] })
    const base = httpBase(url)
    await expect(open(base, '', { origin: 'https://evil.example' })).rejects.toThrow('HTTP 403')
    await expect(open(base, '', { origin: 'https://app.example.evil' })).rejects.toThrow('HTTP 403')
    await expect(open(base)).rejects.toThrow('HTTP 403')
    expect(sb.stats().handshakesRefused).toBe(3)
    // A browser leaves Origin out of a same-origin GET and says so in Sec-Fetch-Site.
    const same = await open(base, '', { 'sec-fetch-site': 'same-origin' })
    expect(same.response.headers.get('access-control-allow-origin')).toBeNull()
    const c = await open(base, '', { origin: 'https://app.example' })
    expect(c.response.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(c.response.headers.get('access-control-allow-credentials')).toBe('true')
    await c.next('hello')
    const foreign = await c.post({ type: 'ping', id: 'f' }, { origin: 'https://evil.example' })
    expect(foreign.status).toBe(403)
    const preflight = await fetch(`${base}/sse/${c.session}`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'DELETE' },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-methods')).toContain('DELETE')
    const ok = await c.post({ type: 'ping', id: 'a' }, { origin: 'https://app.example' })
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(await c.next('pong')).toEqual({ type: 'pong', id: 'a' })
    expect(c.frames.some((f) => f.type === 'pong' && f.id === 'f')).toBe(false)
  })

  it('runs authenticate on the handshake and the per-IP cap counts SSE sessions', async () => {
    const { sb, url } = await setup({
      maxConnectionsPerIp: 1,
      authenticate: (req) => {
        const user = new URL(req.url ?? '/', 'http://x').searchParams.get('user')
        if (!user) throw new SwitchboardError('unauthorized', 'who are you?')
        return { user }
      },
    })
    const base = httpBase(url)
    await expect(open(base)).rejects.toThrow('HTTP 401')
    const seen: Connection[] = []
    sb.on('connection', (conn) => seen.push(conn))
    const c = await open(base, '?user=ada')
    await c.next('hello')
    expect(seen.map((conn) => conn.data)).toEqual([{ user: 'ada' }])
    await expect(open(base, '?user=bob')).rejects.toThrow('HTTP 429')
    c.cut()
    await until(() => sb.connections.size === 0)
    const again = await open(base, '?user=bob')
    await again.next('hello')
  })

  it('a reader that stops reading is cut off as a slow consumer: the session closes with 4100', async () => {
    const { sb, port } = await setup({ maxBufferedBytes: 64 * 1024 })
    const codes: number[] = []
    sb.on('disconnect', (_c, { code }) => codes.push(code))
    const socket = net.connect(port, '127.0.0.1')
    onCleanup(() => socket.destroy())
    socket.on('error', () => {})
    let head = ''
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1')
      if (/data: [A-Za-z0-9_-]{24}\n/.test(head)) socket.pause()
    })
    socket.write('GET /ws/sse HTTP/1.1\r\nHost: localhost\r\n\r\n')
    await until(() => /event: session\ndata: ([A-Za-z0-9_-]{24})\n/.test(head))
    const session = /event: session\ndata: ([A-Za-z0-9_-]{24})\n/.exec(head)![1]!
    const res = await fetch(`${httpBase(`ws://127.0.0.1:${port}/ws`)}/sse/${session}`, {
      method: 'POST',
      body: JSON.stringify({ type: 'subscribe', id: '1', channel: 'chat:flood' }),
    })
    expect(res.status).toBe(204)
    await until(() => sb.channelSize('chat:flood') === 1)
    // A fast reader beside it must not be disturbed.
    const fast = await open(httpBase(`ws://127.0.0.1:${port}/ws`))
    await fast.next('hello')
    await fast.post({ type: 'subscribe', id: '1', channel: 'chat:flood' })
    await fast.next('reply')
    const payload = 'x'.repeat(4096)
    let sent = 0
    const slow = [...sb.connections.values()][0]!
    // The cut closes the session at once; the stream itself may take up to a second to end.
    while (slow.state === 'open' && sent < 20_000) {
      await sb.publish('chat:flood', { n: sent++, payload })
      if (sent % 10 === 0) await new Promise((r) => setImmediate(r))
    }
    await until(() => codes.length > 0, 5_000)
    expect(codes).toEqual([4100])
    await until(() => fast.frames.filter((f) => f.type === 'message').length === sent, 10_000)
    expect(sb.channelSize('chat:flood')).toBe(1)
  })

  it('heartbeat: a client pinging on its own clock stays; a silent one is ended with 4102', async () => {
    const { sb, url } = await setup({ heartbeat: 200 })
    const codes: number[] = []
    sb.on('disconnect', (_c, { code }) => codes.push(code))
    const alive = await open(httpBase(url))
    const silent = await open(httpBase(url))
    await Promise.all([alive.next('hello'), silent.next('hello')])
    // A little slower than the server's ticks, so some tick windows see no ping at all.
    const pinger = setInterval(() => void alive.post({ type: 'ping' }).catch(() => {}), 230)
    onCleanup(() => clearInterval(pinger))
    await new Promise((r) => setTimeout(r, 2000))
    clearInterval(pinger)
    expect(codes).toEqual([4102])
    // Taken for dead, it is dropped without a close event (as a WebSocket without a close frame).
    await silent.ended
    expect(silent.frames.map((f) => f.type)).toEqual(['hello'])
    expect(sb.connections.size).toBe(1)
    // The stream carried heartbeat comments meanwhile (they are not events).
    expect(alive.comments).toBeGreaterThan(0)
    expect(alive.events.filter((e) => e !== 'session' && e !== 'message')).toEqual([])
  })

  it('sb.close() drains SSE sessions: each stream ends with close 1012 and the server stops', async () => {
    const { sb, url } = await setup()
    const a = await open(httpBase(url))
    const b = await open(httpBase(url))
    await Promise.all([a.next('hello'), b.next('hello')])
    const started = Date.now()
    await sb.close({ timeout: 5000 })
    expect(Date.now() - started).toBeLessThan(4000)
    for (const c of [a, b]) {
      expect(await c.next('close')).toEqual({ type: 'close', code: 1012, reason: 'server restarting' })
      await c.ended
    }
  })

  it('is off with transports: { sse: false }; the path then falls through to onRequest', async () => {
    const { url } = await setup({ transports: { sse: false } })
    expect((await fetch(`${httpBase(url)}/sse`)).status).toBe(404)
    expect((await fetch(`${httpBase(url)}/poll`, { method: 'POST' })).status).toBe(200)
  })
})
