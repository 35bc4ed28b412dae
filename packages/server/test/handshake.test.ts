// Malformed and hostile handshakes: malformed upgrades get plain HTTP answers,
// fast, and the server keeps serving.
import { createServer } from 'node:http'
import { createSwitchboard } from '@switchboard/server'
import { connect, startServer } from '@switchboard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RawClient } from './raw-websocket.js'

let server: Awaited<ReturnType<typeof startServer>>

beforeAll(async () => {
  server = await startServer({ allowedOrigins: ['https://app.example'], maxConnectionsPerIp: 3 })
})
afterAll(() => server.sb.close({ timeout: 500 }))

async function statusOf(request: string): Promise<number> {
  const raw = await RawClient.open(server.port, request)
  const status = await raw.status()
  raw.socket.destroy()
  return status
}

const origin = { Origin: 'https://app.example' }

describe('handshake', () => {
  it('accepts a good handshake with the subprotocol', async () => {
    expect(await statusOf(RawClient.handshake('/ws', origin))).toBe(101)
  })

  it('refuses non-GET and a missing or malformed key with 400; a wrong version with 426', async () => {
    expect(await statusOf(RawClient.handshake('/ws', origin).replace(/^GET/, 'POST'))).toBe(400)
    expect(await statusOf(RawClient.handshake('/ws', { ...origin, 'Sec-WebSocket-Key': '' }))).toBe(400)
    expect(await statusOf(RawClient.handshake('/ws', { ...origin, 'Sec-WebSocket-Key': 'short' }))).toBe(400)
    const raw = await RawClient.open(
      server.port,
      RawClient.handshake('/ws', { ...origin, 'Sec-WebSocket-Version': '8' }),
    )
    expect(await raw.status()).toBe(426)
    expect(raw.response).toMatch(/Sec-WebSocket-Version: 13/i)
    raw.socket.destroy()
  })

  it('answers an unknown path with 404', async () => {
    expect(await statusOf(RawClient.handshake('/elsewhere', origin))).toBe(404)
  })

  it('enforces the Origin allowlist by exact match', async () => {
    for (const o of ['https://evil.example', 'https://app.example.evil.com', 'https://app.exampl', 'null']) {
      expect(await statusOf(RawClient.handshake('/ws', { Origin: o }))).toBe(403)
    }
    expect(await statusOf(RawClient.handshake('/ws'))).toBe(403) // no Origin at all
  })

  it('negotiates the subprotocol: none offered is fine, only others is 400', async () => {
    expect(await statusOf(RawClient.handshake('/ws', { ...origin, 'Sec-WebSocket-Protocol': '' }))).toBe(101)
    expect(
      await statusOf(RawClient.handshake('/ws', { ...origin, 'Sec-WebSocket-Protocol': 'chat, mqtt' })),
    ).toBe(400)
    expect(
      await statusOf(
        RawClient.handshake('/ws', { ...origin, 'Sec-WebSocket-Protocol': '__proto__, constructor' }),
      ),
    ).toBe(400)
    expect(
      await statusOf(
        RawClient.handshake('/ws', { ...origin, 'Sec-WebSocket-Protocol': 'mqtt, switchboard.v1' }),
      ),
    ).toBe(101)
  })

  it('answers a Sec-WebSocket-Protocol of thousands of commas and spaces fast (ReDoS)', async () => {
    const evil = `a${', '.repeat(6000)}b`
    const started = Date.now()
    const status = await statusOf(RawClient.handshake('/ws', { ...origin, 'Sec-WebSocket-Protocol': evil }))
    expect(status).toBe(400)
    expect(Date.now() - started).toBeLessThan(500)
  })

  it('survives more headers than the limit (Upgrade lost) with a 4xx', async () => {
    const many = Object.fromEntries(Array.from({ length: 2100 }, (_, i) => [`X-H${i}`, 'v']))
    const status = await statusOf(RawClient.handshake('/ws', { ...many, ...origin }))
    expect(status).toBeGreaterThanOrEqual(400)
    expect(status).toBeLessThan(500)
  })

  it('caps connections per IP with 429', async () => {
    const open = await Promise.all(
      [0, 1, 2].map(() => RawClient.open(server.port, RawClient.handshake('/ws', origin))),
    )
    for (const raw of open) expect(await raw.status()).toBe(101)
    expect(await statusOf(RawClient.handshake('/ws', origin))).toBe(429)
    expect(server.sb.stats().handshakesRefused).toBeGreaterThan(0)
    for (const raw of open) raw.socket.destroy()
    await new Promise((r) => setTimeout(r, 50))
    expect(await statusOf(RawClient.handshake('/ws', origin))).toBe(101)
  })
})

describe('attaching to an existing server', () => {
  it('serves WebSocket on its path and leaves the server’s own requests alone', async () => {
    const http = createServer((_req, res) => res.end('mine'))
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
    const sb = createSwitchboard({ server: http, path: '/live', logger: false })
    const { port, url } = await sb.ready
    expect(url).toBe(`ws://127.0.0.1:${port}/live`)
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('mine')
    const c = await connect(url)
    expect(c.frames[0]?.type).toBe('hello')
    await sb.close({ timeout: 500 })
    expect((await c.closed).code).toBe(1012)
    expect(http.listening).toBe(true)
    await new Promise((r) => http.close(r))
  })
})
