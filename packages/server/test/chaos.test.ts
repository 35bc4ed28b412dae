// Randomized: many real clients on several channels while publishers publish at a steady rate and
// transports are dropped at random moments — server side (close 1012, terminate) and client side
// (socket destroyed, close 1001, a stall: the socket stops reading, then dies). At the end every client has every message of every channel it
// follows exactly once and in order — or it was told `recovered: false`, and then what it got is
// still unique and in order. The test's own choices come from a seeded PRNG; the seed is printed:
//
//   SEED=1234 npx vitest run packages/server/test/chaos.test.ts       replay one run
//   CHAOS_MS=60000 CHAOS_CLIENTS=40 npx vitest run …/chaos.test.ts     run longer / wider
import { randomInt } from 'node:crypto'
import { type RecoveryInfo, SwitchboardClient } from '@switchboard/client'
import type { JsonValue } from '@switchboard/protocol'
import { prng, startServer, until } from '@switchboard/testing'
import { afterAll, expect, it } from 'vitest'
import { SocketTracker } from './client-helpers.js'

const SEED = process.env.SEED ? Number(process.env.SEED) : randomInt(2 ** 31)
const CHAOS_MS = Number(process.env.CHAOS_MS ?? 5000)
const CLIENTS = Number(process.env.CHAOS_CLIENTS ?? 20)
const TIMEOUT_MS = CHAOS_MS + 60_000
/** Big channels keep everything, so recovery must always succeed there; small ones keep 4. */
const BIG = ['big:0', 'big:1', 'big:2']
const SMALL = ['small:0']
const CHANNELS = [...BIG, ...SMALL]
/** Server publishes per channel per second; plus one publishing client on big:0. */
const RATE = 80

interface Seen {
  epoch: string
  offset: number
  data: JsonValue
}

interface Follower {
  name: string
  client: SwitchboardClient
  tracker: SocketTracker
  channels: string[]
  seen: Map<string, Seen[]>
  recoveries: Map<string, RecoveryInfo[]>
}

const cleanups: Array<() => Promise<void> | void> = []
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

it(`every message once, in order, through random drops (SEED=${SEED})`, { timeout: TIMEOUT_MS }, async () => {
  console.log(`chaos: SEED=${SEED} CHAOS_MS=${CHAOS_MS} CHAOS_CLIENTS=${CLIENTS}`)
  const random = prng(SEED)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!
  const { sb, url } = await startServer({
    channels: {
      'big:*': { history: 1_000_000, clientPublish: true },
      'small:*': { history: 4 },
    },
  })
  cleanups.push(() => sb.close({ timeout: 500 }))

  const newClient = (tracker: SocketTracker) => {
    const client = new SwitchboardClient(url, {
      WebSocket: tracker.WebSocket,
      backoff: () => 10 + Math.floor(random() * 40),
      requestTimeout: 30_000,
    })
    cleanups.push(() => client.close())
    return client
  }

  // ---- followers: each subscribes to a random non-empty subset of the channels ----------------
  const followers: Follower[] = []
  for (let i = 0; i < CLIENTS; i++) {
    const tracker = new SocketTracker()
    const client = newClient(tracker)
    const channels = CHANNELS.filter(() => random() < 0.7)
    if (channels.length === 0) channels.push(pick(CHANNELS))
    const f: Follower = { name: `f${i}`, client, tracker, channels, seen: new Map(), recoveries: new Map() }
    for (const name of channels) {
      const ch = client.channel(name)
      f.seen.set(name, [])
      f.recoveries.set(name, [])
      ch.on('publication', (p) =>
        f.seen.get(name)!.push({ epoch: p.epoch, offset: p.offset, data: p.data as JsonValue }),
      )
      ch.on('recovery', (r) => f.recoveries.get(name)!.push(r))
      ch.on('error', (e) => {
        throw new Error(`${f.name} ${name}: channel error ${e.code}`)
      })
    }
    followers.push(f)
  }
  await until(
    () => followers.every((f) => f.channels.every((n) => f.client.channel(n).state === 'subscribed')),
    15_000,
  )

  // ---- publishers: the server at a steady rate, and a client that is dropped too --------------
  const pubTracker = new SocketTracker()
  const publisher = newClient(pubTracker)
  const acked = new Map<number, number>() // client seq → offset
  const failed: number[] = []
  let publishing = true
  let serverPublished = 0
  const serverPublishing = (async () => {
    let tick = 0
    const started = Date.now()
    while (publishing) {
      tick++
      for (const channel of CHANNELS) {
        void sb.publish(channel, { src: 'server', seq: tick })
        serverPublished++
      }
      // Steady rate, whatever the scheduling jitter.
      const due = started + (tick * 1000) / RATE
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())))
    }
  })()
  const clientPublishing = (async () => {
    let seq = 0
    const inFlight: Promise<void>[] = []
    while (publishing) {
      const mine = ++seq
      inFlight.push(
        publisher.publish('big:0', { src: 'client', seq: mine }).then(
          (pos) => void acked.set(mine, pos.offset),
          () => void failed.push(mine),
        ),
      )
      await new Promise((r) => setTimeout(r, 40))
    }
    await Promise.all(inFlight)
    return seq
  })()

  // ---- chaos ------------------------------------------------------------------------------------
  const drops = { serverClose: 0, serverTerminate: 0, clientDestroy: 0, clientClose: 0, clientStall: 0 }
  const everyone = [
    ...followers.map((f) => ({ client: f.client, tracker: f.tracker })),
    { client: publisher, tracker: pubTracker },
  ]
  const started = Date.now()
  while (Date.now() - started < CHAOS_MS) {
    await new Promise((r) => setTimeout(r, 5 + Math.floor(random() * 60)))
    const victim = pick(everyone)
    const action = random()
    if (action < 0.25) {
      const id = victim.client.connectionId
      const conn = id === undefined ? undefined : sb.connections.get(id)
      if (!conn) continue
      conn.close(1012, 'chaos')
      drops.serverClose++
    } else if (action < 0.5) {
      const id = victim.client.connectionId
      const conn = id === undefined ? undefined : sb.connections.get(id)
      if (!conn) continue
      ;(conn as unknown as { terminate(code: number, reason: string): void }).terminate(1006, 'chaos')
      drops.serverTerminate++
    } else if (action < 0.7) {
      const ws = victim.tracker.current
      if (!ws) continue
      ws.terminate()
      drops.clientDestroy++
    } else if (action < 0.8) {
      // A stalled network: nothing read for a while (the small history moves past), then dead.
      const ws = victim.tracker.current
      if (!ws) continue
      ws.pause()
      const stall = 50 + Math.floor(random() * 250)
      setTimeout(() => ws.terminate(), stall)
      drops.clientStall++
    } else {
      const ws = victim.tracker.current
      if (!ws) continue
      ws.close(1001, 'chaos')
      drops.clientClose++
    }
  }
  publishing = false
  const clientPublished = await Promise.race([
    clientPublishing,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('client publishes never settled')), 15_000),
    ),
  ])
  await serverPublishing
  const chaosMs = Date.now() - started

  // ---- the truth: each channel's whole stream --------------------------------------------------
  const truth = new Map<string, { epoch: string; data: JsonValue[] }>()
  for (const channel of BIG) {
    const pos = await sb.broker.position(channel)
    const h = await sb.broker.history(channel, { epoch: pos.epoch, offset: 0 })
    expect(h.complete, `${channel}: the big history kept everything`).toBe(true)
    truth.set(channel, { epoch: pos.epoch, data: h.messages.map((m) => m.data) })
  }
  for (const channel of SMALL) {
    const pos = await sb.broker.position(channel)
    // Only the server publishes there, one message per tick, in tick order.
    const data = Array.from({ length: pos.offset }, (_, i) => ({ src: 'server', seq: i + 1 }))
    truth.set(channel, { epoch: pos.epoch, data })
  }

  // Every client publish that was acknowledged landed exactly once, at its acked offset.
  const big0 = truth.get('big:0')!.data as Array<{ src: string; seq: number }>
  const clientSeqs = big0.filter((d) => d.src === 'client').map((d) => d.seq)
  expect(new Set(clientSeqs).size, 'no client publish landed twice').toBe(clientSeqs.length)
  for (const [seq, offset] of acked) expect(big0[offset - 1]).toEqual({ src: 'client', seq })
  expect(failed, 'no client publish failed').toEqual([])

  // ---- every follower catches up, then is checked ----------------------------------------------
  // Caught up: subscribed at the channel's head. The last messages themselves may be missing if
  // the last resubscribe said `recovered: false` (the channel position then comes from the reply).
  const caughtUp = (f: Follower, n: string) => {
    const ch = f.client.channel(n)
    return ch.state === 'subscribed' && ch.position?.offset === truth.get(n)!.data.length
  }
  await until(() => followers.every((f) => f.channels.every((n) => caughtUp(f, n))), 20_000).catch(() => {
    const behind = followers.flatMap((f) =>
      f.channels
        .filter((n) => !caughtUp(f, n))
        .map(
          (n) =>
            `${f.name}/${n} ${f.client.channel(n).state} at ${f.client.channel(n).position?.offset} of ${truth.get(n)!.data.length}`,
        ),
    )
    throw new Error(`followers never caught up (SEED=${SEED}): ${behind.join(', ')}`)
  })

  let exact = 0
  let toldGap = 0
  let recoveredTrue = 0
  for (const f of followers) {
    for (const name of f.channels) {
      const { epoch, data } = truth.get(name)!
      const seen = f.seen.get(name)!
      const recoveries = f.recoveries.get(name)!
      const where = `${f.name}/${name} (SEED=${SEED})`
      recoveredTrue += recoveries.filter((r) => r.recovered).length
      // Unique and in order, each message what was published at that offset.
      for (const [i, s] of seen.entries()) {
        expect(s.epoch, where).toBe(epoch)
        if (i > 0) expect(s.offset, where).toBeGreaterThan(seen[i - 1]!.offset)
        expect(s.data, where).toEqual(data[s.offset - 1])
      }
      const gaps = recoveries.filter((r) => !r.recovered)
      if (BIG.includes(name)) expect(gaps, `${where}: a big history always recovers`).toEqual([])
      if (gaps.length === 0) {
        expect(
          seen.map((s) => s.offset),
          where,
        ).toEqual(Array.from({ length: data.length }, (_, i) => i + 1))
        exact++
      } else {
        toldGap++
      }
    }
  }
  const summary = {
    seed: SEED,
    clients: CLIENTS + 1,
    channels: CHANNELS.length,
    messages: Object.fromEntries([...truth].map(([n, t]) => [n, t.data.length])),
    serverPublished,
    clientPublished,
    clientAcked: acked.size,
    drops,
    totalDrops: Object.values(drops).reduce((a, b) => a + b, 0),
    reconnects: [...followers.map((f) => f.tracker), pubTracker].reduce(
      (a, t) => a + t.sockets.length - 1,
      0,
    ),
    recoveredTrue,
    subscriptionsExact: exact,
    subscriptionsToldGap: toldGap,
    chaosMs,
  }
  console.log(`chaos summary: ${JSON.stringify(summary)}`)
  expect(summary.totalDrops).toBeGreaterThan(20)
  expect(recoveredTrue).toBeGreaterThan(0)
})
