// Slow requests are dropped on time: a handshake whose headers never finish (slowloris) within
// `headersTimeout`, a request body that never ends within `requestTimeout` — not at Node's 30 s
// check interval. Run with small values; the defaults (10 s, 30 s) are the same code path.
import net from 'node:net'
import { httpBase, PollClient, startServer } from '@switchboard/testing'
import { afterEach, describe, expect, it } from 'vitest'

const servers: Array<Awaited<ReturnType<typeof startServer>>> = []
afterEach(async () => {
  for (const s of servers.splice(0)) await s.sb.close({ timeout: 200 })
})

/** Milliseconds until the server closes `socket` (what it writes, a 408, is read and dropped). */
function closedAfter(socket: net.Socket, started: number): Promise<number> {
  socket.resume()
  return new Promise((resolve) => socket.once('close', () => resolve(Date.now() - started)))
}

describe('request timeouts', () => {
  it('drops a handshake whose headers never finish after headersTimeout', async () => {
    const server = await startServer({ headersTimeout: 600, requestTimeout: 1500 })
    servers.push(server)
    expect(server.sb.server.headersTimeout).toBe(600)
    const socket = net.connect(server.port, '127.0.0.1')
    socket.on('error', () => {})
    const started = Date.now()
    socket.write('GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n')
    const ms = await closedAfter(socket, started)
    expect(ms).toBeGreaterThanOrEqual(500)
    expect(ms).toBeLessThan(2500)
  })

  it('drops a POST body that never ends after requestTimeout', async () => {
    const server = await startServer({ headersTimeout: 600, requestTimeout: 1500 })
    servers.push(server)
    const session = await PollClient.open(httpBase(server.url))
    const { pathname } = new URL(session.url)
    const socket = net.connect(server.port, '127.0.0.1')
    socket.on('error', () => {})
    const started = Date.now()
    socket.write(`POST ${pathname} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n`)
    const trickle = setInterval(() => socket.write('1\r\n \r\n'), 100)
    const ms = await closedAfter(socket, started).finally(() => clearInterval(trickle))
    expect(ms).toBeGreaterThanOrEqual(1400)
    expect(ms).toBeLessThan(3500)
    await session.dispose()
  })

  it('defaults to 10 s for headers and 30 s for a request on a created server', async () => {
    const server = await startServer()
    servers.push(server)
    expect(server.sb.server.headersTimeout).toBe(10_000)
    expect(server.sb.server.requestTimeout).toBe(30_000)
  })
})
