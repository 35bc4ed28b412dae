// Backpressure: a subscriber that stops reading is cut off with 4100 once its unsent bytes pass
// the bound; server memory for it stays bounded, and a reading subscriber is not held up.

import { connect, startServer, until } from '@switchboard/testing'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { frame, RawClient } from './raw-websocket.js'

const BOUND = 256 * 1024
let server: Awaited<ReturnType<typeof startServer>>

beforeAll(async () => {
  server = await startServer({ maxBufferedBytes: BOUND })
})
afterAll(() => server.sb.close({ timeout: 500 }))

it('cuts off a subscriber that stops reading, without delaying the others', async () => {
  const { sb } = server
  const before = new Set(sb.connections.keys())
  const slow = await RawClient.open(server.port)
  await until(() => slow.received.length > 0)
  const slowId = [...sb.connections.keys()].find((k) => !before.has(k))!
  slow.send(frame({ opcode: 1, payload: '{"type":"subscribe","id":"1","channel":"firehose"}' }))
  await until(() => slow.received.length > 1)
  slow.socket.pause()

  const fast = await connect(server.url)
  fast.send({ type: 'subscribe', id: '1', channel: 'firehose' })
  await fast.next('reply')

  let slowClose: number | undefined
  sb.on('disconnect', (c, { code }) => {
    if (c.id === slowId) slowClose = code
  })
  let maxLagMs = 0
  let received = 0
  fast.ws.on('message', (data) => {
    const f = JSON.parse(String(data)) as { type: string; data?: { at: number } }
    if (f.type !== 'message') return
    received++
    maxLagMs = Math.max(maxLagMs, Date.now() - f.data!.at)
  })

  const pad = 'x'.repeat(16 * 1024)
  let published = 0
  let maxBuffered = 0
  // Batches spread over event-loop turns, as real traffic is, until the slow one is cut off.
  const slowConn = sb.connections.get(slowId)!
  while (slowConn.state === 'open' && published < 4000) {
    for (let i = 0; i < 16; i++) {
      void sb.publish('firehose', { at: Date.now(), pad })
      published++
    }
    await new Promise((r) => setImmediate(r))
    const conn = sb.connections.get(slowId)
    if (conn) maxBuffered = Math.max(maxBuffered, conn.bufferedAmount)
  }
  await until(() => slowClose !== undefined)
  expect(slowClose).toBe(4100)
  // Bounded: never more than the bound plus the one frame that crossed it.
  expect(maxBuffered).toBeLessThanOrEqual(BOUND + pad.length + 64)
  await until(() => received === published, 10_000)
  expect(maxLagMs).toBeLessThan(1000)
  // The reading client is still connected and served.
  fast.send({ type: 'ping', id: 'still' })
  expect(await fast.next('pong', (p) => p.id === 'still')).toBeTruthy()
  slow.socket.destroy()
  fast.ws.close()
})
