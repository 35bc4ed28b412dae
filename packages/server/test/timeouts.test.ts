// Slow requests are dropped on time: a handshake whose headers never finish (slowloris) within
// `headersTimeout`, a request body that never ends within `requestTimeout` — not at Node's 30 s
// check interval. Run with small values; the defaults (10 s, 30 s) are the same code path.
import net from 'node:net'
import { httpBase, PollClient, serverFixture } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'

const { setup } = serverFixture()

/** Milliseconds until the server closes `socket` (what it writes, a 408, is read and dropped). */
function closedAfter(socket: net.Socket, started: number): Promise<number> {
  socket.resume()
  return new Promise((resolve) => socket.once('close', () => resolve(Date.now() - started)))
}

describe('request timeouts', () => {
  it('drops a handshake whose headers never finish after headersTimeout', async () => {
    const server = await setup({ headersTimeout: 600, requestTimeout: 1500 })
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
    const server = await setup({ headersTimeout: 600, requestTimeout: 1500 })
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
    const server = await setup()
    expect(server.sb.server.headersTimeout).toBe(10_000)
    expect(server.sb.server.requestTimeout).toBe(30_000)
  })
})

describe('an oversized body', () => {
  it('streamed past maxPayload by a client that reads only once it has sent it all gets its 413', async () => {
    const server = await setup({ maxPayload: 1024 })
    const session = await PollClient.open(httpBase(server.url))
    const { pathname } = new URL(session.url)
    const socket = net.connect(server.port, '127.0.0.1')
    const errors: string[] = []
    socket.on('error', (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message))
    await new Promise((resolve) => socket.once('connect', resolve))
    socket.pause()
    // 20 MiB in 1 KiB chunks, written as fast as the socket takes them, answer unread meanwhile:
    // a server that closed at once would reset the connection and the answer with it.
    socket.write(`POST ${pathname} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n`)
    const chunk = `400\r\n${'x'.repeat(1024)}\r\n`
    for (let i = 0; i < 20_000; i++) socket.write(chunk)
    socket.end('0\r\n\r\n')
    await new Promise((resolve) => socket.once('finish', resolve))
    let answer = ''
    socket.on('data', (d) => {
      answer += d
    })
    socket.resume()
    await new Promise((resolve) => socket.once('close', resolve))
    expect(errors).toEqual([])
    expect(answer).toMatch(/^HTTP\/1\.1 413/)
    await session.dispose()
  })
})
