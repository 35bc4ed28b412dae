/**
 * ReconnectingWebSocket against a plain `ws` WebSocketServer (no Switchboard protocol): it must
 * work with any WebSocket server. The server is stopped and started again on the same port.
 */
import type { AddressInfo } from 'node:net'
import { ReconnectingWebSocket } from '@switchboard/client'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'

function echoServer(port = 0): Promise<WebSocketServer> {
  return new Promise((resolve) => {
    const wss: WebSocketServer = new WebSocketServer({ port }, () => resolve(wss))
    wss.on('connection', (ws) => {
      ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `echo:${data.toString()}`))
    })
  })
}

function stop(wss: WebSocketServer, code = 1012): Promise<void> {
  for (const client of wss.clients) client.close(code, 'restart')
  return new Promise((resolve) => wss.close(() => resolve()))
}

function next<T>(
  rws: ReconnectingWebSocket,
  event: 'open' | 'message' | 'close' | 'reconnecting',
): Promise<T> {
  return new Promise((resolve) => rws.once(event, (e) => resolve(e as T)))
}

const open: ReconnectingWebSocket[] = []
const servers: WebSocketServer[] = []
afterEach(async () => {
  for (const rws of open.splice(0)) rws.close()
  await Promise.all(servers.splice(0).map((s) => stop(s, 1001)))
})

describe('ReconnectingWebSocket with a plain ws server', () => {
  it('sends, receives, survives a server restart on the same port and flushes what was sent offline', async () => {
    const first = await echoServer()
    const { port } = first.address() as AddressInfo
    const rws = new ReconnectingWebSocket(`ws://127.0.0.1:${port}`, { backoff: () => 20, minUptime: 50 })
    open.push(rws)
    await next(rws, 'open')
    expect(rws.state).toBe('open')
    const echoed = next<{ data: unknown }>(rws, 'message')
    rws.send('hi')
    expect((await echoed).data).toBe('echo:hi')

    const closed = next<{ code: number }>(rws, 'close')
    await stop(first)
    expect((await closed).code).toBe(1012)
    expect(rws.state).toBe('reconnecting')
    expect(rws.send('while-offline-1')).toBe(true)
    expect(rws.send('while-offline-2')).toBe(true)

    const second = await echoServer(port)
    servers.push(second)
    const got: unknown[] = []
    rws.on('message', (m) => got.push(m.data))
    await next(rws, 'open')
    await expect.poll(() => got).toEqual(['echo:while-offline-1', 'echo:while-offline-2'])
  })

  it('does not reconnect after the server closes with a terminal code', async () => {
    const wss = await echoServer()
    servers.push(wss)
    wss.on('connection', (ws) => ws.close(4001, 'no token'))
    const { port } = wss.address() as AddressInfo
    const rws = new ReconnectingWebSocket(`ws://127.0.0.1:${port}`, { backoff: () => 10 })
    open.push(rws)
    const closed = await next<{ code: number; reason: string }>(rws, 'close')
    expect(closed).toMatchObject({ code: 4001, reason: 'no token' })
    expect(rws.state).toBe('closed')
    await new Promise((r) => setTimeout(r, 100))
    expect(wss.clients.size).toBe(0)
  })

  it('gives up with maxRetriesReached when nothing listens', async () => {
    const wss = await echoServer()
    const { port } = wss.address() as AddressInfo
    await stop(wss)
    const rws = new ReconnectingWebSocket(`ws://127.0.0.1:${port}`, { backoff: () => 5, maxAttempts: 3 })
    open.push(rws)
    const attempts: number[] = []
    rws.on('reconnecting', (e) => attempts.push(e.attempt))
    const done = await new Promise<{ attempts: number }>((resolve) => rws.once('maxRetriesReached', resolve))
    expect(done.attempts).toBe(3)
    expect(attempts).toEqual([1, 2, 3])
    expect(rws.state).toBe('closed')
  })
})
