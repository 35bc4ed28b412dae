// A channel's keys expire `ttl` after its last publish, give or take the slack (expiry-refresh.ts):
// a node moves the expiries only now and then, not with every publish. Publishing more often
// than the ttl keeps the stream (same epoch, offsets going on); going quiet lets it expire; every
// key a publish writes carries an expiry, even one created between two refreshes.
import { RedisBroker } from '@switchboard/redis'
import { Redis } from 'ioredis'
import { afterEach, expect, it } from 'vitest'
import { deleteKeys, SHARED_REDIS, uniquePrefix, until } from './redis-helpers.js'

const open: RedisBroker[] = []
const prefixes: string[] = []
afterEach(async () => {
  for (const b of open.splice(0)) await b.close()
  for (const prefix of prefixes.splice(0)) await deleteKeys(SHARED_REDIS, prefix)
})

async function node(channelTtlMs: number, historyTtlMs?: number): Promise<RedisBroker> {
  const prefix = uniquePrefix()
  prefixes.push(prefix)
  const b = new RedisBroker({
    url: SHARED_REDIS,
    prefix,
    channelTtlMs,
    history: () => (historyTtlMs ? { size: 3, ttlMs: historyTtlMs } : undefined),
    logger: { warn() {} },
  })
  open.push(b)
  await b.ready
  return b
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

it('a channel published more often than its ttl keeps its stream; once quiet, it expires', async () => {
  const b = await node(400)
  const first = await b.publish('busy', 0)
  // 1.6 s of publishes every 100 ms: four ttls, each publish well inside the last one's
  for (let i = 1; i <= 16; i++) {
    await sleep(100)
    expect(await b.publish('busy', i)).toEqual({ epoch: first.epoch, offset: i + 1 })
  }
  await until(async () => (await b.position('busy')).offset === 0, 5000, 'the channel to expire')
  expect((await b.position('busy')).epoch).not.toBe(first.epoch)
})

it('every key a publish writes has an expiry, the history list too when it is made afresh', async () => {
  const b = await node(60_000, 300)
  const redis = new Redis(SHARED_REDIS)
  try {
    await b.publish('kept', 'a', { key: 'k1' })
    const keys = await redis.keys(`${prefixes[0]}*kept`)
    expect(keys.length).toBe(3)
    for (const key of keys) expect(await redis.pttl(key), key).toBeGreaterThan(0)
    // the history list expires first (its ttl is shorter); the next publish, inside this node's
    // refresh window, makes a new one — with an expiry of its own
    const hist = keys.find((k) => k.includes('hist:'))!
    await until(async () => (await redis.exists(hist)) === 0, 5000, 'the history list to expire')
    await b.publish('kept', 'b')
    expect(await redis.pttl(hist)).toBeGreaterThan(0)
    expect(await redis.llen(hist)).toBe(1)
  } finally {
    redis.disconnect()
  }
})

it('history keeps its size: older entries are trimmed', async () => {
  const b = await node(60_000, 60_000)
  const pos = await b.position('trimmed')
  for (let i = 1; i <= 5; i++) await b.publish('trimmed', i)
  const recent = await b.recent('trimmed', 10)
  expect(recent.messages.map((m) => m.data)).toEqual([3, 4, 5])
  expect(recent.position).toEqual({ epoch: pos.epoch, offset: 5 })
})
