// Redis faults against two brokers (two nodes) on a private redis-server: the pub/sub connection
// killed with CLIENT KILL, Redis restarted (losing everything), a pub/sub connection that stays
// open but goes silent. Subscriptions come back; a gap is filled from history or reported with a
// `reset`; publishes while Redis is down are rejected, never dropped silently.

import type { BrokerEvent, BrokerMessage, ResolvedHistory } from '@switchboard/broker'
import { RedisBroker, type RedisBrokerOptions } from '@switchboard/redis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { PrivateRedis, until } from './redis-helpers.js'
import { TcpProxy } from './tcp-proxy.js'

/** Channels named `h…` keep 1,000 messages; the others keep none. */
const history = (channel: string): ResolvedHistory | undefined =>
  channel.startsWith('h') ? { size: 1000, ttlMs: Number.POSITIVE_INFINITY } : undefined

let redis: PrivateRedis
const open: Array<{ close(): Promise<unknown> }> = []

beforeAll(async () => {
  redis = await PrivateRedis.start()
})
afterAll(async () => {
  await redis?.stop()
})
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close().catch(() => {})
  await redis.start().catch(() => {}) // a test that stopped it leaves it running again
  await redis.command('FLUSHALL')
})

async function node(options: Partial<RedisBrokerOptions> = {}): Promise<RedisBroker> {
  const broker = new RedisBroker({
    url: redis.url,
    history,
    logger: { warn() {} },
    presence: { heartbeatMs: 100, nodeTtlMs: 300 },
    probe: { intervalMs: 100, timeoutMs: 300 },
    ...options,
  })
  open.push(broker)
  await broker.ready
  return broker
}

async function listen(broker: RedisBroker, channel: string): Promise<BrokerEvent[]> {
  const events: BrokerEvent[] = []
  await broker.subscribe(channel, (e) => events.push(e))
  return events
}

const messages = (events: BrokerEvent[]) => events.filter((e): e is BrokerMessage => e.kind === 'message')

/** Publishes until it is accepted (the publisher's own connection may still be reconnecting). */
async function publishEventually(broker: RedisBroker, channel: string, data: number | string) {
  for (let i = 0; ; i++) {
    try {
      return await broker.publish(channel, data)
    } catch (err) {
      if (i > 200) throw err
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}

describe('pub/sub connection killed (CLIENT KILL TYPE pubsub)', () => {
  it('subscriptions come back and every message published during the gap arrives, once, in order', async () => {
    const a = await node()
    const b = await node()
    const events = await listen(a, 'h-stream')
    for (let i = 1; i <= 300; i++) {
      if (i === 101)
        expect(Number(await redis.command('CLIENT', 'KILL', 'TYPE', 'pubsub'))).toBeGreaterThan(0)
      await b.publish('h-stream', i)
    }
    await until(() => messages(events).length >= 300, 10_000, '300 messages')
    await new Promise((r) => setTimeout(r, 100))
    const got = messages(events)
    expect(got.map((m) => m.offset)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1))
    expect(got.map((m) => m.data)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1))
    expect(events.filter((e) => e.kind === 'reset')).toEqual([])
    // Still live afterwards.
    await b.publish('h-stream', 301)
    await until(() => messages(events).length === 301, 5000, 'message 301')
  })

  it('a gap history cannot fill (channel without history) is reported with reset, then the stream goes on', async () => {
    const a = await node()
    const b = await node()
    const events = await listen(a, 'plain-gap')
    await b.publish('plain-gap', 1)
    await until(() => messages(events).length === 1, 5000, 'message 1')
    await redis.command('CLIENT', 'KILL', 'TYPE', 'pubsub')
    await b.publish('plain-gap', 2) // nobody is subscribed in Redis right now: lost for `a`
    await until(() => events.some((e) => e.kind === 'reset'), 5000, 'reset')
    expect(events.at(-1)).toEqual({ kind: 'reset', channel: 'plain-gap' })
    const third = await b.publish('plain-gap', 3)
    await until(() => messages(events).length === 2, 5000, 'message 3')
    expect(messages(events).map((m) => m.offset)).toEqual([1, third.offset])
  })
})

describe('Redis restarted', () => {
  it('publishes during the outage reject; afterwards the lost stream is reported and goes on in a new epoch', async () => {
    const a = await node()
    const b = await node()
    const events = await listen(a, 'h-restart')
    const before = await b.publish('h-restart', 'before')
    await until(() => messages(events).length === 1, 5000, 'first message')

    await redis.stop()
    await expect(b.publish('h-restart', 'during')).rejects.toThrow()
    await expect(a.publish('h-restart', 'during')).rejects.toThrow()
    await expect(b.history('h-restart', before)).rejects.toThrow()

    await redis.start()
    // Redis came back empty: the epoch is gone, so history cannot vouch for the gap.
    await until(() => events.some((e) => e.kind === 'reset'), 10_000, 'reset')
    const after = await publishEventually(b, 'h-restart', 'after')
    expect(after.epoch).not.toBe(before.epoch)
    await until(() => messages(events).length === 2, 10_000, 'message after the restart')
    expect(messages(events).map((m) => m.data)).toEqual(['before', 'after'])
    expect(messages(events)[1]).toMatchObject({ epoch: after.epoch, offset: after.offset })
    expect(messages(events).some((m) => m.data === 'during')).toBe(false)
    // A client resuming from before the restart is told it missed something.
    expect(await b.history('h-restart', before)).toMatchObject({ complete: false, position: after })
  })

  it('a publish on a dropped connection rejects and is never applied later', async () => {
    const b = await node()
    const before = await b.publish('h-dropped', 'kept')
    await redis.command('CLIENT', 'KILL', 'TYPE', 'normal')
    await expect(b.publish('h-dropped', 'rejected')).rejects.toThrow()
    const after = await publishEventually(b, 'h-dropped', 'next')
    expect(after).toEqual({ epoch: before.epoch, offset: before.offset + 1 })
    const h = await b.history('h-dropped', { epoch: before.epoch, offset: 0 })
    expect(h.messages.map((m) => m.data)).toEqual(['kept', 'next'])
  })

  it('presence members are added back by their node’s heartbeat', async () => {
    const a = await node()
    const b = await node()
    const member = { userId: 'ada', connectionId: 'c-ada' }
    await a.presence.add('room', member)
    expect(await b.presence.list('room')).toEqual([member])
    await redis.stop()
    await redis.start()
    await until(
      async () => (await b.presence.list('room').catch(() => [])).length === 1,
      10_000,
      'member back after the restart',
    )
    expect(await b.presence.list('room')).toEqual([member])
  })
})

describe('pub/sub connection open but silent', () => {
  it('the liveness probe restarts it and the messages it missed arrive from history', async () => {
    const proxy = await TcpProxy.start(redis.port)
    open.push(proxy)
    const warnings: string[] = []
    const a = await node({ url: proxy.url, logger: { warn: (m) => warnings.push(m) } })
    const b = await node()
    const events = await listen(a, 'h-silent')
    for (let i = 1; i <= 3; i++) await b.publish('h-silent', i)
    await until(() => messages(events).length === 3, 5000, 'first three')
    expect(proxy.freeze('subscribe')).toBe(1)
    for (let i = 4; i <= 10; i++) await b.publish('h-silent', i)
    await until(() => messages(events).length === 10, 10_000, 'all ten')
    expect(messages(events).map((m) => m.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(warnings.some((w) => w.includes('silent'))).toBe(true)
  })
})

describe('presence across nodes', () => {
  it('the same user on two nodes is one member: one join, counted once; it leaves with its last connection after the grace window', async () => {
    const a = await node()
    const b = await node()
    const seen = await listen(b, 'room-u')
    const brief = () =>
      seen.map((e) =>
        e.kind === 'presence'
          ? `${e.action} ${e.user ? `${e.user.userId}:${e.user.connections}` : '-'} ${e.counts.connections}/${e.counts.users}`
          : e.kind,
      )
    await a.presence.add('room-u', { userId: 'ada', connectionId: 'a1' })
    await b.presence.add('room-u', { userId: 'ada', connectionId: 'b1' })
    expect(await a.presence.users('room-u')).toEqual([{ userId: 'ada', connections: 2 }])
    expect(await b.presence.counts('room-u')).toEqual({ connections: 2, users: 1 })
    // Her connection on a goes, with a grace window: still one connection left, so only a count.
    await a.presence.remove('room-u', 'a1', { graceMs: 200 })
    // The last one goes on b; she comes back on a inside the window: no leave, no join.
    await b.presence.remove('room-u', 'b1', { graceMs: 200 })
    await a.presence.add('room-u', { userId: 'ada', connectionId: 'a2' })
    await new Promise((r) => setTimeout(r, 400))
    expect(brief()).toEqual([
      'join ada:1 1/1',
      'count ada:2 2/1',
      'count ada:1 1/1',
      'count - 0/1',
      'count ada:1 1/1',
    ])
    await a.presence.remove('room-u', 'a2', { graceMs: 200 })
    await until(() => brief().length === 7, 3000, 'the leave after the window')
    expect(brief().slice(5)).toEqual(['count - 0/1', 'leave ada:0 0/0'])
  })

  it('a node that dies during a grace window: the reaper finishes its pending leave', async () => {
    const b = await node()
    const seen = await listen(b, 'room-g')
    const proxy = await TcpProxy.start(redis.port)
    open.push(proxy)
    const c = await node({ url: proxy.url, commandTimeoutMs: 500 })
    await c.presence.add('room-g', { userId: 'dee', connectionId: 'c9' })
    await c.presence.remove('room-g', 'c9', { graceMs: 60_000 })
    await until(() => seen.length === 2, 5000, 'join and count')
    proxy.freezeAll() // c dies before its 60 s window ends: the reaper ends it
    await until(() => seen.length === 3, 5000, 'dee leaves')
    expect(seen[2]).toMatchObject({
      action: 'leave',
      user: { userId: 'dee' },
      counts: { connections: 0, users: 0 },
    })
  })

  it('joins and leaves reach every node’s listener; a node that stops heartbeating loses its members', async () => {
    const a = await node()
    const b = await node()
    const seen = await listen(b, 'room-x')
    const ada = { userId: 'ada', connectionId: 'c1', info: { name: 'Ada' } }
    const bob = { userId: 'bob', connectionId: 'c2' }
    await a.presence.add('room-x', ada)
    await b.presence.add('room-x', bob)
    await a.presence.remove('room-x', 'c1')
    await until(() => seen.length === 3, 5000, 'three presence events')
    expect(seen).toEqual([
      {
        kind: 'presence',
        channel: 'room-x',
        action: 'join',
        user: { userId: 'ada', info: { name: 'Ada' }, connections: 1 },
        counts: { connections: 1, users: 1 },
      },
      {
        kind: 'presence',
        channel: 'room-x',
        action: 'join',
        user: { userId: 'bob', connections: 1 },
        counts: { connections: 2, users: 2 },
      },
      {
        kind: 'presence',
        channel: 'room-x',
        action: 'leave',
        user: { userId: 'ada', info: { name: 'Ada' }, connections: 0 },
        counts: { connections: 1, users: 1 },
      },
    ])

    // A node that dies without a goodbye: here its connection to Redis is cut and never comes back.
    const proxy = await TcpProxy.start(redis.port)
    open.push(proxy)
    const c = await node({ url: proxy.url, commandTimeoutMs: 500 })
    const cy = { userId: 'cy', connectionId: 'c3' }
    await c.presence.add('room-x', cy)
    await until(() => seen.length === 4, 5000, 'cy joins')
    proxy.freezeAll() // node c's connections go silent, and so will its reconnections
    await until(() => seen.length === 5, 5000, 'cy leaves')
    expect(seen[4]).toEqual({
      kind: 'presence',
      channel: 'room-x',
      action: 'leave',
      user: { userId: 'cy', connections: 0 },
      counts: { connections: 1, users: 1 },
    })
    expect(await b.presence.list('room-x')).toEqual([bob])
  })
})
