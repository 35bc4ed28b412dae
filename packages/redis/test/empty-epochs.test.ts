// Channels that were never published, on Redis (issue 13, point 14): every node reports the same
// empty epoch for them without storing anything, a first publish from any node lands in it, and
// once a published channel's keys expired its next life starts another epoch.
import { createHash } from 'node:crypto'
import type { BrokerEvent } from '@switchboard/broker'
import { RedisBroker } from '@switchboard/redis'
import { afterEach, expect, it } from 'vitest'
import { countKeys, deleteKeys, SHARED_REDIS, uniquePrefix, until } from './redis-helpers.js'

const open: RedisBroker[] = []
const prefixes: string[] = []
afterEach(async () => {
  for (const b of open.splice(0)) await b.close()
  for (const prefix of prefixes.splice(0)) await deleteKeys(SHARED_REDIS, prefix)
})

async function node(prefix: string, channelTtlMs?: number): Promise<RedisBroker> {
  const b = new RedisBroker({ url: SHARED_REDIS, prefix, channelTtlMs, logger: { warn() {} } })
  open.push(b)
  await b.ready
  return b
}

function prefix(): string {
  const p = uniquePrefix()
  prefixes.push(p)
  return p
}

it('two nodes agree on an unpublished channel’s epoch; a first publish from the other node lands in it', async () => {
  const p = prefix()
  const [a, b] = [await node(p), await node(p)]
  const keys = await countKeys(SHARED_REDIS, p)
  const events: BrokerEvent[] = []
  await a.subscribe('room', (e) => events.push(e))
  const pos = await a.position('room')
  expect(await b.position('room')).toEqual(pos)
  await a.history('room', { epoch: 'x', offset: 4 })
  await b.recent('room', 5)
  expect(await countKeys(SHARED_REDIS, p)).toBe(keys)

  expect(await b.publish('room', 'first')).toEqual({ epoch: pos.epoch, offset: 1 })
  // Delivered as the next message of the stream a listened to, not as a gap (a reset).
  await until(() => events.length > 0, 5000, 'the first message')
  expect(events).toEqual([{ kind: 'message', channel: 'room', epoch: pos.epoch, offset: 1, data: 'first' }])
})

it('once a published channel has expired, its next life is another epoch', async () => {
  const p = prefix()
  const b = await node(p, 300)
  const before = await b.position('brief')
  const published = await b.publish('brief', 'x')
  expect(published).toEqual({ epoch: before.epoch, offset: 1 })
  await until(async () => (await b.position('brief')).offset === 0, 5000, 'the channel to expire')
  const after = await b.position('brief')
  expect(after.epoch).not.toBe(before.epoch)
  expect(await b.history('brief', published)).toMatchObject({ complete: false, position: after })
})

it('a first publish after the empty epoch moved still reaches a listener as the next message', async () => {
  const p = prefix()
  const b = await node(p)
  const events: BrokerEvent[] = []
  await b.subscribe('lobby', (e) => events.push(e))
  const before = await b.position('lobby')
  // Another channel of the same generation slot is published first: the lobby's empty epoch moves.
  const slot = (name: string) => createHash('sha1').update(name).digest('hex').slice(0, 3)
  let other = 'lobby-0'
  for (let i = 1; slot(other) !== slot('lobby'); i++) other = `lobby-${i}`
  await b.publish(other, 'elsewhere')
  const moved = await b.position('lobby')
  expect(moved.epoch).not.toBe(before.epoch)

  const first = await b.publish('lobby', 'first')
  expect(first).toEqual({ epoch: moved.epoch, offset: 1 })
  await until(() => events.length > 0, 5000, 'the first message')
  // Delivered, not a reset: nothing was missed.
  expect(events).toEqual([
    { kind: 'message', channel: 'lobby', epoch: moved.epoch, offset: 1, data: 'first' },
  ])
})
