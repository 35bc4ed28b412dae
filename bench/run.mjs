#!/usr/bin/env node
// Benchmark orchestrator. Starts every contender as its own process (pinned to CPU 0; the
// multi-node group's idle nodes to CPU 1), a pool of load-generator processes (pinned to CPU 1,
// each on its own source addresses 127.0.N.2–201), runs the same scenarios against each
// contender — rotating the contender order from one scenario group to the next — and writes
// bench/results/latest.json (quick runs: results/quick.json), then docs/benchmarks.md with
// --report.
//
//   node bench/run.mjs                 quick mode: tiny sizes, CI smoke test (< 1 min)
//   node bench/run.mjs --full          the real run (≈ 15–20 min on 2 cores)
//   options: --only=ws-naive,uws  --groups=broadcast-small,codecs,echo,presence  --out=path.json  --report
//            --merge=earlier.json (splice re-run groups into an earlier run)
//            --workers=N  --no-pin  --presence-variants=each,members,counts
//            --skip=multinode (every group but these)  --backends=sb-redis,sio-redis (multinode)
//            --runs=rooms,publish-heavy,idle-nodes  --nodes=3 (multinode, while iterating)
//   env: BENCH_SERVER_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' passes node flags to the servers
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Hist } from './load/hist.mjs'
import { multinodeGroup } from './multinode.mjs'
import { evaluateTargets, writeReport } from './report.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')

const argv = process.argv.slice(2)
const flag = (name) => argv.includes(`--${name}`)
const opt = (name, def) => {
  const a = argv.find((x) => x.startsWith(`--${name}=`))
  return a ? a.slice(name.length + 3) : def
}
const full = flag('full')

/** Sizes. Quick mode is a smoke test: every scenario, tiny and short. */
const CFG = full
  ? {
      workers: 4,
      // rates are offered deliveries the slowest contender (ws naive, ~40k msg/s on a 2-core VM)
      // can still carry; the flat-out runs find each one's ceiling
      broadcast: {
        small: { clients: 1000, rate: 20, burst: 20, burstRate: 30, ms: 4000 },
        large: { clients: 10000, rate: 2, burst: 10, burstRate: 3, ms: 4000 },
      },
      payload: 64,
      // p99 is the median of the rounds' p99s; on a shared 2-core machine one round's p99 moves by
      // ±30 %, so nine rounds (27 s a point) rather than five keep one spike from deciding it.
      echo: { conns: 200, rates: [2000, 8000], ms: 3000, rounds: 9 },
      rooms: { clients: 10000, roomSize: 8, ratePerRoom: 2, ms: 5000 },
      idle: [5000, 10000, 18000],
      connConcurrency: 64,
      // 64 KiB × 20/s × 10 s ≈ 13 MB per slow client: well past what the kernel's socket buffers
      // hold (tcp_wmem max 4 MiB + the receive buffer), so the server itself must buffer or cut
      slow: { clients: 200, rate: 20, size: 65536, ms: 10000, every: 100 },
      // broadcast-small's scenario for Switchboard alone, per codec: its four runs, shorter, in
      // three interleaved rounds (3 × 2 s pooled per point), with text and 1 KiB binary payloads
      codecs: { clients: 1000, rate: 20, burst: 20, burstRate: 30, ms: 2000, rounds: 3, binary: 1024 },
      // the join wave of issue 16: 3,000 connections join one presence channel, a healthy
      // client pings (echo requests at 50/s) meanwhile
      presence: { clients: 3000, pingRate: 50, chunkMs: 500, maxMs: 60_000 },
      // issue 19: 1 and 3 nodes on Redis (bench/multinode.mjs). Offered loads that Socket.IO's
      // three nodes and Redis still carry on the one core they share; idle-nodes adds K nodes
      // without subscribers of the channel
      multinode: {
        nodes: [1, 3],
        fanout: { clients: 3000, rate: 8, ms: 5000 },
        rooms: { clients: 3000, roomSize: 8, ratePerRoom: 4, ms: 5000 },
        'publish-heavy': { clients: 2000, roomSize: 2, ratePerRoom: 4, ms: 5000 },
        idleNodes: { extra: [0, 2, 4], clients: 20, otherClients: 100, rate: 1000, ms: 5000 },
      },
      drainMs: 5000,
      settleMs: 1500,
    }
  : {
      workers: 2,
      broadcast: {
        small: { clients: 20, rate: 200, burst: 10, burstRate: 1000, ms: 200 },
        large: { clients: 50, rate: 100, burst: 10, burstRate: 500, ms: 200 },
      },
      payload: 64,
      echo: { conns: 10, rates: [500], ms: 300, rounds: 1 },
      rooms: { clients: 40, roomSize: 8, ratePerRoom: 5, ms: 300 },
      idle: [40, 80, 120],
      connConcurrency: 16,
      slow: { clients: 100, rate: 100, size: 1024, ms: 300, every: 100 },
      codecs: { clients: 20, rate: 200, burst: 10, burstRate: 1000, ms: 200, rounds: 1, binary: 1024 },
      presence: { clients: 60, pingRate: 100, chunkMs: 200, maxMs: 10_000 },
      multinode: {
        nodes: [1, 3],
        fanout: { clients: 30, rate: 50, ms: 300 },
        rooms: { clients: 48, roomSize: 8, ratePerRoom: 10, ms: 300 },
        'publish-heavy': { clients: 40, roomSize: 2, ratePerRoom: 10, ms: 300 },
        idleNodes: { extra: [0, 2], clients: 10, otherClients: 5, rate: 50, ms: 300 },
      },
      drainMs: 800,
      settleMs: 50,
    }
const nWorkers = Number(opt('workers', CFG.workers))

const CONTENDERS = {
  switchboard: { file: 'switchboard.mjs', proto: 'sb', path: '/', subprotocol: 'switchboard.v1' },
  'ws-naive': { file: 'ws-naive.mjs', proto: 'sb', path: '/' },
  'ws-frame': { file: 'ws-frame.mjs', proto: 'sb', path: '/' },
  socketio: { file: 'socketio.mjs', proto: 'sio', path: '/socket.io/?EIO=4&transport=websocket' },
  uws: { file: 'uws.mjs', proto: 'sb', path: '/' },
}
const GROUPS = [
  'broadcast-small',
  'broadcast-large',
  'codecs',
  'echo',
  'rooms',
  'connections',
  'slow',
  'presence',
  'multinode',
]
/**
 * Groups only Switchboard runs: they compare its codecs, or its presence modes, with each other
 * (no contender has comparable presence), not contenders.
 */
const SWITCHBOARD_ONLY = new Set(['codecs', 'presence'])
/**
 * The presence group's variants, each a channel pattern of bench/servers/switchboard.mjs: every
 * change its own frame at once (no coalescing: the "before"), coalesced per 100 ms window
 * (`'members'`), and counts only (`'counts'`, its 1 s window).
 */
const PRESENCE_VARIANTS = ['presence-each', 'presence-members', 'presence-counts']
const JSON_SUBPROTOCOL = 'switchboard.v1'
const MSGPACK_SUBPROTOCOL = 'switchboard.v1.msgpack'

const pin = !flag('no-pin') && os.cpus().length >= 2 && spawnSync('taskset', ['-V']).status === 0
const hr = () => {
  const [s, ns] = process.hrtime()
  return s * 1e6 + ns / 1e3
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
/** A sleep that does not keep the process alive (for races against a timeout). */
const timeout = (ms) => new Promise((r) => setTimeout(r, ms).unref())
const log = (...a) => process.stderr.write(`${a.join(' ')}\n`)

// ---- processes ---------------------------------------------------------------------------------

function startProcess(file, cpu, execArgv = [], env = process.env) {
  const args = [...execArgv, file]
  const child = pin
    ? spawn('taskset', ['-c', String(cpu), process.execPath, ...args], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env,
      })
    : spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env })
  const pending = new Map()
  let seq = 0
  let onReady
  const ready = new Promise((resolve, reject) => {
    onReady = resolve
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code} before it was ready`)))
  })
  child.on('message', (m) => {
    if (m.ready) return onReady(m)
    const p = pending.get(m.id)
    if (!p) return
    pending.delete(m.id)
    if (m.error) p.reject(new Error(`${file}: ${m.error}`))
    else p.resolve(m)
  })
  child.on('exit', () => {
    for (const p of pending.values()) p.reject(new Error(`${file} exited`))
    pending.clear()
  })
  const call = (op, o = {}) =>
    new Promise((resolve, reject) => {
      if (!child.connected) return reject(new Error(`${file} is not running`))
      const id = ++seq
      pending.set(id, { resolve, reject })
      child.send({ ...o, op, id })
    })
  return { child, ready, call }
}

async function startWorkers(n) {
  const ws = []
  for (let i = 0; i < n; i++) {
    const w = startProcess(join(here, 'load/worker.mjs'), 1)
    w.ready.catch(() => {})
    w.localNet = `127.0.${1 + i}`
    ws.push(w)
  }
  // workers do not send `ready`; a round trip proves they are up
  await Promise.all(ws.map((w) => w.call('reset')))
  return ws
}

/** Starts contender `name` as its own process on CPU `cpu` (0: the servers' core). */
async function startServer(name, env = process.env, cpu = 0) {
  // e.g. BENCH_SERVER_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the servers
  const extra = (process.env.BENCH_SERVER_ARGS ?? '').split(' ').filter(Boolean)
  const s = startProcess(join(here, 'servers', CONTENDERS[name].file), cpu, ['--expose-gc', ...extra], env)
  const info = await Promise.race([
    s.ready,
    timeout(15000).then(() => Promise.reject(new Error(`${name}: no ready`))),
  ])
  // `cpu`: the core it is pinned to (undefined when nothing is pinned)
  return { ...s, info, name, spec: CONTENDERS[name], cpu: pin ? cpu : undefined }
}

async function stopServer(s) {
  try {
    await Promise.race([s.call('exit'), timeout(1000)])
  } catch {}
  await Promise.race([new Promise((r) => s.child.once('exit', r)), timeout(1500)])
  if (s.child.exitCode === null) s.child.kill('SIGKILL')
}

/** Spreads n over the workers. */
const split = (n, k) => Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0))

async function connect(workers, server, n, extra = {}) {
  const parts = split(n, workers.length)
  let base = 0
  const t0 = hr()
  const res = await Promise.all(
    workers.map((w, i) => {
      const o = {
        port: server.info.port,
        path: server.spec.path,
        proto: server.spec.proto,
        subprotocol: extra.subprotocol ?? server.spec.subprotocol,
        localNet: w.localNet,
        n: parts[i],
        concurrency: extra.concurrency ?? 200,
        probeEvery: extra.probeEvery ?? 0,
        subscribe: extra.subscribe ? { ...extra.subscribe, base } : undefined,
      }
      base += parts[i]
      return parts[i] ? w.call('connect', o) : { ok: 0, failed: 0 }
    }),
  )
  const ms = (hr() - t0) / 1000
  const ok = res.reduce((a, r) => a + r.ok, 0)
  const failed = res.reduce((a, r) => a + r.failed, 0)
  const firstError = res.find((r) => r.firstError)?.firstError
  if (failed) log(`    ${server.name}: ${failed} of ${n} connections failed (${firstError})`)
  return { ok, failed, ms, firstError }
}

const cpuOf = (c) => c.user + c.system

/** Waits until the workers' delivery counts stop moving (200 ms still), at most drainMs. */
async function settleDeliveries(workers) {
  const until = hr() + CFG.drainMs * 1000
  let last = -1
  for (;;) {
    const reps = await Promise.all(workers.map((w) => w.call('report')))
    const n = reps.reduce((a, r) => a + r.count, 0)
    if (n === last || hr() > until) return
    last = n
    await sleep(200)
  }
}

/** Runs `drive` (which makes the server publish or the workers send) and measures it. */
async function measure(server, workers, drive, { expected, drainMs = CFG.drainMs } = {}) {
  await Promise.all(workers.map((w) => w.call('reset')))
  const w0 = await Promise.all(workers.map((w) => w.call('report')))
  const s0 = await server.call('stats')
  const t0 = hr()
  const d = await drive()
  // wait until everything expected arrived, or nothing moved for 400 ms, or drainMs
  let last = -1
  let still = 0
  const until = hr() + drainMs * 1000
  let reps
  for (;;) {
    reps = await Promise.all(workers.map((w) => w.call('report')))
    const n = reps.reduce((a, r) => a + r.count, 0)
    const exp = typeof expected === 'function' ? expected(d, reps) : expected
    if ((exp && n >= exp) || hr() > until) break
    if (n === last) {
      if (++still >= 4) break
    } else still = 0
    last = n
    await sleep(100)
  }
  const s1 = await server.call('stats')
  const t1 = hr()
  const delivered = reps.reduce((a, r) => a + r.count, 0)
  const hist = new Hist()
  const lag = new Hist()
  for (const r of reps) {
    hist.merge(Hist.fromJSON(r.hist))
    lag.merge(Hist.fromJSON(r.lagHist))
  }
  const start = d?.start ?? t0
  const lastRecv = Math.max(...reps.map((r) => r.lastRecv))
  const windowUs = Math.max(1, (lastRecv || t1) - start)
  const serverCpu = cpuOf(s1.cpu) - cpuOf(s0.cpu)
  const genCpu = reps.reduce((a, r, i) => a + cpuOf(r.cpu) - cpuOf(w0[i].cpu), 0)
  const wall = t1 - t0
  const loadgenUtil = genCpu / wall
  const exp = typeof expected === 'function' ? expected(d, reps) : expected
  // frames encoded per codec (only a server that counts them: see countEncodes in the harness)
  const encodes = s1.encodes && {
    json: s1.encodes.json - s0.encodes.json,
    msgpack: s1.encodes.msgpack - s0.encodes.msgpack,
  }
  return {
    delivered,
    expected: exp ?? null,
    perSec: (delivered / windowUs) * 1e6,
    serverCpuUs: serverCpu,
    cpuUsPerMsg: delivered ? serverCpu / delivered : null,
    serverCpuUtil: serverCpu / wall,
    p50: hist.quantile(0.5),
    p99: hist.quantile(0.99),
    p999: hist.quantile(0.999),
    samples: hist.total,
    rss: s1.rss,
    rssPeak: Math.max(d?.peakRss ?? 0, s1.rss),
    loadgenUtil,
    // all workers share one core: near 100 % of it means the generator, not the server, set the pace
    loadgenBound: pin ? loadgenUtil > 0.9 : undefined,
    sendLagMaxUs: Math.max(...reps.map((r) => r.sendLagMax)),
    // open-loop senders: how late the generator's timer sent each request (part of the latency)
    sendLagP50: lag.quantile(0.5),
    sendLagP99: lag.quantile(0.99),
    encodes,
    drive: d,
  }
}

// ---- scenario groups ---------------------------------------------------------------------------

async function broadcastGroup(size, server, workers, record) {
  const b = CFG.broadcast[size]
  const c = await connect(workers, server, b.clients, {
    subscribe: { channel: 'bench:all' },
    probeEvery: Math.max(1, Math.round(b.clients / 100)),
  })
  log(`    ${server.name}: ${c.ok} clients subscribed in ${c.ms.toFixed(0)} ms`)
  const subs = c.ok
  await sleep(CFG.settleMs)
  // Warm-up (JIT, buffers), unmeasured and the same for every contender, then a wait until its
  // last deliveries have landed: otherwise the first measured run's p99 is decided by cold code.
  await server.call('broadcast', {
    channel: 'bench:all',
    rate: b.rate,
    burst: 1,
    durationMs: Math.min(1000, b.ms),
    size: CFG.payload,
  })
  await settleDeliveries(workers)
  const runs = [
    ['single', 'rate', 1, b.rate],
    ['single', 'flat', 1, 0],
    ['burst', 'rate', b.burst, b.burstRate],
    ['burst', 'flat', b.burst, 0],
  ]
  for (const [mode, pace, burst, rate] of runs) {
    const m = await measure(
      server,
      workers,
      () =>
        server.call('broadcast', { channel: 'bench:all', rate, burst, durationMs: b.ms, size: CFG.payload }),
      { expected: (d) => d.published * subs },
    )
    record(`broadcast.${size}.${mode}.${pace}`, {
      clients: subs,
      mode,
      burst,
      offeredPublishesPerSec: rate || 'flat',
      published: m.drive.published,
      offered: m.drive.offered,
      ...m,
    })
  }
}

/**
 * Codecs (issue 14): broadcast-small's scenario, Switchboard only, with the subscribers of one
 * channel speaking JSON, of another MessagePack, of a third half and half — all connected at
 * once — and publications carrying text (`pad`, as in broadcast-small) or `binary` bytes (a
 * Uint8Array: `$bin` base64 over JSON, `bin` over MessagePack). CPU per delivered message is
 * compared between codecs in the same process and run, so each point is measured in several
 * rounds, the codecs interleaved in a rotating order, and pooled (total server CPU ÷ total
 * delivered); the other columns are those of the round with the median CPU per message. The
 * server counts how often a publication's frame is encoded per codec (`encodes`).
 */
async function codecsGroup(server, workers, record) {
  const k = CFG.codecs
  await server.call('countEncodes')
  const half = Math.floor(k.clients / 2)
  const variants = [
    { codec: 'json', channel: 'bench:json', parts: [[JSON_SUBPROTOCOL, k.clients]] },
    { codec: 'msgpack', channel: 'bench:msgpack', parts: [[MSGPACK_SUBPROTOCOL, k.clients]] },
    {
      codec: 'mixed',
      channel: 'bench:mixed',
      parts: [
        [JSON_SUBPROTOCOL, half],
        [MSGPACK_SUBPROTOCOL, k.clients - half],
      ],
    },
  ]
  for (const v of variants) {
    v.subs = 0
    for (const [subprotocol, n] of v.parts) {
      const c = await connect(workers, server, n, {
        subprotocol,
        subscribe: { channel: v.channel },
        probeEvery: Math.max(1, Math.round(k.clients / 100)),
      })
      v.subs += c.ok
    }
    log(`    ${server.name}: ${v.subs} ${v.codec} clients subscribed to ${v.channel}`)
  }
  await sleep(CFG.settleMs)
  const payloads = { text: { size: CFG.payload, binary: 0 }, binary: { size: 0, binary: k.binary } }
  const paces = [
    ['single', 'rate', 1, k.rate],
    ['single', 'flat', 1, 0],
    ['burst', 'rate', k.burst, k.burstRate],
    ['burst', 'flat', k.burst, 0],
  ]
  // warm-up, unmeasured: every codec and payload through the code once
  for (const v of variants)
    for (const p of Object.values(payloads))
      await server.call('broadcast', {
        channel: v.channel,
        rate: k.rate,
        burst: 1,
        durationMs: Math.min(1000, k.ms),
        ...p,
      })
  await settleDeliveries(workers)
  const runs = new Map()
  for (let round = 0; round < k.rounds; round++)
    for (const [payload, p] of Object.entries(payloads))
      for (const [mode, pace, burst, rate] of paces)
        for (let i = 0; i < variants.length; i++) {
          const v = variants[(i + round) % variants.length]
          const m = await measure(
            server,
            workers,
            () => server.call('broadcast', { channel: v.channel, rate, burst, durationMs: k.ms, ...p }),
            { expected: (d) => d.published * v.subs },
          )
          const key = `${payload}.${v.codec}.${mode}.${pace}`
          runs.set(key, { v, payload, mode, burst, rate, all: [...(runs.get(key)?.all ?? []), m] })
        }
  for (const [key, { v, payload, mode, burst, rate, all }] of runs) {
    const sum = (f) => all.reduce((a, m) => a + (f(m) ?? 0), 0)
    const delivered = sum((m) => m.delivered)
    const published = sum((m) => m.drive.published)
    const median = [...all].sort((a, b) => a.cpuUsPerMsg - b.cpuUsPerMsg)[Math.floor(all.length / 2)]
    record(`codec.${key}`, {
      clients: v.subs,
      codec: v.codec,
      payload,
      payloadBytes: payload === 'binary' ? k.binary : CFG.payload,
      mode,
      burst,
      offeredPublishesPerSec: rate || 'flat',
      rounds: all.length,
      ...median,
      medianRoundCpuUsPerMsg: median.cpuUsPerMsg,
      // pooled over the rounds; cpuRounds[i] is round i, the same round for every codec
      cpuUsPerMsg: delivered ? sum((m) => m.serverCpuUs) / delivered : null,
      cpuRounds: all.map((m) => m.cpuUsPerMsg),
      serverCpuUs: sum((m) => m.serverCpuUs),
      delivered,
      expected: sum((m) => m.expected),
      published,
      encodesPerPublication: published
        ? {
            json: sum((m) => m.encodes?.json) / published,
            msgpack: sum((m) => m.encodes?.msgpack) / published,
          }
        : null,
    })
  }
}

/**
 * Echo, with every contender's server up at once: p99 is decided by rare stalls, and on a shared
 * machine those come and go, so each contender is measured in several rounds, interleaved with the
 * others in a rotating order, and the round with the median p99 is reported (all rounds' p99s are
 * kept in the result).
 */
async function echoGroup(names, workers, recordFor, started) {
  const e = CFG.echo
  const servers = []
  try {
    for (const name of names) {
      const server = await startServer(name)
      servers.push(server)
      started(server)
      await connect(workers, server, e.conns)
    }
    await sleep(CFG.settleMs)
    const parts = split(e.conns, workers.length)
    const drive = async (server, rate, durationMs) => {
      const r = await Promise.all(
        workers.map((w, i) =>
          w.call('echo', {
            rate: rate / workers.length,
            durationMs,
            conns: parts[i],
            port: server.info.port,
          }),
        ),
      )
      return { sent: r.reduce((a, x) => a + x.sent, 0) }
    }
    // Warm-up (JIT, buffers), unmeasured and the same for every contender: at 1 % of a few
    // seconds, p99 would otherwise be decided by the first requests through cold code.
    for (const server of servers) await drive(server, e.rates[0], Math.min(1000, e.ms))
    // Let the warm-up's last replies land before the counters are reset for the measured runs.
    await sleep(Math.max(CFG.settleMs, 200))
    const runs = new Map()
    for (let round = 0; round < e.rounds; round++) {
      const order = servers.map((_, i) => servers[(i + round) % servers.length])
      for (const rate of e.rates) {
        for (const server of order) {
          const m = await measure(server, workers, () => drive(server, rate, e.ms), {
            expected: (d) => d.sent,
          })
          const key = `${server.name}|${rate}`
          runs.set(key, [...(runs.get(key) ?? []), m])
        }
      }
    }
    for (const server of servers) {
      for (const rate of e.rates) {
        const all = runs.get(`${server.name}|${rate}`) ?? []
        const median = [...all].sort((a, b) => a.p99 - b.p99)[Math.floor(all.length / 2)]
        if (!median) continue
        recordFor(server.name)(`echo.${rate}`, {
          conns: e.conns,
          offeredPerSec: rate,
          sent: median.drive.sent,
          rounds: all.length,
          p99Rounds: all.map((m) => m.p99),
          ...median,
        })
      }
    }
  } finally {
    await Promise.all(workers.map((w) => w.call('closeAll').catch(() => {})))
    for (const server of servers) await stopServer(server)
  }
}

async function roomsGroup(server, workers, record) {
  const r = CFG.rooms
  const rooms = Math.floor(r.clients / r.roomSize)
  const c = await connect(workers, server, rooms * r.roomSize, {
    subscribe: { prefix: 'room:', roomSize: r.roomSize, rooms },
    probeEvery: 4,
  })
  await sleep(CFG.settleMs)
  const m = await measure(
    server,
    workers,
    () =>
      server.call('rooms', {
        prefix: 'room:',
        rooms,
        ratePerRoom: r.ratePerRoom,
        durationMs: r.ms,
        size: CFG.payload,
      }),
    { expected: (d) => d.published * r.roomSize },
  )
  record('rooms', { clients: c.ok, rooms, roomSize: r.roomSize, ratePerRoom: r.ratePerRoom, ...m })
}

async function connectionsGroup(server, workers, record) {
  await sleep(CFG.settleMs)
  const s0 = await server.call('stats', { gc: true })
  // e. connection rate: the first batch, opened as fast as the server accepts them
  const first = CFG.idle[0]
  const c = await connect(workers, server, first, { concurrency: CFG.connConcurrency })
  const s1 = await server.call('stats')
  record('connect-rate', {
    connections: c.ok,
    failed: c.failed,
    perSec: (c.ok / c.ms) * 1000,
    cpuUsPerConn: c.ok ? (cpuOf(s1.cpu) - cpuOf(s0.cpu)) / c.ok : null,
    ms: c.ms,
  })
  // d. idle memory, measured after a GC at each step
  const points = []
  let have = c.ok
  for (const n of CFG.idle) {
    if (n > have) have += (await connect(workers, server, n - have, { concurrency: CFG.connConcurrency })).ok
    await sleep(CFG.settleMs)
    const s = await server.call('stats', { gc: true })
    points.push({ target: n, conns: s.conns, rss: s.rss, heapUsed: s.heapUsed })
  }
  const a = points[0]
  const z = points[points.length - 1]
  const slope = (z.rss - a.rss) / Math.max(1, z.conns - a.conns)
  record('idle-memory', {
    baseRss: s0.rss,
    points,
    bytesPerConn: slope,
    projected100kRss: z.rss + slope * (100_000 - z.conns),
    held: z.conns,
    heldAll: z.conns >= CFG.idle[CFG.idle.length - 1],
  })
}

async function slowGroup(server, workers, record) {
  const s = CFG.slow
  const c = await connect(workers, server, s.clients, { subscribe: { channel: 'bench:all' }, probeEvery: 5 })
  await sleep(CFG.settleMs)
  const run = (readers) =>
    measure(
      server,
      workers,
      () =>
        server.call('broadcast', {
          channel: 'bench:all',
          rate: s.rate,
          burst: 1,
          durationMs: s.ms,
          size: s.size,
        }),
      { expected: (d) => d.published * readers },
    )
  // warm-up (JIT, buffers) so the baseline is not the coldest run of the group
  await server.call('broadcast', {
    channel: 'bench:all',
    rate: s.rate,
    burst: 1,
    durationMs: Math.min(1000, s.ms),
    size: s.size,
  })
  await sleep(full ? 500 : 50)
  const base = await run(c.ok)
  const slowParts = split(Math.max(1, Math.round(c.ok / s.every)), workers.length)
  const paused = await Promise.all(workers.map((w, i) => w.call('pause', { count: slowParts[i] })))
  const nSlow = paused.reduce((a, p) => a + p.paused, 0)
  const slow = await run(c.ok - nSlow)
  const after = await server.call('stats')
  record('slow-consumers', {
    clients: c.ok,
    slowClients: nSlow,
    offeredPublishesPerSec: s.rate,
    payloadBytes: s.size,
    base,
    slow,
    p99Ratio: base.p99 && slow.p99 ? slow.p99 / base.p99 : null,
    rssGrowth: slow.rssPeak - base.rss,
    connsAfter: after.conns,
    ...slow,
  })
}

/**
 * Presence join wave (issue 16): per variant, a fresh wave of `clients` connections joins one
 * presence channel (as fast as the server takes them), while one healthy client that is not in
 * the channel sends echo requests at a fixed rate. Recorded: the frames the joiners received
 * after their subscribe replies (presence frames) per join, the wave's length, the server's CPU,
 * and the healthy client's round trips (from the scheduled send time) until the last presence
 * frame landed. With PRESENCE_BASELINE=<module> (made by bench/baseline.mjs from another commit)
 * the same wave also runs against that build, on a channel with `presence: true`: `presence.before`.
 */
async function presenceGroup(server, workers, record) {
  // --presence-variants=each,… runs only those
  const only = opt('presence-variants')?.split(',')
  for (const variant of PRESENCE_VARIANTS.filter((v) => !only || only.includes(v.replace('presence-', '')))) {
    record(`presence.${variant.replace('presence-', '')}`, await joinWave(server, workers, `${variant}:wave`))
  }
  const baseline = process.env.PRESENCE_BASELINE
  if (!baseline) return
  const before = await startServer('switchboard', { ...process.env, SWITCHBOARD_MODULE: baseline })
  try {
    // every presence-* pattern is plain `presence: true` to a build without presence modes
    record('presence.before', {
      module: baseline,
      ...(await joinWave(before, workers, 'presence-each:wave')),
    })
  } finally {
    await stopServer(before)
  }
}

async function joinWave(server, workers, channel) {
  const p = CFG.presence
  await Promise.all(workers.map((w) => w.call('closeAll')))
  // the healthy client: the first (so the echo's) connection of worker 0, in no channel
  await connect(workers.slice(0, 1), server, 1)
  await sleep(CFG.settleMs)
  await Promise.all(workers.map((w) => w.call('reset')))
  const s0 = await server.call('stats')
  const t0 = hr()
  let waving = true
  let pings = 0
  const pinging = (async () => {
    while (waving && (hr() - t0) / 1000 < p.maxMs) {
      const r = await workers[0].call('echo', {
        rate: p.pingRate,
        durationMs: p.chunkMs,
        conns: 1,
        port: server.info.port,
      })
      pings += r.sent
    }
  })()
  const c = await connect(workers, server, p.clients, { subscribe: { channel } })
  const joinMs = (hr() - t0) / 1000
  // the wave's presence frames still on their way: wait until they stop coming for 500 ms (a
  // server without coalescing may still be sending long after the last join)
  let last = -1
  for (;;) {
    // the echo replies keep coming: only the presence frames (all the rest) must be still
    const reps = await Promise.all(workers.map((w) => w.call('report')))
    const n = reps.reduce((a, r) => a + r.count - Hist.fromJSON(r.hist).total, 0)
    if (n === last || (hr() - t0) / 1000 > p.maxMs) break
    last = n
    await sleep(500)
  }
  waving = false
  await pinging
  await sleep(200)
  const s1 = await server.call('stats')
  const reps = await Promise.all(workers.map((w) => w.call('report')))
  const received = reps.reduce((a, r) => a + r.count, 0)
  const hist = new Hist()
  for (const r of reps) hist.merge(Hist.fromJSON(r.hist))
  const frames = Math.max(0, received - hist.total)
  await Promise.all(workers.map((w) => w.call('closeAll')))
  log(
    `    ${server.name} ${channel}: ${c.ok} joins in ${joinMs.toFixed(0)} ms, ${frames} presence frames ` +
      `(${(frames / Math.max(1, c.ok)).toFixed(1)} per join), ping p99 ${fmtMs(hist.quantile(0.99))}`,
  )
  return {
    clients: c.ok,
    failed: c.failed,
    joinMs,
    // until the last presence frame landed (500 ms of quiet after it are not counted)
    waveMs: (hr() - t0) / 1000 - 700,
    presenceFrames: frames,
    framesPerJoin: c.ok ? frames / c.ok : null,
    pings,
    pingReplies: hist.total,
    pingP50: hist.quantile(0.5),
    pingP99: hist.quantile(0.99),
    pingMax: hist.quantile(1),
    serverCpuUs: cpuOf(s1.cpu) - cpuOf(s0.cpu),
    rss: s1.rss,
  }
}

const fmtMs = (us) => `${((us ?? 0) / 1000).toFixed(1)} ms`

// ---- main ------------------------------------------------------------------------------------

function libVersions() {
  const v = {}
  for (const [k, p] of [
    ['ws', 'ws/package.json'],
    ['socket.io', 'socket.io/package.json'],
    ['uWebSockets.js', '@trufflesuite/uws-js-unofficial/package.json'],
  ]) {
    for (const base of [join(here, 'node_modules'), join(root, 'node_modules')]) {
      const f = join(base, p)
      if (existsSync(f)) {
        v[k] = JSON.parse(readFileSync(f, 'utf8')).version
        break
      }
    }
  }
  v.switchboard = JSON.parse(readFileSync(join(root, 'packages/server/package.json'), 'utf8')).version
  return v
}

async function main() {
  const only = opt('only', '')
  const names = Object.keys(CONTENDERS).filter((n) => !only || only.split(',').includes(n))
  const skip = opt('skip', '').split(',')
  const groups = GROUPS.filter(
    (g) => (!opt('groups') || opt('groups').split(',').includes(g)) && !skip.includes(g),
  )
  // A quick run must not overwrite the full run that docs/benchmarks.md was generated from.
  const out = opt('out', join(here, full ? 'results/latest.json' : 'results/quick.json'))
  const meta = {
    date: new Date().toISOString(),
    mode: full ? 'full' : 'quick',
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    pinned: pin,
    loadAvg: os.loadavg(),
    workers: nWorkers,
    config: CFG,
    libs: libVersions(),
    contenders: {},
  }
  const results = []
  const errors = []
  const t0 = Date.now()
  const workers = await startWorkers(nWorkers)
  try {
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g]
      // alternate: rotate the contender order by one per group, so no contender always goes first
      const order = names.map((_, i) => names[(i + g) % names.length])
      log(`[${((Date.now() - t0) / 1000).toFixed(0)}s] ${group}: ${order.join(' → ')}`)
      const recordFor = (name) => (scenario, r) => {
        results.push({ scenario, group, contender: name, ...r })
        const f = (x, d = 0) => (x == null ? '-' : Number(x).toFixed(d))
        log(
          `    ${name.padEnd(11)} ${scenario.padEnd(28)} ${f(r.perSec)}/s  ${f(r.cpuUsPerMsg ?? r.cpuUsPerConn, 2)}µs cpu` +
            `  p99 ${f(r.p99)}µs  rss ${f((r.rssPeak ?? r.rss ?? 0) / 2 ** 20)}MB${r.loadgenBound ? '  [loadgen-bound]' : ''}` +
            (r.bytesPerConn ? `  ${f(r.bytesPerConn)} B/conn held ${r.held}` : ''),
        )
      }
      if (group === 'multinode') {
        const backends = opt('backends')?.split(',')
        const runs = opt('runs')?.split(',')
        const nodes = opt('nodes')?.split(',').map(Number)
        await multinodeGroup({
          cfg: { ...CFG.multinode, backends, runs, ...(nodes ? { nodes } : {}) },
          full,
          pin,
          payload: CFG.payload,
          workers,
          startServer,
          stopServer,
          contenders: names,
          recordFor,
          log,
          sleep,
          hr,
          drainMs: CFG.drainMs,
          settleMs: CFG.settleMs,
          meta,
          errors,
        })
        continue
      }
      if (group === 'echo') {
        try {
          await echoGroup(order, workers, recordFor, (server) => {
            meta.contenders[server.name] = { version: server.info.version }
          })
        } catch (e) {
          log(`    echo FAILED: ${e.stack ?? e}`)
          errors.push({ group, contender: order.join(','), error: String(e.message ?? e) })
        }
        continue
      }
      for (const name of order) {
        if (SWITCHBOARD_ONLY.has(group) && name !== 'switchboard') continue
        let server
        const record = recordFor(name)
        try {
          server = await startServer(name)
          meta.contenders[name] = { version: server.info.version }
          if (group === 'broadcast-small') await broadcastGroup('small', server, workers, record)
          else if (group === 'broadcast-large') await broadcastGroup('large', server, workers, record)
          else if (group === 'codecs') await codecsGroup(server, workers, record)
          else if (group === 'rooms') await roomsGroup(server, workers, record)
          else if (group === 'connections') await connectionsGroup(server, workers, record)
          else if (group === 'slow') await slowGroup(server, workers, record)
          else if (group === 'presence') await presenceGroup(server, workers, record)
        } catch (e) {
          log(`    ${name} ${group} FAILED: ${e.stack ?? e}`)
          errors.push({ group, contender: name, error: String(e.message ?? e) })
        } finally {
          await Promise.all(workers.map((w) => w.call('closeAll').catch(() => {})))
          if (server) await stopServer(server)
          await sleep(full ? 500 : 50)
        }
      }
    }
  } finally {
    await Promise.all(workers.map((w) => w.call('exit').catch(() => {})))
  }
  meta.seconds = (Date.now() - t0) / 1000
  let doc = { meta, results, errors }
  const mergeInto = opt('merge')
  if (mergeInto) {
    // re-run some groups (e.g. one disturbed by other load) and splice them into an earlier run
    const old = JSON.parse(readFileSync(mergeInto, 'utf8'))
    const keep = (r) => !groups.includes(r.group) || !names.includes(r.contender)
    doc = {
      meta: {
        ...old.meta,
        contenders: { ...old.meta.contenders, ...meta.contenders },
        ...(meta.multinode
          ? { multinode: { ...meta.multinode, date: meta.date, loadAvg: meta.loadAvg } }
          : {}),
      },
      results: [...old.results.filter(keep), ...results],
      errors: [...old.errors.filter(keep), ...errors],
    }
    const config = structuredClone(old.meta.config)
    for (const g of groups) {
      if (g.startsWith('broadcast-')) config.broadcast[g.slice(10)] = CFG.broadcast[g.slice(10)]
      else if (g === 'connections')
        Object.assign(config, { idle: CFG.idle, connConcurrency: CFG.connConcurrency })
      else config[g] = CFG[g]
    }
    doc.meta.config = config
    doc.meta.reruns = [
      ...(old.meta.reruns ?? []),
      { date: meta.date, groups, contenders: names, loadAvg: meta.loadAvg },
    ]
  }
  doc.targets = doc.results.some((r) => r.contender === 'switchboard') ? evaluateTargets(doc) : []
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, `${JSON.stringify(doc, null, 1)}\n`)
  log(`wrote ${out} in ${meta.seconds.toFixed(0)} s${errors.length ? ` — ${errors.length} errors` : ''}`)
  for (const t of doc.targets) log(`${t.met ? 'MET   ' : 'MISSED'} ${t.target}: ${t.measured} ${t.note}`)
  if (flag('report')) writeReport(doc)
  if (errors.length) process.exitCode = 1
}

main().catch((e) => {
  log(e.stack ?? e)
  process.exit(1)
})
