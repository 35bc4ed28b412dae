/**
 * The long-polling transport against a real server on port 0, spoken by hand: a POST opens the
 * session, GETs wait for batches (a JSON array, one frame per line), POSTs carry frames. Covers
 * the channel operations, the hold of an empty poll, the close frame, a session that stops
 * polling, the limits and checks it shares with SSE, and the drain on `sb.close()`.
 */

import { httpBase, PollClient, serverFixture } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'

const { setup, onCleanup } = serverFixture({
  channels: { 'chat:*': { history: 100, clientPublish: true } },
})

async function open(base: string, query = '', headers: Record<string, string> = {}) {
  const c = await PollClient.open(base, query, headers)
  onCleanup(() => c.stop())
  return c
}

describe('long-polling transport', () => {
  it('opens with a POST; the first poll brings hello, as a JSON array with one frame per line', async () => {
    const { url } = await setup()
    const c = await open(httpBase(url))
    expect(c.session).toMatch(/^[A-Za-z0-9_-]{24}$/)
    const { status, text } = await c.pollOnce()
    expect(status).toBe(200)
    const lines = text.split('\n')
    expect(lines[0]).toBe('[')
    expect(lines.at(-1)).toBe(']')
    expect(JSON.parse(lines[1]!)).toMatchObject({ type: 'hello', version: 1 })
    expect(c.frames.map((f) => f.type)).toEqual(['hello'])
  })

  it('subscribes, publishes and requests; a burst comes back in one answer', async () => {
    const { sb, url } = await setup()
    sb.handle('echo', (_conn, data) => data)
    const c = await open(httpBase(url))
    await c.pollOnce()
    expect((await c.post({ type: 'subscribe', id: '1', channel: 'chat:a' })).status).toBe(204)
    await c.pollOnce()
    expect(c.frames.at(-1)).toMatchObject({ type: 'reply', id: '1', ok: true })
    await c.post([
      { type: 'publish', id: '2', channel: 'chat:a', data: 'one' },
      { type: 'publish', id: '3', channel: 'chat:a', data: 'two' },
      { type: 'request', id: '4', event: 'echo', data: { x: 1 } },
    ])
    c.start()
    expect(await c.next('reply', (r) => r.id === '4')).toMatchObject({ ok: true, data: { x: 1 } })
    await c.next('reply', (r) => r.id === '3')
    const messages = c.frames.filter((f) => f.type === 'message')
    expect(messages.map((m) => m.type === 'message' && m.data)).toEqual(['one', 'two'])
    await sb.publish('chat:a', 'three')
    expect(await c.next('message', (m) => m.data === 'three')).toMatchObject({ offset: 3 })
  })

  it('holds an empty poll until frames come, or answers [] after the hold', async () => {
    // heartbeat 300 ms: a poll is held at most that long.
    const { sb, url } = await setup({ heartbeat: 300 })
    const c = await open(httpBase(url))
    await c.pollOnce()
    const started = Date.now()
    expect((await c.pollOnce()).text).toBe('[]')
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    const waiting = c.pollOnce()
    await new Promise((r) => setTimeout(r, 50))
    const [conn] = [...sb.connections.values()]
    conn!.send('notice', { text: 'hi' })
    expect((await waiting).status).toBe(200)
    expect(c.frames.at(-1)).toEqual({ type: 'event', event: 'notice', data: { text: 'hi' } })
  })

  it('closes a session that no GET polls within the bound (1006), and its id then answers 410', async () => {
    const { sb, url } = await setup({ heartbeat: 300 })
    const codes: number[] = []
    sb.on('disconnect', (_c, { code }) => codes.push(code))
    const c = await open(httpBase(url))
    await c.pollOnce()
    const stopped = Date.now()
    // It keeps sending (so the heartbeat sees it alive) but no longer polls: the bound is
    // max(heartbeat, 2 s) without a GET waiting.
    const pinger = setInterval(() => void c.post({ type: 'ping' }).catch(() => {}), 100)
    onCleanup(() => clearInterval(pinger))
    await new Promise<void>((resolve) => sb.on('disconnect', () => resolve()))
    clearInterval(pinger)
    expect(codes).toEqual([1006])
    expect(Date.now() - stopped).toBeGreaterThanOrEqual(1900)
    expect(Date.now() - stopped).toBeLessThan(3000)
    expect(sb.connections.size).toBe(0)
    expect((await c.pollOnce()).status).toBe(410)
    expect((await c.post({ type: 'ping' })).status).toBe(410)
  })

  it('a session gone silent is ended by the heartbeat (4102) within three intervals', async () => {
    const { sb, url } = await setup({ heartbeat: 300 })
    const codes: number[] = []
    sb.on('disconnect', (_c, { code }) => codes.push(code))
    const c = await open(httpBase(url))
    await c.pollOnce()
    const stopped = Date.now()
    await new Promise<void>((resolve) => sb.on('disconnect', () => resolve()))
    expect(codes).toEqual([4102])
    expect(Date.now() - stopped).toBeLessThan(1000)
  })

  it('a client that polls and pings on its own clock is never taken for dead by the heartbeat', async () => {
    const { sb, url } = await setup({ heartbeat: 200 })
    const codes: number[] = []
    sb.on('disconnect', (_c, { code }) => codes.push(code))
    const c = await open(httpBase(url))
    c.start()
    await c.next('hello')
    // Pings a little slower than the server's ticks, so some tick windows see none.
    const pinger = setInterval(() => void c.post({ type: 'ping' }).catch(() => {}), 230)
    onCleanup(() => clearInterval(pinger))
    await new Promise((r) => setTimeout(r, 2000))
    clearInterval(pinger)
    expect(codes).toEqual([])
    expect(sb.connections.size).toBe(1)
  })

  it('delivers a close as the last frame, then forgets the session (DELETE closes with 1000)', async () => {
    const { sb, url } = await setup()
    const codes: number[] = []
    sb.on('disconnect', (_c, { code }) => codes.push(code))
    const c = await open(httpBase(url))
    await c.pollOnce()
    expect((await fetch(c.url, { method: 'DELETE' })).status).toBe(204)
    await c.pollOnce()
    expect(c.frames.at(-1)).toEqual({ type: 'close', code: 1000, reason: 'client closed' })
    expect(codes).toEqual([1000])
    expect((await c.pollOnce()).status).toBe(410)
  })

  it('bounds the queue between polls in bytes, not characters: non-ASCII traffic is cut at the same bound', async () => {
    // 1,000 '€' are 1,000 UTF-16 code units but 3,000 bytes: seven such frames queued between
    // polls pass four times a 5,000-byte bound (the hard cap for a client that keeps polling)
    // only when counted in bytes.
    const { sb, url } = await setup({ maxBufferedBytes: 5000 })
    const codes: number[] = []
    sb.on('disconnect', (_c, { code }) => codes.push(code))
    const c = await open(httpBase(url))
    await c.pollOnce()
    await c.post({ type: 'subscribe', id: '1', channel: 'chat:euro' })
    await c.pollOnce()
    for (let i = 0; i < 7; i++) await sb.publish('chat:euro', '€'.repeat(1000))
    await c.pollOnce()
    expect(c.frames.at(-1)).toEqual({ type: 'close', code: 4100, reason: 'slow consumer' })
    expect(codes).toEqual([4100])
  })

  it('a client that keeps polling collects a burst past the bound between two polls; one that stopped is cut', async () => {
    // The model-based test's livelock: a replay past the bound, queued while no poll was held, cut
    // the client on every reconnect. A client that polls collects it all with its next poll.
    const { sb, url } = await setup({ maxBufferedBytes: 5000 })
    const codes: number[] = []
    sb.on('disconnect', (_c, { code }) => codes.push(code))
    const c = await open(httpBase(url))
    await c.pollOnce()
    await c.post({ type: 'subscribe', id: '1', channel: 'chat:burst' })
    await c.pollOnce()
    for (let i = 0; i < 3; i++) await sb.publish('chat:burst', 'x'.repeat(3000))
    await c.pollOnce()
    expect(c.frames.filter((f) => f.type === 'message')).toHaveLength(3)
    expect(codes).toEqual([])
    // Now it stops polling for longer than the grace: the next frame past the bound cuts it.
    await new Promise((r) => setTimeout(r, 2200))
    for (let i = 0; i < 2; i++) await sb.publish('chat:burst', 'x'.repeat(3000))
    await c.pollOnce()
    expect(c.frames.at(-1)).toEqual({ type: 'close', code: 4100, reason: 'slow consumer' })
    expect(codes).toEqual([4100])
  })

  it('refuses a POST over maxPayload with 413, a frame_too_large error and a close with 1009; unknown ids get 404', async () => {
    const { url } = await setup({ maxPayload: 1024 })
    const base = httpBase(url)
    expect((await fetch(`${base}/poll/AAAAAAAAAAAAAAAAAAAAAAAA`)).status).toBe(404)
    const c = await open(base)
    await c.pollOnce()
    expect((await c.post({ type: 'publish', channel: 'chat:a', data: 'x'.repeat(4000) })).status).toBe(413)
    await c.pollOnce()
    expect(c.frames.at(-2)).toMatchObject({ type: 'error', code: 'frame_too_large' })
    expect(c.frames.at(-1)).toEqual({ type: 'close', code: 1009, reason: 'message too big' })
  })

  it('answers invalid JSON with an error frame; a foreign Origin is refused with 403', async () => {
    const { url } = await setup({ allowedOrigins: ['https://app.example'] })
    const base = httpBase(url)
    await expect(open(base, '', { origin: 'https://evil.example' })).rejects.toThrow('HTTP 403')
    const c = await open(base, '', { origin: 'https://app.example' })
    await c.pollOnce()
    await c.post('not json', { origin: 'https://app.example' })
    await c.pollOnce()
    expect(c.frames.at(-1)).toMatchObject({ type: 'error', code: 'invalid_json' })
  })

  it('sb.close() drains poll sessions: a waiting poll gets close 1012 and the server stops', async () => {
    const { sb, url } = await setup()
    const c = await open(httpBase(url))
    await c.pollOnce()
    const waiting = c.pollOnce()
    await new Promise((r) => setTimeout(r, 50))
    const started = Date.now()
    await sb.close({ timeout: 5000 })
    expect(Date.now() - started).toBeLessThan(4000)
    await waiting
    expect(c.frames.at(-1)).toEqual({ type: 'close', code: 1012, reason: 'server restarting' })
  })

  it('sb.close() with no poll waiting: the next poll (a new request) still gets close 1012', async () => {
    const { sb, url } = await setup()
    const c = await open(httpBase(url))
    await c.pollOnce()
    const started = Date.now()
    const closing = sb.close({ timeout: 5000 })
    // The server still listens while it drains: the client's next poll, on a new connection,
    // fetches the close frame, and the drain ends with it rather than at the timeout.
    const fresh = await fetch(c.url, { headers: { connection: 'close' } })
    expect(fresh.status).toBe(200)
    expect(await fresh.json()).toEqual([{ type: 'close', code: 1012, reason: 'server restarting' }])
    await closing
    expect(Date.now() - started).toBeLessThan(4000)
  })
})
