import { ReconnectingWebSocket, type ReconnectingWebSocketOptions } from '@switchboard/client'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { fakeWebSocket } from './fake-websocket.js'

function setup(options: ReconnectingWebSocketOptions = {}) {
  const fake = fakeWebSocket()
  const rws = new ReconnectingWebSocket('ws://a', {
    WebSocket: fake.WebSocket,
    backoff: (attempt) => 100 * 2 ** attempt,
    ...options,
  })
  const events: string[] = []
  rws.on('open', () => events.push('open'))
  rws.on('close', (e) => events.push(`close:${e.code}`))
  rws.on('reconnecting', (e) => events.push(`reconnecting:${e.attempt}:${e.delay}`))
  rws.on('maxRetriesReached', (e) => events.push(`max:${e.attempts}`))
  return { rws, sockets: fake.sockets, events }
}

describe('ReconnectingWebSocket (fake socket, fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('connects from the constructor and reports state', () => {
    const { rws, sockets, events } = setup({ protocols: 'p1' })
    expect(rws.state).toBe('connecting')
    expect(sockets[0]!.protocols).toBe('p1')
    sockets[0]!.open()
    expect(rws.state).toBe('open')
    expect(events).toEqual(['open'])
  })

  it('reconnects with the backoff delays, then gives up after maxAttempts', async () => {
    const { rws, sockets, events } = setup({ maxAttempts: 3 })
    sockets[0]!.drop()
    expect(rws.state).toBe('reconnecting')
    await vi.advanceTimersByTimeAsync(99)
    expect(sockets).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(sockets).toHaveLength(2)
    sockets[1]!.drop()
    await vi.advanceTimersByTimeAsync(200)
    sockets[2]!.drop()
    await vi.advanceTimersByTimeAsync(400)
    sockets[3]!.drop()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(sockets).toHaveLength(4)
    expect(rws.state).toBe('closed')
    expect(events).toEqual([
      'close:1006',
      'reconnecting:1:100',
      'close:1006',
      'reconnecting:2:200',
      'close:1006',
      'reconnecting:3:400',
      'close:1006',
      'max:3',
    ])
  })

  it('does not reset the attempt count for a server that accepts and drops at once', async () => {
    const { sockets, events } = setup({ minUptime: 1_000, maxAttempts: 4 })
    for (let i = 0; i < 4; i++) {
      sockets[i]!.open()
      sockets[i]!.drop(1012)
      await vi.advanceTimersByTimeAsync(100 * 2 ** i)
    }
    sockets[4]!.open()
    sockets[4]!.drop(1012)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(sockets).toHaveLength(5)
    expect(events.filter((e) => e.startsWith('reconnecting'))).toEqual([
      'reconnecting:1:100',
      'reconnecting:2:200',
      'reconnecting:3:400',
      'reconnecting:4:800',
    ])
    expect(events.at(-1)).toBe('max:4')
  })

  it('resets the attempt count once a connection stayed up for minUptime', async () => {
    const { sockets, events } = setup({ minUptime: 1_000 })
    sockets[0]!.drop()
    await vi.advanceTimersByTimeAsync(100)
    sockets[1]!.drop()
    await vi.advanceTimersByTimeAsync(200)
    sockets[2]!.open()
    await vi.advanceTimersByTimeAsync(1_000)
    sockets[2]!.drop()
    expect(events.filter((e) => e.startsWith('reconnecting'))).toEqual([
      'reconnecting:1:100',
      'reconnecting:2:200',
      'reconnecting:1:100',
    ])
  })

  it('queues sends while offline, bounded, and flushes them in order on open', async () => {
    const { rws, sockets } = setup({ maxQueue: 2 })
    expect(rws.send('a')).toBe(true)
    expect(rws.send('b')).toBe(true)
    expect(rws.send('c')).toBe(false)
    expect(rws.queued).toBe(2)
    sockets[0]!.open()
    expect(sockets[0]!.sent).toEqual(['a', 'b'])
    expect(rws.send('d')).toBe(true)
    sockets[0]!.drop()
    rws.send('e')
    await vi.advanceTimersByTimeAsync(100)
    sockets[1]!.open()
    expect(sockets[1]!.sent).toEqual(['e'])
  })

  it('does not reconnect after a normal close or a terminal close code', async () => {
    for (const code of [1000, 4001, 1008]) {
      const { rws, sockets, events } = setup()
      sockets[0]!.open()
      sockets[0]!.drop(code)
      await vi.advanceTimersByTimeAsync(60_000)
      expect(sockets).toHaveLength(1)
      expect(rws.state).toBe('closed')
      expect(events).toEqual(['open', `close:${code}`])
    }
  })

  it('reconnects after codes of the reconnect band', async () => {
    for (const code of [1001, 1012, 1013, 4100, 4102, 4999]) {
      const { sockets } = setup()
      sockets[0]!.open()
      sockets[0]!.drop(code)
      await vi.advanceTimersByTimeAsync(100)
      expect(sockets).toHaveLength(2)
    }
  })

  it('close() stops reconnecting, also while a reconnect is pending', async () => {
    const { rws, sockets } = setup()
    sockets[0]!.open()
    rws.close()
    expect(sockets[0]!.closedWith?.code).toBe(1000)
    expect(rws.state).toBe('closed')
    rws.connect()
    sockets[1]!.drop()
    expect(rws.state).toBe('reconnecting')
    rws.close()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(sockets).toHaveLength(2)
    expect(rws.send('x')).toBe(false)
  })

  it('rotates through the URL list', async () => {
    const fake = fakeWebSocket()
    const rws = new ReconnectingWebSocket(['ws://a', 'ws://b', 'ws://c'], {
      WebSocket: fake.WebSocket,
      backoff: () => 10,
    })
    for (let i = 0; i < 3; i++) {
      fake.sockets[i]!.drop()
      await vi.advanceTimersByTimeAsync(10)
    }
    expect(fake.sockets.map((s) => s.url)).toEqual(['ws://a', 'ws://b', 'ws://c', 'ws://a'])
    rws.close()
  })

  it('abandons an attempt that does not open within connectTimeout', async () => {
    const { rws, sockets, events } = setup({ connectTimeout: 500 })
    await vi.advanceTimersByTimeAsync(500)
    expect(events).toEqual(['close:1006', 'reconnecting:1:100'])
    expect(sockets[0]!.closedWith).toBeDefined()
    await vi.advanceTimersByTimeAsync(100)
    expect(sockets).toHaveLength(2)
    rws.close()
  })

  it('emits messages from the current socket only', async () => {
    const { rws, sockets } = setup()
    const got: unknown[] = []
    rws.on('message', (m) => got.push(m.data))
    sockets[0]!.open()
    sockets[0]!.receive('one')
    rws.reconnect(4102, 'test')
    sockets[0]!.receive('stale')
    await vi.advanceTimersByTimeAsync(100)
    sockets[1]!.open()
    sockets[1]!.receive('two')
    expect(got).toEqual(['one', 'two'])
    rws.close()
  })
})
