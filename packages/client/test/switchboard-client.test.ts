import {
  type StateChange,
  SwitchboardClient,
  type SwitchboardClientOptions,
  SwitchboardError,
} from '@switchboard/client'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type FakeSocket, fakeWebSocket } from './fake-websocket.js'

const HEARTBEAT = 1_000
const MARGIN = 500

function setup(options: SwitchboardClientOptions = {}) {
  const fake = fakeWebSocket()
  const client = new SwitchboardClient('ws://server/ws', {
    WebSocket: fake.WebSocket,
    backoff: () => 100,
    heartbeatMargin: MARGIN,
    ...options,
  })
  const states: StateChange[] = []
  client.on('state', (s) => states.push(s))
  const errors: SwitchboardError[] = []
  client.on('error', (e) => errors.push(e))
  return { client, sockets: fake.sockets, states, errors }
}

function handshake(socket: FakeSocket, heartbeat = HEARTBEAT): void {
  socket.open('switchboard.v1')
  socket.receive({
    type: 'hello',
    version: 1,
    connectionId: `conn-${socket.url.length}`,
    heartbeat,
    limits: { maxPayload: 65_536, maxSubscriptions: 256 },
  })
}

function last(socket: FakeSocket, type: string): Record<string, unknown> {
  const frame = socket.framesOf(type).at(-1)
  if (!frame) throw new Error(`no ${type} frame sent`)
  return frame
}

function replyOk(socket: FakeSocket, frame: Record<string, unknown>, data?: unknown): void {
  socket.receive({ type: 'reply', id: frame.id, ok: true, ...(data === undefined ? {} : { data }) })
}

/** Rejections are checked later; keep Node from calling them unhandled in between. */
function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: SwitchboardError }> {
  return promise.then(
    (value) => ({ value }),
    (error: SwitchboardError) => ({ error }),
  )
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('SwitchboardClient connection state', () => {
  it('goes connecting → connected → reconnecting → connected → closed, with reasons', async () => {
    const { client, sockets, states } = setup()
    // (disconnected → connecting happened in the constructor, before the listener was added.)
    expect(client.state).toBe('connecting')
    expect(sockets[0]!.protocols).toBe('switchboard.v1')
    handshake(sockets[0]!)
    expect(client.state).toBe('connected')
    expect(client.connectionId).toBeDefined()
    sockets[0]!.drop(1012)
    expect(client.state).toBe('reconnecting')
    await vi.advanceTimersByTimeAsync(100)
    handshake(sockets[1]!)
    client.close()
    expect(sockets[1]!.closedWith?.code).toBe(1000)
    expect(states.map((s) => [s.oldState, s.newState, s.reason, s.closeCode])).toEqual([
      ['connecting', 'connected', 'connected', undefined],
      ['connected', 'reconnecting', 'connection_lost', 1012],
      ['reconnecting', 'connected', 'connected', undefined],
      ['connected', 'closed', 'close', 1000],
    ])
  })

  it('waits for connect() with autoConnect: false', () => {
    const { client, sockets } = setup({ autoConnect: false })
    expect(client.state).toBe('disconnected')
    expect(sockets).toHaveLength(0)
    client.connect()
    expect(client.state).toBe('connecting')
    expect(sockets).toHaveLength(1)
    client.close()
  })

  it('stops on a terminal close code', async () => {
    const { client, sockets, states } = setup()
    handshake(sockets[0]!)
    sockets[0]!.drop(4003)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(sockets).toHaveLength(1)
    expect(client.state).toBe('closed')
    expect(states.at(-1)).toMatchObject({ newState: 'closed', reason: 'terminal_close', closeCode: 4003 })
  })

  it('stops after maxAttempts failed reconnects', async () => {
    const { client, sockets, states } = setup({ maxAttempts: 2 })
    for (let i = 0; i < 3; i++) {
      sockets[i]!.drop()
      await vi.advanceTimersByTimeAsync(100)
    }
    expect(sockets).toHaveLength(3)
    expect(client.state).toBe('closed')
    expect(states.at(-1)).toMatchObject({ reason: 'max_retries' })
  })

  it('reconnects when the server goes silent for longer than heartbeat + margin, pinging meanwhile', async () => {
    const { client, sockets, states } = setup()
    handshake(sockets[0]!)
    await vi.advanceTimersByTimeAsync(HEARTBEAT)
    expect(sockets[0]!.framesOf('ping')).toHaveLength(1)
    sockets[0]!.receive({ type: 'pong' })
    await vi.advanceTimersByTimeAsync(HEARTBEAT + MARGIN - 1)
    expect(client.state).toBe('connected')
    await vi.advanceTimersByTimeAsync(1)
    expect(client.state).toBe('reconnecting')
    expect(states.at(-1)).toMatchObject({ reason: 'heartbeat_timeout', closeCode: 4102 })
    expect(sockets[0]!.closedWith?.code).toBe(4102)
    await vi.advanceTimersByTimeAsync(100)
    expect(sockets).toHaveLength(2)
    client.close()
  })

  it('reconnects when the handshake does not finish within connectTimeout', async () => {
    const { client, sockets, states } = setup({ connectTimeout: 2_000 })
    sockets[0]!.open()
    await vi.advanceTimersByTimeAsync(2_000)
    expect(client.state).toBe('reconnecting')
    expect(states.at(-1)).toMatchObject({ reason: 'handshake_timeout' })
    client.close()
  })

  it('reports an undecodable frame as an error event and carries on', () => {
    const { client, sockets, errors } = setup()
    handshake(sockets[0]!)
    sockets[0]!.receive('{not json')
    sockets[0]!.receive({ type: 'subscribe', id: '1', channel: 'x' })
    expect(errors.map((e) => e.code)).toEqual(['invalid_json', 'unknown_type'])
    expect(client.state).toBe('connected')
    client.close()
  })
})

describe('SwitchboardClient auth', () => {
  it('calls getToken on every connect and sends auth right after hello, before anything else', async () => {
    let n = 0
    const getToken = vi.fn(async () => `token-${++n}`)
    const { client, sockets } = setup({ getToken })
    client.channel('room')
    for (let i = 0; i < 2; i++) {
      const socket = sockets[i]!
      handshake(socket)
      await vi.advanceTimersByTimeAsync(0)
      expect(client.state).not.toBe('connected')
      expect(socket.frames()).toEqual([{ type: 'auth', id: expect.any(String), token: `token-${i + 1}` }])
      replyOk(socket, last(socket, 'auth'))
      await vi.advanceTimersByTimeAsync(0)
      expect(client.state).toBe('connected')
      expect(socket.frames().map((f) => f.type)).toEqual(['auth', 'subscribe'])
      socket.drop()
      await vi.advanceTimersByTimeAsync(100)
    }
    expect(getToken).toHaveBeenCalledTimes(2)
    client.close()
  })

  it('closes with reason auth_failed when the server refuses the token', async () => {
    const { client, sockets, states, errors } = setup({ getToken: () => 'bad' })
    handshake(sockets[0]!)
    await vi.advanceTimersByTimeAsync(0)
    sockets[0]!.receive({
      type: 'reply',
      id: last(sockets[0]!, 'auth').id,
      ok: false,
      error: { code: 'unauthorized', message: 'token expired' },
    })
    await vi.advanceTimersByTimeAsync(0)
    expect(client.state).toBe('closed')
    expect(states.at(-1)).toMatchObject({ reason: 'auth_failed' })
    expect(errors.map((e) => e.code)).toEqual(['unauthorized'])
    await vi.advanceTimersByTimeAsync(60_000)
    expect(sockets).toHaveLength(1)
  })

  it('treats a throwing getToken as a failed attempt and retries', async () => {
    let fail = true
    const { client, sockets, states } = setup({
      getToken: () => {
        if (fail) throw new Error('offline')
        return 'ok'
      },
    })
    handshake(sockets[0]!)
    await vi.advanceTimersByTimeAsync(0)
    expect(states.at(-1)).toMatchObject({ newState: 'reconnecting', reason: 'token_failed' })
    fail = false
    await vi.advanceTimersByTimeAsync(100)
    handshake(sockets[1]!)
    await vi.advanceTimersByTimeAsync(0)
    replyOk(sockets[1]!, last(sockets[1]!, 'auth'))
    await vi.advanceTimersByTimeAsync(0)
    expect(client.state).toBe('connected')
    client.close()
  })
})

describe('SwitchboardClient requests', () => {
  it('resolves with the reply data and rejects with the server code', async () => {
    const { client, sockets } = setup()
    handshake(sockets[0]!)
    const ok = client.request('sum', { a: 1, b: 2 })
    const bad = settle(client.request('sum', { a: 'x' }))
    const [first, second] = sockets[0]!.framesOf('request')
    expect(first).toEqual({ type: 'request', id: expect.any(String), event: 'sum', data: { a: 1, b: 2 } })
    replyOk(sockets[0]!, first!, 3)
    sockets[0]!.receive({
      type: 'reply',
      id: second!.id,
      ok: false,
      error: { code: 'invalid_payload', message: 'a must be a number', details: [{ path: ['a'] }] },
    })
    await expect(ok).resolves.toBe(3)
    const { error } = await bad
    expect(error).toBeInstanceOf(SwitchboardError)
    expect(error).toMatchObject({ code: 'invalid_payload', details: [{ path: ['a'] }] })
    client.close()
  })

  it('rejects with the code of an error frame naming the request id', async () => {
    const { client, sockets } = setup()
    handshake(sockets[0]!)
    const result = settle(client.request('x', null))
    sockets[0]!.receive({
      type: 'error',
      code: 'limit_exceeded',
      message: 'too many',
      id: last(sockets[0]!, 'request').id,
    })
    expect((await result).error?.code).toBe('limit_exceeded')
    client.close()
  })

  it('times out with code timeout', async () => {
    const { client, sockets } = setup()
    handshake(sockets[0]!)
    const result = settle(client.request('slow', null, { timeout: 300 }))
    await vi.advanceTimersByTimeAsync(300)
    expect((await result).error?.code).toBe('timeout')
    // A late reply is ignored.
    replyOk(sockets[0]!, last(sockets[0]!, 'request'), 'late')
    client.close()
  })

  it('is cancelled by its AbortSignal, before or after sending', async () => {
    const { client, sockets } = setup()
    handshake(sockets[0]!)
    const controller = new AbortController()
    const result = settle(client.request('slow', null, { signal: controller.signal }))
    controller.abort()
    expect((await result).error?.code).toBe('cancelled')
    const early = settle(client.request('slow', null, { signal: AbortSignal.abort() }))
    expect((await early).error?.code).toBe('cancelled')
    expect(sockets[0]!.framesOf('request')).toHaveLength(1)
    client.close()
  })

  it('fails requests in flight with disconnected when the connection drops', async () => {
    const { client, sockets } = setup()
    handshake(sockets[0]!)
    const result = settle(client.request('x', 1))
    sockets[0]!.drop()
    const { error } = await result
    expect(error?.code).toBe('disconnected')
    client.close()
  })

  it('resends idempotent requests after the reconnect', async () => {
    const { client, sockets } = setup()
    handshake(sockets[0]!)
    const result = client.request('get', 1, { idempotent: true })
    const sent = last(sockets[0]!, 'request')
    sockets[0]!.drop()
    await vi.advanceTimersByTimeAsync(100)
    handshake(sockets[1]!)
    const resent = last(sockets[1]!, 'request')
    expect(resent).toEqual(sent)
    replyOk(sockets[1]!, resent, 'value')
    await expect(result).resolves.toBe('value')
    client.close()
  })

  it('queues requests made offline, sends them after the handshake in order, and fails them on close()', async () => {
    const { client, sockets } = setup()
    const a = client.request('a', 1)
    expect(client.emit('b', 2)).toBe(true)
    const c = settle(client.request('c', 3))
    handshake(sockets[0]!)
    expect(sockets[0]!.frames().map((f) => [f.type, f.event, 'id' in f])).toEqual([
      ['request', 'a', true],
      ['request', 'b', false],
      ['request', 'c', true],
    ])
    replyOk(sockets[0]!, sockets[0]!.framesOf('request')[0]!, 'A')
    await expect(a).resolves.toBe('A')
    void client.close({ flush: false })
    expect((await c).error?.code).toBe('disconnected')
    expect((await settle(client.request('d', 4))).error?.code).toBe('disconnected')
    expect(client.emit('e', 5)).toBe(false)
  })

  it('bounds the offline queue', async () => {
    const { client } = setup({ maxQueue: 2 })
    const a = settle(client.request('a', 1))
    expect(client.emit('b', 2)).toBe(true)
    expect(client.emit('c', 3)).toBe(false)
    expect((await settle(client.request('d', 4))).error?.code).toBe('limit_exceeded')
    void client.close({ flush: false })
    expect((await a).error?.code).toBe('disconnected')
  })

  it('delivers server events to onEvent listeners until offEvent', () => {
    const { client, sockets } = setup()
    handshake(sockets[0]!)
    const seen: unknown[] = []
    const listener = (data: unknown) => seen.push(data)
    client.onEvent('notice', listener)
    sockets[0]!.receive({ type: 'event', event: 'notice', data: { text: 'hi' } })
    sockets[0]!.receive({ type: 'event', event: 'other', data: 1 })
    client.offEvent('notice', listener)
    sockets[0]!.receive({ type: 'event', event: 'notice', data: { text: 'again' } })
    expect(seen).toEqual([{ text: 'hi' }])
    client.close()
  })
})

describe('SwitchboardClient publish', () => {
  it('sends an id and a generated key, and resolves with the acknowledged position', async () => {
    const { client, sockets } = setup()
    handshake(sockets[0]!)
    const result = client.publish('chat:a', { text: 'hi' })
    const frame = last(sockets[0]!, 'publish')
    expect(frame).toMatchObject({ channel: 'chat:a', data: { text: 'hi' }, id: expect.any(String) })
    expect(typeof frame.key).toBe('string')
    replyOk(sockets[0]!, frame, { epoch: 'e', offset: 7 })
    await expect(result).resolves.toEqual({ epoch: 'e', offset: 7 })
    client.publish('chat:a', { text: 'again' }).catch(() => {})
    expect(last(sockets[0]!, 'publish').key).not.toBe(frame.key)
    client.close()
  })

  it('resends a publish refused as rate_limited with its key, and fails it at once on close() while it backs off', async () => {
    const { client, sockets } = setup()
    handshake(sockets[0]!)
    const first = settle(client.publish('chat:a', { text: 'hi' }))
    const frame = last(sockets[0]!, 'publish')
    sockets[0]!.receive({
      type: 'reply',
      id: frame.id,
      ok: false,
      error: { code: 'rate_limited', message: 'slow down' },
    })
    await vi.advanceTimersByTimeAsync(300)
    expect(sockets[0]!.framesOf('publish')).toHaveLength(2)
    expect(last(sockets[0]!, 'publish').key).toBe(frame.key)
    replyOk(sockets[0]!, last(sockets[0]!, 'publish'), { epoch: 'e', offset: 1 })
    expect(await first).toEqual({ value: { epoch: 'e', offset: 1 } })

    const second = settle(client.publish('chat:a', { text: 'again' }))
    const again = last(sockets[0]!, 'publish')
    sockets[0]!.receive({
      type: 'reply',
      id: again.id,
      ok: false,
      error: { code: 'rate_limited', message: 'slow down' },
    })
    void client.close({ flush: false })
    // Settled by close() itself, with no timer advanced: nothing is left backing off.
    expect((await second).error?.code).toBe('disconnected')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('resends a publish in flight after a reconnect with the same key, so it lands once', async () => {
    const { client, sockets } = setup()
    handshake(sockets[0]!)
    const result = client.publish('chat:a', { text: 'hi' }, { key: 'k1' })
    const first = last(sockets[0]!, 'publish')
    sockets[0]!.drop(1012)
    await vi.advanceTimersByTimeAsync(100)
    handshake(sockets[1]!)
    const again = last(sockets[1]!, 'publish')
    expect(again).toEqual(first)
    expect(again.key).toBe('k1')
    replyOk(sockets[1]!, again, { epoch: 'e', offset: 1 })
    await expect(result).resolves.toEqual({ epoch: 'e', offset: 1 })
    client.close()
  })
})

describe('SwitchboardClient channels', () => {
  function message(socket: FakeSocket, offset: number, epoch = 'E1', channel = 'chat:a'): void {
    socket.receive({ type: 'message', channel, epoch, offset, data: { n: offset } })
  }

  it('subscribes when connected and goes unsubscribed → subscribing → subscribed', () => {
    const { client, sockets } = setup()
    const room = client.channel('chat:a')
    expect(client.channel('chat:a')).toBe(room)
    const states: string[] = []
    room.on('state', (s) => states.push(`${s.newState}:${s.reason}`))
    expect(room.state).toBe('subscribing')
    handshake(sockets[0]!)
    const sub = last(sockets[0]!, 'subscribe')
    expect(sub).toEqual({ type: 'subscribe', id: expect.any(String), channel: 'chat:a' })
    replyOk(sockets[0]!, sub, { epoch: 'E1', offset: 4 })
    expect(room.state).toBe('subscribed')
    expect(room.position).toEqual({ epoch: 'E1', offset: 4 })
    room.unsubscribe()
    // With an id: until its reply, what arrives for the name belongs to the old subscription.
    expect(last(sockets[0]!, 'unsubscribe')).toMatchObject({ type: 'unsubscribe', channel: 'chat:a' })
    expect(last(sockets[0]!, 'unsubscribe')).toHaveProperty('id')
    expect(states).toEqual(['subscribed:subscribed', 'unsubscribed:unsubscribe'])
    client.close()
  })

  it('drops duplicates by offset and resumes with since after a reconnect', async () => {
    const { client, sockets } = setup()
    const room = client.channel('chat:a')
    const got: unknown[] = []
    room.on('publication', ({ data }) => got.push(data))
    const recoveries: unknown[] = []
    room.on('recovery', (r) => recoveries.push(r))
    handshake(sockets[0]!)
    replyOk(sockets[0]!, last(sockets[0]!, 'subscribe'), { epoch: 'E1', offset: 0 })
    message(sockets[0]!, 1)
    message(sockets[0]!, 2)
    message(sockets[0]!, 2)
    message(sockets[0]!, 1)
    sockets[0]!.drop()
    expect(room.state).toBe('subscribing')
    await vi.advanceTimersByTimeAsync(100)
    handshake(sockets[1]!)
    const sub = last(sockets[1]!, 'subscribe')
    expect(sub.since).toEqual({ epoch: 'E1', offset: 2 })
    // The server replays after offset 2, overlapping once; then the reply; then live.
    message(sockets[1]!, 2)
    message(sockets[1]!, 3)
    replyOk(sockets[1]!, sub, { epoch: 'E1', offset: 3, recovered: true })
    message(sockets[1]!, 4)
    expect(got).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }])
    expect(recoveries).toEqual([
      { recovered: true, since: { epoch: 'E1', offset: 2 }, position: { epoch: 'E1', offset: 3 } },
    ])
    client.close()
  })

  it('emits recovery with recovered: false when the gap could not be filled, then goes on', async () => {
    const { client, sockets } = setup()
    const room = client.channel('chat:a')
    const got: unknown[] = []
    room.on('publication', ({ data }) => got.push(data))
    const recoveries: Array<{ recovered: boolean }> = []
    room.on('recovery', (r) => recoveries.push(r))
    handshake(sockets[0]!)
    replyOk(sockets[0]!, last(sockets[0]!, 'subscribe'), { epoch: 'E1', offset: 5 })
    sockets[0]!.drop()
    await vi.advanceTimersByTimeAsync(100)
    handshake(sockets[1]!)
    replyOk(sockets[1]!, last(sockets[1]!, 'subscribe'), { epoch: 'E2', offset: 0, recovered: false })
    message(sockets[1]!, 1, 'E2')
    expect(recoveries).toMatchObject([{ recovered: false, position: { epoch: 'E2', offset: 0 } }])
    expect(got).toEqual([{ n: 1 }])
    client.close()
  })

  it('subscribes before flushing queued publishes, and ignores messages once unsubscribed', async () => {
    const { client, sockets } = setup()
    const room = client.channel('chat:a')
    room.publish({ text: 'queued' }).catch(() => {})
    handshake(sockets[0]!)
    expect(sockets[0]!.frames().map((f) => f.type)).toEqual(['subscribe', 'publish'])
    const got: unknown[] = []
    room.on('publication', ({ data }) => got.push(data))
    room.unsubscribe()
    message(sockets[0]!, 1)
    expect(got).toEqual([])
    client.close()
  })

  it('emits each channel message once, as a publication with its position, and every on() returns a remover', () => {
    const { client, sockets } = setup()
    const room = client.channel('chat:a')
    const got: unknown[] = []
    const offPublication = room.on('publication', (p) => got.push(p))
    const states: string[] = []
    const offState = client.on('state', (s) => states.push(s.newState))
    const notices: unknown[] = []
    const offEvent = client.onEvent('notice', (d) => notices.push(d))
    handshake(sockets[0]!)
    replyOk(sockets[0]!, last(sockets[0]!, 'subscribe'), { epoch: 'E1', offset: 0 })
    message(sockets[0]!, 1)
    sockets[0]!.receive({ type: 'event', event: 'notice', data: 1 })
    expect(got).toEqual([{ data: { n: 1 }, epoch: 'E1', offset: 1 }])
    expect(states).toEqual(['connected'])
    expect(notices).toEqual([1])
    offPublication()
    offState()
    offEvent()
    message(sockets[0]!, 2)
    sockets[0]!.receive({ type: 'event', event: 'notice', data: 2 })
    client.close()
    expect(got).toHaveLength(1)
    expect(states).toEqual(['connected'])
    expect(notices).toEqual([1])
  })

  it('becomes unsubscribed with an error event when the server refuses the subscription', () => {
    const { client, sockets } = setup()
    const room = client.channel('secret:x')
    const errors: string[] = []
    room.on('error', (e) => errors.push(e.code))
    handshake(sockets[0]!)
    sockets[0]!.receive({
      type: 'reply',
      id: last(sockets[0]!, 'subscribe').id,
      ok: false,
      error: { code: 'forbidden', message: 'no' },
    })
    expect(room.state).toBe('unsubscribed')
    expect(errors).toEqual(['forbidden'])
    client.close()
  })

  it('resubscribes from its last position after close() and connect()', () => {
    const { client, sockets } = setup()
    const room = client.channel('chat:a')
    handshake(sockets[0]!)
    replyOk(sockets[0]!, last(sockets[0]!, 'subscribe'), { epoch: 'E1', offset: 3 })
    client.close()
    expect(room.state).toBe('unsubscribed')
    client.connect()
    handshake(sockets[1]!)
    expect(room.state).toBe('subscribing')
    expect(last(sockets[1]!, 'subscribe').since).toEqual({ epoch: 'E1', offset: 3 })
    client.removeChannel('chat:a')
    expect(room.state).toBe('unsubscribed')
    expect(client.channel('chat:a')).not.toBe(room)
    client.close()
  })

  it('delivers coalesced presence frames: joins, leaves, updates and counts', () => {
    const { client, sockets } = setup()
    const room = client.channel('chat:a')
    const seen: string[] = []
    room.on('presence', (p) =>
      seen.push(
        [
          ...p.joins.map((u) => `+${u.userId}`),
          ...p.leaves.map((u) => `-${u.userId}`),
          ...p.updates.map((u) => `~${u.userId}`),
        ].join(' '),
      ),
    )
    handshake(sockets[0]!)
    replyOk(sockets[0]!, last(sockets[0]!, 'subscribe'), {
      epoch: 'E1',
      offset: 0,
      members: [{ userId: 'cy', connections: 1 }],
      counts: { connections: 1, users: 1 },
    })
    sockets[0]!.receive({
      type: 'presence',
      channel: 'chat:a',
      joins: [
        { userId: 'ada', connections: 1 },
        { userId: 'bob', connections: 1, info: { name: 'Bob' } },
      ],
      leaves: [{ userId: 'cy', connections: 0 }],
      counts: { connections: 2, users: 2 },
    })
    sockets[0]!.receive({
      type: 'presence',
      channel: 'chat:a',
      updates: [{ userId: 'ada', connections: 2, info: { away: true } }],
    })
    expect(seen).toEqual(['+ada +bob -cy', '~ada'])
    expect(room.members).toEqual([
      { userId: 'ada', connections: 2, info: { away: true } },
      { userId: 'bob', connections: 1, info: { name: 'Bob' } },
    ])
    expect(room.presenceCounts).toEqual({ connections: 2, users: 2 })
    client.close()
  })

  it('reads the single join/leave frames and per-connection member lists of older servers, by user', () => {
    const { client, sockets } = setup()
    const room = client.channel('chat:a')
    handshake(sockets[0]!)
    replyOk(sockets[0]!, last(sockets[0]!, 'subscribe'), {
      epoch: 'E1',
      offset: 0,
      members: [
        { userId: 'ada', connectionId: 'c1' },
        { userId: 'ada', connectionId: 'c2' },
      ],
    })
    // Two connections of one user collapse to one member.
    expect(room.members.map((m) => m.userId)).toEqual(['ada'])
    sockets[0]!.receive({
      type: 'presence',
      channel: 'chat:a',
      action: 'join',
      member: { userId: 'bob', connectionId: 'c3' },
    })
    expect(room.members.map((m) => m.userId)).toEqual(['ada', 'bob'])
    client.close()
  })

  it('keeps the member list from the subscribe reply and the presence frames', () => {
    const { client, sockets } = setup()
    const room = client.channel('chat:a')
    expect(client.hasChannel('chat:a')).toBe(true)
    expect(client.hasChannel('chat:b')).toBe(false)
    handshake(sockets[0]!)
    const ada = { userId: 'ada', connections: 1 }
    const bob = { userId: 'bob', connections: 1 }
    replyOk(sockets[0]!, last(sockets[0]!, 'subscribe'), { epoch: 'E1', offset: 0, members: [ada] })
    expect(room.members).toEqual([ada])
    sockets[0]!.receive({ type: 'presence', channel: 'chat:a', joins: [bob] })
    expect(room.members).toEqual([ada, bob])
    sockets[0]!.receive({ type: 'presence', channel: 'chat:a', leaves: [{ ...ada, connections: 0 }] })
    expect(room.members).toEqual([bob])
    client.removeChannel('chat:a')
    expect(client.hasChannel('chat:a')).toBe(false)
    client.close()
  })
})
