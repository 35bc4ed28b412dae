// A channel whose slot moves, or whose primary dies, while a node on another broker is subscribed
// and a third publishes without pause (issue 19): the subscriber follows the move (ioredis moves
// its sharded subscription) and what was published meanwhile comes from history — every message
// once, in offset order, and no `reset` while history still holds the gap. A real cluster: three
// primaries, each with a replica, started for this file.
import { createHash } from 'node:crypto'
import type { BrokerEvent, BrokerMessage } from '@switchboard/broker'
import { RedisBroker } from '@switchboard/redis'
import { afterEach, expect, it } from 'vitest'
import { redisClusterFixture } from './redis-cluster.js'
import { uniquePrefix, until } from './redis-helpers.js'

const fixture = redisClusterFixture({ primaries: 3, replicas: 1 })
const open: RedisBroker[] = []
afterEach(async () => {
  for (const b of open.splice(0)) await b.close()
})

async function node(prefix: string): Promise<RedisBroker> {
  const b = new RedisBroker({
    cluster: { nodes: fixture.cluster.seeds },
    prefix,
    history: () => ({ size: 100_000, ttlMs: 3_600_000 }),
    logger: { warn() {} },
  })
  open.push(b)
  await b.ready
  return b
}

/** The cluster slot of a channel's keys: its bucket's hash tag. */
function slotTag(channel: string): string {
  return `{c:${createHash('sha1').update(channel).digest('hex').slice(0, 3)}}`
}

/** Publishes one message every few ms until stopped; answers the offsets acknowledged. */
function publishing(b: RedisBroker, channel: string) {
  let on = true
  const acked: number[] = []
  let failed = 0
  const done = (async () => {
    let seq = 0
    while (on) {
      seq++
      await b.publish(channel, { seq }).then(
        (p) => void acked.push(p.offset),
        () => void failed++,
      )
      await new Promise((r) => setTimeout(r, 3))
    }
  })()
  return {
    acked,
    get failed() {
      return failed
    },
    stop: async () => {
      on = false
      await done
    },
  }
}

function record(b: RedisBroker, channel: string): Promise<BrokerEvent[]> {
  const events: BrokerEvent[] = []
  return b.subscribe(channel, (e) => events.push(e)).then(() => events)
}

it('moving the slot of a channel with a live subscriber loses nothing and says no reset', {
  timeout: 60_000,
}, async () => {
  const prefix = uniquePrefix()
  const [sub, pub] = [await node(prefix), await node(prefix)]
  const channel = 'moving-room'
  const events = await record(sub, channel)
  const slot = await fixture.cluster.slotOf(slotTag(channel))
  const from = await fixture.cluster.ownerOf(slot)
  const to = (await fixture.cluster.topology()).find((n) => n.primary && n.id !== from.id)!

  const p = publishing(pub, channel)
  await until(() => p.acked.length >= 100)
  await fixture.cluster.moveSlot(slot, to)
  expect((await fixture.cluster.ownerOf(slot)).id).toBe(to.id)
  const before = p.acked.length
  await until(() => p.acked.length >= before + 300, 20_000, 'publishes after the move')
  await p.stop()

  const head = (await pub.position(channel)).offset
  const messages = () => events.filter((e): e is BrokerMessage => e.kind === 'message')
  await until(() => messages().at(-1)?.offset === head, 15_000, `the subscriber reaches ${head}`)
  expect(events.filter((e) => e.kind === 'reset')).toEqual([])
  expect(messages().map((m) => m.offset)).toEqual(Array.from({ length: head }, (_, i) => i + 1))
  expect(messages().map((m) => (m.data as { seq: number }).seq)).toEqual(
    Array.from({ length: head }, (_, i) => i + 1),
  )
  expect(p.failed).toBe(0)
})

it('a primary killed under a live channel: its replica takes over, the subscriber follows, in order', {
  timeout: 90_000,
}, async () => {
  const prefix = uniquePrefix()
  const [sub, pub] = [await node(prefix), await node(prefix)]
  const channel = 'failover-room'
  const events = await record(sub, channel)
  const slot = await fixture.cluster.slotOf(slotTag(channel))
  const primary = await fixture.cluster.ownerOf(slot)

  const p = publishing(pub, channel)
  await until(() => p.acked.length >= 100)
  await fixture.cluster.kill(primary.port)
  // The replica is promoted once the others agree the primary is gone (node timeout 2 s).
  await until(
    async () => (await fixture.cluster.ownerOf(slot).catch(() => primary)).id !== primary.id,
    30_000,
    'failover',
  )
  const before = p.acked.length
  await until(() => p.acked.length >= before + 200, 30_000, 'publishes after the failover')
  await p.stop()

  const head = await pub.position(channel)
  const messages = () => events.filter((e): e is BrokerMessage => e.kind === 'message')
  await until(
    () => messages().at(-1)?.offset === head.offset,
    15_000,
    `the subscriber reaches ${head.offset}`,
  )
  // What the subscriber has after its last reset (if any) is the history, once each, in order.
  const resetAt = events.findLastIndex((e) => e.kind === 'reset')
  const after = events.slice(resetAt + 1).filter((e): e is BrokerMessage => e.kind === 'message')
  const offsets = after.map((m) => m.offset)
  expect(offsets).toEqual([...offsets].sort((a, b) => a - b))
  expect(new Set(offsets).size).toBe(offsets.length)
  const history = await pub.history(channel, { epoch: head.epoch, offset: 0 })
  expect(history.complete).toBe(true)
  const stored = new Map(history.messages.map((m) => [m.offset, m.data]))
  for (const m of after) if (m.epoch === head.epoch) expect(m.data).toEqual(stored.get(m.offset))
  // Nothing acknowledged before the kill is missing from the history but the unreplicated tail.
  expect(head.offset).toBeGreaterThanOrEqual(p.acked.length - 20)
})
