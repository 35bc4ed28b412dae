// The chaos test (packages/server/test/chaos.test.ts) on a real Redis Cluster: two Switchboard
// nodes, each with its RedisBroker on a three-primary cluster started for this file; clients
// follow random channels through either node while both nodes publish at a steady rate, their
// connections are closed or cut at random moments (they come back on either node), and the slot
// of a channel is moved to another primary midway. At the end every client has every message of
// every channel once and in order — or was told `recovered: false`, and what it got is still
// unique and in order. The choices come from a seeded PRNG; the seed is printed:
//
//   SEED=1234 npx vitest run packages/redis/test/chaos-cluster.test.ts
import { createHash, randomInt } from 'node:crypto'
import { type RecoveryInfo, SwitchboardClient } from '@switchboard/client'
import type { JsonValue } from '@switchboard/protocol'
import { RedisBroker } from '@switchboard/redis'
import { ChannelRules, type SwitchboardOptions } from '@switchboard/server'
import { prng, startServer } from '@switchboard/testing'
import { afterAll, expect, it } from 'vitest'
import { redisClusterFixture } from './redis-cluster.js'
import { uniquePrefix, until } from './redis-helpers.js'

const SEED = process.env.SEED ? Number(process.env.SEED) : randomInt(2 ** 31)
const CHAOS_MS = Number(process.env.CHAOS_MS ?? 5000)
const CLIENTS = Number(process.env.CHAOS_CLIENTS ?? 16)
const BIG = ['big:0', 'big:1', 'big:2']
const SMALL = ['small:0']
const CHANNELS = [...BIG, ...SMALL]
const RATE = 40

const fixture = redisClusterFixture()
const cleanups: Array<() => unknown> = []
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

interface Seen {
  epoch: string
  offset: number
  data: JsonValue
}

it(`every message once, in order, through drops and a slot move (SEED=${SEED})`, {
  timeout: CHAOS_MS + 90_000,
}, async () => {
  console.log(`chaos-cluster: SEED=${SEED} CHAOS_MS=${CHAOS_MS} CHAOS_CLIENTS=${CLIENTS}`)
  const random = prng(SEED)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!
  const channels: SwitchboardOptions['channels'] = {
    'big:*': { history: 1_000_000 },
    'small:*': { history: 4 },
  }
  const rules = new ChannelRules(channels)
  const prefix = uniquePrefix()
  cleanups.push(() => fixture.cluster.deleteKeys(prefix))
  const servers = []
  for (let i = 0; i < 2; i++) {
    const broker = new RedisBroker({
      cluster: { nodes: fixture.cluster.seeds },
      prefix,
      history: (channel) => rules.get(channel).history,
      logger: { warn() {} },
    })
    await broker.ready
    cleanups.push(() => broker.close())
    const server = await startServer({ channels, broker })
    cleanups.push(() => server.sb.close({ timeout: 500 }))
    servers.push(server)
  }
  const urls = servers.map((s) => s.url)

  const followers = Array.from({ length: CLIENTS }, (_, i) => {
    const start = Math.floor(random() * urls.length)
    const client = new SwitchboardClient([...urls.slice(start), ...urls.slice(0, start)], {
      backoff: () => 10 + Math.floor(random() * 40),
      requestTimeout: 30_000,
    })
    cleanups.push(() => client.close())
    const names = CHANNELS.filter(() => random() < 0.7)
    if (names.length === 0) names.push(pick(CHANNELS))
    const seen = new Map<string, Seen[]>()
    const recoveries = new Map<string, RecoveryInfo[]>()
    for (const name of names) {
      const ch = client.channel(name)
      seen.set(name, [])
      recoveries.set(name, [])
      ch.on('publication', (p) =>
        seen.get(name)!.push({ epoch: p.epoch, offset: p.offset, data: p.data as JsonValue }),
      )
      ch.on('recovery', (r) => recoveries.get(name)!.push(r))
    }
    return { name: `f${i}`, client, names, seen, recoveries }
  })
  await until(
    () => followers.every((f) => f.names.every((n) => f.client.channel(n).state === 'subscribed')),
    20_000,
  )

  // Both nodes publish, each on every channel, at a steady rate.
  let publishing = true
  const published = (async () => {
    let tick = 0
    const started = Date.now()
    while (publishing) {
      tick++
      for (const channel of CHANNELS) void pick(servers).sb.publish(channel, { tick })
      await new Promise((r) => setTimeout(r, Math.max(0, started + (tick * 1000) / RATE - Date.now())))
    }
  })()

  let drops = 0
  let moved = false
  const started = Date.now()
  while (Date.now() - started < CHAOS_MS) {
    await new Promise((r) => setTimeout(r, 5 + Math.floor(random() * 60)))
    if (!moved && Date.now() - started > CHAOS_MS / 2) {
      moved = true
      const tag = `{c:${createHash('sha1').update('big:0').digest('hex').slice(0, 3)}}`
      const slot = await fixture.cluster.slotOf(tag)
      const owner = await fixture.cluster.ownerOf(slot)
      const to = (await fixture.cluster.topology()).find((n) => n.primary && n.id !== owner.id)!
      await fixture.cluster.moveSlot(slot, to)
    }
    const f = pick(followers)
    const id = f.client.connectionId
    const conn = id === undefined ? undefined : servers.map((s) => s.sb.connections.get(id)).find(Boolean)
    if (!conn) continue
    conn.close(1012, 'chaos')
    drops++
  }
  publishing = false
  await published
  expect(moved).toBe(true)

  // The truth: each channel's stream as the cluster holds it.
  const broker = servers[0]!.sb.broker
  const truth = new Map<string, { epoch: string; length: number; data: JsonValue[] }>()
  for (const channel of CHANNELS) {
    const pos = await broker.position(channel)
    const h = await broker.history(channel, { epoch: pos.epoch, offset: 0 })
    if (BIG.includes(channel)) expect(h.complete, `${channel} kept everything`).toBe(true)
    truth.set(channel, { epoch: pos.epoch, length: pos.offset, data: h.messages.map((m) => m.data) })
  }
  const caughtUp = (f: (typeof followers)[number], n: string) =>
    f.client.channel(n).state === 'subscribed' &&
    f.client.channel(n).position?.offset === truth.get(n)!.length
  await until(
    () => followers.every((f) => f.names.every((n) => caughtUp(f, n))),
    30_000,
    `followers catch up (SEED=${SEED})`,
  )

  let exact = 0
  for (const f of followers) {
    for (const name of f.names) {
      const { epoch, length, data } = truth.get(name)!
      const seen = f.seen.get(name)!
      const where = `${f.name}/${name} (SEED=${SEED})`
      for (const [i, s] of seen.entries()) {
        expect(s.epoch, where).toBe(epoch)
        if (i > 0) expect(s.offset, where).toBeGreaterThan(seen[i - 1]!.offset)
        if (BIG.includes(name)) expect(s.data, where).toEqual(data[s.offset - 1])
      }
      const gaps = f.recoveries.get(name)!.filter((r) => !r.recovered)
      if (BIG.includes(name)) expect(gaps, `${where}: a big history always recovers`).toEqual([])
      if (gaps.length === 0) {
        expect(
          seen.map((s) => s.offset),
          where,
        ).toEqual(Array.from({ length }, (_, i) => i + 1))
        exact++
      }
    }
  }
  console.log(
    `chaos-cluster summary: ${JSON.stringify({ seed: SEED, drops, exact, messages: Object.fromEntries([...truth].map(([n, t]) => [n, t.length])) })}`,
  )
  expect(drops).toBeGreaterThan(10)
})
