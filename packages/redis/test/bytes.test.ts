// What the Redis broker writes for data, and bytes between two brokers on the shared Redis (each
// test under its own key prefix). Data without bytes is stored and published as exactly the text
// it always was, so what Redis already holds stays readable; bytes are written as
// `{"$bin": base64}` and come back as a Uint8Array; a routed event carries bytes to another node;
// data no codec can carry is refused before an offset is taken; a `$bin` that is not base64
// (another program writing under our prefix) is dropped, never thrown or delivered.
import type { BrokerEvent, RoutedEvent } from '@switchboard/broker'
import { type PresenceMember, SwitchboardError } from '@switchboard/protocol'
import { RedisBroker } from '@switchboard/redis'
import { Redis } from 'ioredis'
import { afterEach, expect, it } from 'vitest'
import { deleteKeys, SHARED_REDIS, uniquePrefix, until } from './redis-helpers.js'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const NOW = 1_700_000_000_000

async function brokers(count: number) {
  const prefix = uniquePrefix()
  cleanups.push(() => deleteKeys(SHARED_REDIS, prefix))
  const made: RedisBroker[] = []
  for (let i = 0; i < count; i++) {
    const broker = new RedisBroker({
      url: SHARED_REDIS,
      prefix,
      history: () => ({ size: 10, ttlMs: Number.POSITIVE_INFINITY }),
      now: () => NOW,
      logger: { warn() {} },
    })
    cleanups.push(() => broker.close())
    await broker.ready
    made.push(broker)
  }
  const raw = new Redis(SHARED_REDIS)
  cleanups.push(() => raw.quit())
  return { prefix, brokers: made, raw }
}

/** A raw subscriber on `name`, recording every payload as Redis carried it. */
async function tap(name: string): Promise<string[]> {
  const sub = new Redis(SHARED_REDIS)
  cleanups.push(() => sub.quit())
  const seen: string[] = []
  sub.on('message', (_channel: string, payload: string) => seen.push(payload))
  await sub.subscribe(name)
  return seen
}

it('writes data without bytes exactly as before: history entry, pub/sub message, presence entry, routed event', async () => {
  const {
    prefix,
    brokers: [a, b],
    raw,
  } = await brokers(2)
  const data = { s: 'é✓ "q" \\ $bin', n: -1.5, z: null, a: [1, { x: [] }] }
  const published = await tap(`${prefix}ch:plain`)
  const pos = await a!.publish('plain', data, { except: 'conn-1' })
  await until(() => published.length === 1, 5000, 'the pub/sub message')
  expect(published).toEqual([`["m","${pos.epoch}",1,"conn-1",${JSON.stringify(data)}]`])
  expect(await raw.lrange(`${prefix}hist:plain`, 0, -1)).toEqual([
    `[${NOW},1,"conn-1",${JSON.stringify(data)}]`,
  ])

  const member: PresenceMember = { userId: 'ada', connectionId: 'c1', info: { device: 'laptop' } }
  const joins = await tap(`${prefix}ch:room`)
  await a!.presence.add('room', member)
  expect(await raw.hget(`${prefix}pres:room`, 'c1')).toBe(`${a!.nodeId}\n${JSON.stringify(member)}`)
  await until(() => joins.length === 1, 5000, 'the join')
  // The join is per user, with its connection count and the channel's counts (user presence).
  expect(joins).toEqual([
    `["p","join",{"userId":"ada","info":${JSON.stringify(member.info)},"connections":1},1,1]`,
  ])
  expect(await raw.hget(`${prefix}pinf:room`, 'ada')).toBe(
    `"userId":"ada","info":${JSON.stringify(member.info)}`,
  )

  const routed = await tap(`${prefix}route:${b!.nodeId}`)
  await a!.route(`${b!.nodeId}.x`, { event: 'notice', data })
  await until(() => routed.length === 1, 5000, 'the routed event')
  expect(routed).toEqual([JSON.stringify([`${b!.nodeId}.x`, 'notice', data])])
})

it('writes bytes as {"$bin": base64} and reads them back as Uint8Array; what was stored before still reads', async () => {
  const {
    prefix,
    brokers: [a],
    raw,
  } = await brokers(1)
  const key = `${prefix}hist:bin`
  // An entry as an older version stored it, then one with bytes.
  await a!.publish('bin', { old: [1, 2] })
  await a!.publish('bin', { b: Buffer.from([1, 2, 3]), e: new Uint8Array(0), ab: Uint8Array.of(255).buffer })
  expect((await raw.lrange(key, 1, 1))[0]).toBe(
    `[${NOW},2,null,{"b":{"$bin":"AQID"},"e":{"$bin":""},"ab":{"$bin":"/w=="}}]`,
  )
  const { messages } = await a!.recent('bin', 10)
  expect(messages[0]!.data).toEqual({ old: [1, 2] })
  const got = messages[1]!.data as Record<string, unknown>
  for (const [k, bytes] of [
    ['b', [1, 2, 3]],
    ['e', []],
    ['ab', [255]],
  ] as const) {
    // A plain Uint8Array (not a view into Buffer's shared pool), with exactly these bytes.
    expect(got[k]).toBeInstanceOf(Uint8Array)
    expect(Buffer.isBuffer(got[k])).toBe(false)
    expect(Array.from(got[k] as Uint8Array)).toEqual(bytes)
    expect((got[k] as Uint8Array).buffer.byteLength).toBe(bytes.length)
  }
})

it('carries bytes in an event routed to a connection on another node', async () => {
  const {
    brokers: [a, b],
  } = await brokers(2)
  const got: Array<[string, RoutedEvent]> = []
  b!.onRoute((id, routed) => {
    got.push([id, routed])
    return true
  })
  const id = `${b!.nodeId}.conn`
  expect(await a!.route(id, { event: 'file', data: Uint8Array.of(0, 1, 255) })).toBe(true)
  expect(await a!.route(id, { event: 'nested', data: { parts: [Uint8Array.of(7).buffer, 'x'] } })).toBe(true)
  await until(() => got.length === 2, 5000, 'both routed events')
  expect(got[0]![1].data).toBeInstanceOf(Uint8Array)
  expect(Array.from(got[0]![1].data as Uint8Array)).toEqual([0, 1, 255])
  const parts = (got[1]![1].data as { parts: unknown[] }).parts
  expect(parts[0]).toBeInstanceOf(Uint8Array)
  expect(Array.from(parts[0] as Uint8Array)).toEqual([7])
  expect(parts[1]).toBe('x')
})

it('refuses data no codec can carry before an offset is taken', async () => {
  const {
    brokers: [a],
  } = await brokers(1)
  const before = await a!.position('h-refused')
  for (const data of [{ $bin: 'AQID' }, { n: 10n }, new Map(), [undefined]]) {
    const refusal = a!.publish('h-refused', data as never)
    await expect(refusal).rejects.toBeInstanceOf(SwitchboardError)
    await expect(refusal).rejects.toMatchObject({ code: 'invalid_payload' })
  }
  expect(await a!.position('h-refused')).toEqual(before)
  await expect(
    a!.presence.add('room', { userId: 'u', connectionId: 'c', info: { $bin: 'AQID' } }),
  ).rejects.toMatchObject({ code: 'invalid_payload' })
  expect(await a!.presence.list('room')).toEqual([])
})

it('drops a "$bin" that is not base64, on the pub/sub channel, in history and on a route, and goes on', async () => {
  const {
    prefix,
    brokers: [a],
    raw,
  } = await brokers(1)
  const events: BrokerEvent[] = []
  await a!.subscribe('junk', (e) => events.push(e))
  const pos = await a!.publish('junk', Uint8Array.of(1))
  await a!.publish('junk', Uint8Array.of(2))
  await until(() => events.length === 2, 5000, 'two messages')
  // Junk: offset 2's history entry, offset 3 on the pub/sub channel, a presence entry.
  await raw.lset(`${prefix}hist:junk`, 1, `[${NOW},2,null,{"$bin":"****"}]`)
  await raw.publish(`${prefix}ch:junk`, `["m","${pos.epoch}",3,null,{"$bin":"not base64!"}]`)
  await raw.hset(
    `${prefix}pres:junk`,
    'c9',
    `${a!.nodeId}\n{"userId":"u","connectionId":"c9","info":{"$bin":"A"}}`,
  )
  const routed: unknown[] = []
  a!.onRoute((_id, r) => {
    routed.push(r.data)
    return true
  })
  await raw.publish(`${prefix}route:${a!.nodeId}`, `["${a!.nodeId}.c","e",{"$bin":"%%%%"}]`)
  await raw.publish(`${prefix}route:${a!.nodeId}`, `["${a!.nodeId}.c","e",{"$bin":"Ag=="}]`)
  await until(() => routed.length === 1, 5000, 'the good routed event')
  expect(Array.from(routed[0] as Uint8Array)).toEqual([2])

  // The entry is gone, so history after offset 0 is incomplete (never silently short); the rest reads.
  const history = await a!.history('junk', { epoch: pos.epoch, offset: 0 })
  expect(history).toMatchObject({ complete: false, messages: [] })
  const recent = await a!.recent('junk', 10)
  expect(recent.messages.map((m) => [m.offset, Array.from(m.data as Uint8Array)])).toEqual([[1, [1]]])
  expect(await a!.presence.list('junk')).toEqual([])
  expect(events.map((e) => (e.kind === 'message' ? e.offset : e.kind))).toEqual([1, 2])
})
