/**
 * The client paces its frames under the rate its server announced in `hello.limits.rateLimit`
 * (90% of the burst, then 90% of the refill rate), under fake timers with a scripted socket:
 * what waits for the pacer leaves in order (an unsubscribe after its channel's subscribe), pings
 * do not wait, nothing is paced for a server that announces no rate, and a `close()` made while
 * reconnecting waits for the next connection to send and answer what was queued.
 */
import { SwitchboardClient, type SwitchboardClientOptions } from '@switchboard/client'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type FakeSocket, fakeWebSocket } from './fake-websocket.js'

type Rate = { capacity: number; refillPerSecond: number }

function setup(options: SwitchboardClientOptions = {}) {
  const fake = fakeWebSocket()
  const client = new SwitchboardClient('ws://server/ws', {
    WebSocket: fake.WebSocket,
    backoff: () => 100,
    ...options,
  })
  return { client, sockets: fake.sockets }
}

function handshake(socket: FakeSocket, rateLimit?: Rate, heartbeat = 0): void {
  socket.open('switchboard.v1')
  socket.receive({
    type: 'hello',
    version: 1,
    connectionId: 'c',
    heartbeat,
    limits: { maxPayload: 65_536, maxSubscriptions: 256, ...(rateLimit ? { rateLimit } : {}) },
  })
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('pacing', () => {
  it('sends 90% of the burst at once, then 90% of the refill rate', async () => {
    const { client, sockets } = setup()
    for (let i = 0; i < 30; i++) client.channel(`ch:${i}`)
    handshake(sockets[0]!, { capacity: 10, refillPerSecond: 10 })
    const subscribes = () => sockets[0]!.framesOf('subscribe').length
    expect(subscribes()).toBe(9)
    // Never more than 9 + 9 a second (the server's bucket would still have 10% left), and not
    // much less either (timers round up to the ms).
    for (const seconds of [1, 2]) {
      await vi.advanceTimersByTimeAsync(1000)
      expect(subscribes()).toBeLessThanOrEqual(9 + 9 * seconds)
      expect(subscribes()).toBeGreaterThanOrEqual(9 + 9 * seconds - 1)
    }
    await vi.advanceTimersByTimeAsync(500)
    expect(subscribes()).toBe(30)
    expect(sockets[0]!.framesOf('subscribe').map((f) => f.channel)).toEqual(
      Array.from({ length: 30 }, (_, i) => `ch:${i}`),
    )
    void client.close({ flush: false })
  })

  it('keeps the order: an unsubscribe waits behind its channel subscribe', async () => {
    const { client, sockets } = setup()
    handshake(sockets[0]!, { capacity: 2, refillPerSecond: 1 })
    client.channel('a')
    client.channel('b')
    client.removeChannel('b')
    expect(sockets[0]!.frames().map((f) => [f.type, f.channel])).toEqual([['subscribe', 'a']])
    await vi.advanceTimersByTimeAsync(3000)
    expect(sockets[0]!.frames().map((f) => [f.type, f.channel])).toEqual([
      ['subscribe', 'a'],
      ['subscribe', 'b'],
      ['unsubscribe', 'b'],
    ])
    void client.close({ flush: false })
  })

  it('does not hold a ping behind paced frames', async () => {
    const { client, sockets } = setup()
    for (let i = 0; i < 30; i++) client.channel(`ch:${i}`)
    handshake(sockets[0]!, { capacity: 10, refillPerSecond: 1 }, 1000)
    await vi.advanceTimersByTimeAsync(1000)
    expect(sockets[0]!.framesOf('ping')).toHaveLength(1)
    expect(sockets[0]!.framesOf('subscribe').length).toBeLessThan(30)
    void client.close({ flush: false })
  })

  it('paces nothing for a server that announces no rate', () => {
    const { client, sockets } = setup()
    for (let i = 0; i < 300; i++) client.channel(`ch:${i}`)
    handshake(sockets[0]!)
    expect(sockets[0]!.framesOf('subscribe')).toHaveLength(300)
    void client.close({ flush: false })
  })
})

describe('close() while reconnecting', () => {
  it('waits for the next connection to send what was queued, and for its reply', async () => {
    const { client, sockets } = setup()
    handshake(sockets[0]!)
    sockets[0]!.drop(1012)
    const published = client.publish('ch:a', 'queued')
    let closed = false
    const closing = client.close().then(() => {
      closed = true
    })
    await vi.advanceTimersByTimeAsync(100)
    handshake(sockets[1]!)
    const frame = sockets[1]!.framesOf('publish')[0]!
    expect(frame.data).toBe('queued')
    await vi.advanceTimersByTimeAsync(0)
    expect(closed).toBe(false)
    sockets[1]!.receive({ type: 'reply', id: frame.id, ok: true, data: { epoch: 'e', offset: 1 } })
    await closing
    expect(await published).toEqual({ epoch: 'e', offset: 1 })
    expect(client.state).toBe('closed')
    expect(sockets[1]!.closedWith?.code).toBe(1000)
  })
})
