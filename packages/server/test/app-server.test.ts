// Switchboard attached to the app's own HTTP server (`server` option): WebSocket, SSE and
// long-polling all work on it, every other request still reaches the app's handler, and `close`
// hands the server back to the app as it was.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createSwitchboard } from '@switchboard/server'
import { connect, PollClient, SseClient } from '@switchboard/testing'
import { afterEach, expect, it } from 'vitest'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function appServer() {
  const seen: string[] = []
  const app = (req: IncomingMessage, res: ServerResponse) => {
    seen.push(`${req.method} ${req.url}`)
    res.writeHead(200, { 'content-type': 'text/plain' }).end('from the app')
  }
  const server = createServer(app)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => new Promise((resolve) => server.close(resolve)))
  const { port } = server.address() as AddressInfo
  const sb = createSwitchboard({ server, logger: false, channels: { 'news:*': { history: 10 } } })
  let closed = false
  const close = async () => {
    if (!closed) await sb.close({ timeout: 300 })
    closed = true
  }
  cleanups.push(close)
  await sb.ready
  return { server, app, seen, sb, close, base: `http://127.0.0.1:${port}`, port }
}

it('serves WebSocket, SSE and long-polling on the app server, and everything else to the app', async () => {
  const { sb, seen, base, port } = await appServer()
  const ws = await connect(`ws://127.0.0.1:${port}/ws`)
  cleanups.push(() => ws.ws.terminate())
  const sse = await SseClient.open(`${base}/ws`)
  cleanups.push(() => sse.cut())
  const poll = await PollClient.open(`${base}/ws`)
  cleanups.push(() => poll.stop())
  poll.start()
  await sse.next('hello')
  await poll.next('hello')
  expect(sb.connections.size).toBe(3)
  for (const c of [sse, poll]) {
    expect((await c.post({ type: 'subscribe', id: 's', channel: 'news:a' })).status).toBe(204)
    await c.next('reply')
  }
  ws.send({ type: 'subscribe', id: 's', channel: 'news:a' })
  await ws.next('reply')
  await sb.publish('news:a', { n: 1 })
  for (const c of [sse, poll]) expect(await c.next('message')).toMatchObject({ data: { n: 1 } })
  expect(await ws.next('message')).toMatchObject({ data: { n: 1 } })

  const res = await fetch(`${base}/some/page?x=1`)
  expect(await res.text()).toBe('from the app')
  expect(seen).toEqual(['GET /some/page?x=1'])
})

it('gives the app its own request listeners back on close', async () => {
  const { server, app, close, base } = await appServer()
  expect(server.listeners('request')).not.toContain(app)
  await close()
  expect(server.listeners('request')).toEqual([app])
  const res = await fetch(`${base}/ws/sse`)
  expect(await res.text()).toBe('from the app')
})

it('leaves the app server alone with transports off', async () => {
  const server = createServer(() => {})
  const sb = createSwitchboard({ server, logger: false, transports: { sse: false, longPolling: false } })
  const listeners = server.listeners('request')
  expect(listeners).toHaveLength(1)
  server.listen(0, '127.0.0.1')
  cleanups.push(() => new Promise((resolve) => server.close(resolve)))
  cleanups.push(() => sb.close({ timeout: 100 }))
  await sb.ready
  expect(server.listeners('request')).toEqual(listeners)
})
