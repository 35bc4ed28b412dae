// The multi-node group (issue 19): several server processes sharing channels through Redis, with
// the same load on the same run for
//
//   sb-redis     Switchboard nodes on one Redis (RedisBroker)
//   sio-redis    Socket.IO nodes with @socket.io/redis-adapter on one Redis (createAdapter)
//   sb-cluster   Switchboard nodes on a three-primary Redis Cluster (RedisBroker `cluster`)
//   sio-sharded  Socket.IO nodes with the sharded adapter on the same cluster (createShardedAdapter)
//
// Redis (one redis-server, or three made into a cluster) is started here on free ports. Every
// node, and Redis, is its own process on CPU 0; the load generator is on CPU 1. Runs, each with one
// node and with three: `fanout` (one channel, its subscribers spread evenly over the nodes, one node
// publishing), `rooms` (many rooms of 8 whose members are on different nodes, every node
// publishing) and `publish-heavy` (rooms of 2, many more publishes per delivery). A last run,
// `idle-nodes`, keeps the subscribers and the publisher on one node and adds K nodes that are
// connected (with clients of their own on other channels) but have no subscriber of the channel:
// Redis CPU per publish against K. Those K nodes run on CPU 1, so Redis's core holds the same
// processes for every K and a change in Redis CPU per publish is Redis's work, not contention.
//
// Recorded per run: delivered messages/s, CPU µs per delivered message of the nodes and Redis
// together (process.cpuUsage() in each node, /proc/<pid>/stat of each redis-server), Redis CPU per
// publish, latency from the scheduled publish time to delivery, and the load generator's share of
// its core (≥ 90 %: it, not the servers, may have set the pace).
import { Hist } from './load/hist.mjs'
import { startRedis } from './redis.mjs'

export const BACKENDS = [
  { id: 'sb-redis', contender: 'switchboard', tier: 'redis' },
  { id: 'sio-redis', contender: 'socketio', tier: 'redis' },
  { id: 'sb-cluster', contender: 'switchboard', tier: 'cluster' },
  { id: 'sio-sharded', contender: 'socketio', tier: 'cluster' },
]

function envFor(backend, redis) {
  switch (backend.id) {
    case 'sb-redis':
      return { BENCH_BROKER: JSON.stringify({ url: redis.url }) }
    case 'sb-cluster':
      return { BENCH_BROKER: JSON.stringify({ cluster: { nodes: redis.nodes } }) }
    case 'sio-redis':
      return { BENCH_ADAPTER: JSON.stringify({ kind: 'redis', url: redis.url }) }
    case 'sio-sharded':
      return { BENCH_ADAPTER: JSON.stringify({ kind: 'sharded', nodes: redis.nodes }) }
  }
}

const split = (n, k) => Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0))
const rotate = (xs, k) => xs.map((_, i) => xs[(i + k) % xs.length])
const cpuOf = (c) => c.user + c.system

/**
 * The group. ctx: { cfg, full, pin, payload, workers, startServer(name, env), stopServer(s),
 * contenders, recordFor(name), log, sleep, hr, drainMs, settleMs, meta, errors }.
 */
export async function multinodeGroup(ctx) {
  const { cfg, log } = ctx
  const only = cfg.backends
  const backends = BACKENDS.filter(
    (b) => (!only || only.includes(b.id)) && ctx.contenders.includes(b.contender),
  )
  // --runs=fanout,rooms,publish-heavy,idle-nodes: only those (while iterating; a full run has all)
  const runs = new Set(cfg.runs ?? ['fanout', 'rooms', 'publish-heavy', 'idle-nodes'])
  ctx.meta.multinode = { backends: backends.map((b) => b.id), runs: [...runs], redis: {} }
  // a worker's connections are numbered from 0 on: the rooms' members are placed by that number
  ctx.conns = new Map(ctx.workers.map((w) => [w, 0]))
  for (const tier of ['redis', 'cluster']) {
    const tierBackends = backends.filter((b) => b.tier === tier)
    if (!tierBackends.length) continue
    const redis = await startRedis({ cluster: tier === 'cluster', cpu: ctx.pin ? 0 : undefined })
    ctx.meta.multinode.redis[tier] = { version: redis.version, primaries: redis.nodes.length }
    log(`    ${tier}: redis-server ${redis.version} × ${redis.nodes.length} (pids ${redis.pids.join(', ')})`)
    try {
      const oneVsMany = ['fanout', 'rooms', 'publish-heavy'].filter((r) => runs.has(r))
      for (const [i, n] of (oneVsMany.length ? cfg.nodes : []).entries())
        for (const backend of rotate(tierBackends, i))
          await withNodes(ctx, backend, redis, n, async (nodes) => {
            if (runs.has('fanout')) await fanoutRun(ctx, backend, nodes, redis)
            for (const run of ['rooms', 'publish-heavy'])
              if (runs.has(run)) await roomsRun(ctx, backend, nodes, redis, run)
          })
      for (const [i, k] of (runs.has('idle-nodes') ? cfg.idleNodes.extra : []).entries())
        for (const backend of rotate(tierBackends, i))
          await withNodes(
            ctx,
            backend,
            redis,
            1 + k,
            (nodes) => idleNodesRun(ctx, backend, nodes, redis, k),
            {
              cpu: idleNodeCpu,
            },
          )
    } finally {
      await redis.stop()
    }
  }
}

/**
 * Node i of the idle-nodes run: the subscribers' node on the servers' core, the K others on the
 * load generator's, so Redis's core holds the same processes for every K and what Redis spends per
 * publish is its work, not the core's contention.
 */
const idleNodeCpu = (i) => (i === 0 ? 0 : 1)

/**
 * Starts `n` nodes of `backend` (node i on CPU `cpu(i)`, by default all on the servers' core 0),
 * runs `fn(nodes)`, then closes every connection and the nodes.
 */
async function withNodes(ctx, backend, redis, n, fn, { cpu = () => 0 } = {}) {
  const env = { ...process.env, ...envFor(backend, redis) }
  const nodes = []
  try {
    for (let i = 0; i < n; i++) nodes.push(await ctx.startServer(backend.contender, env, cpu(i)))
    ctx.meta.multinode.versions = { ...ctx.meta.multinode.versions, [backend.id]: nodes[0].info.version }
    await fn(nodes)
  } catch (e) {
    ctx.log(`    ${backend.id} × ${n} FAILED: ${e.stack ?? e}`)
    ctx.errors.push({
      group: 'multinode',
      contender: backend.contender,
      error: `${backend.id} × ${n}: ${e.message ?? e}`,
    })
  } finally {
    await closeAll(ctx)
    for (const s of nodes) await ctx.stopServer(s)
    redis.all('FLUSHALL')
    await ctx.sleep(ctx.full ? 500 : 50)
  }
}

async function closeAll(ctx) {
  await Promise.all(ctx.workers.map((w) => w.call('closeAll').catch(() => {})))
  for (const w of ctx.workers) ctx.conns.set(w, 0)
}

/**
 * Connects `perNode[i]` clients to node i, each node's share spread over the workers. Client g
 * (numbered over all nodes, from `from`) subscribes to `channel(g)`, given as the worker's
 * subscribe spec: `{ channel }`, or `{ prefix, rooms }` for room g mod rooms.
 */
async function connectSpread(ctx, nodes, perNode, { channel, prefix, rooms, probeEvery = 0, from = 0 }) {
  let g = from
  let ok = 0
  let failed = 0
  let firstError
  for (const [i, node] of nodes.entries()) {
    const parts = split(perNode[i] ?? 0, ctx.workers.length)
    const calls = ctx.workers.map((w, j) => {
      if (!parts[j]) return null
      // the worker numbers its connections itself: roomOf(base + index) = g for the first one
      const subscribe = channel ? { channel } : { prefix, roomSize: 1, rooms, base: g - ctx.conns.get(w) }
      g += parts[j]
      return w
        .call('connect', {
          port: node.info.port,
          path: node.spec.path,
          proto: node.spec.proto,
          subprotocol: node.spec.subprotocol,
          localNet: w.localNet,
          n: parts[j],
          concurrency: 100,
          probeEvery,
          subscribe,
        })
        .then((r) => {
          ctx.conns.set(w, ctx.conns.get(w) + r.ok)
          return r
        })
    })
    for (const r of await Promise.all(calls)) {
      if (!r) continue
      ok += r.ok
      failed += r.failed
      firstError ??= r.firstError
    }
  }
  if (failed) ctx.log(`    ${failed} connections failed (${firstError})`)
  return { ok, failed }
}

/** Runs `drive()` (which makes nodes publish) and measures nodes, Redis and the load generator. */
async function measureNodes(ctx, nodes, redis, drive, expected) {
  const { workers, hr, sleep } = ctx
  await Promise.all(workers.map((w) => w.call('reset')))
  const w0 = await Promise.all(workers.map((w) => w.call('report')))
  const s0 = await Promise.all(nodes.map((n) => n.call('stats')))
  redis.resetStats()
  const r0 = redis.cpuUs()
  const t0 = hr()
  const d = await drive()
  let last = -1
  let still = 0
  const until = hr() + ctx.drainMs * 1000
  const want = expected(d)
  let reps
  for (;;) {
    reps = await Promise.all(workers.map((w) => w.call('report')))
    const n = reps.reduce((a, r) => a + r.count, 0)
    if (n >= want || hr() > until) break
    if (n === last) {
      if (++still >= 4) break
    } else still = 0
    last = n
    await sleep(100)
  }
  const s1 = await Promise.all(nodes.map((n) => n.call('stats')))
  const redisCpuUs = redis.cpuUs() - r0
  const commands = redis.commandStats()
  const wall = hr() - t0
  const delivered = reps.reduce((a, r) => a + r.count, 0)
  const hist = new Hist()
  for (const r of reps) hist.merge(Hist.fromJSON(r.hist))
  const nodeCpu = s1.map((s, i) => cpuOf(s.cpu) - cpuOf(s0[i].cpu))
  const nodesCpuUs = nodeCpu.reduce((a, x) => a + x, 0)
  const genCpu = reps.reduce((a, r, i) => a + cpuOf(r.cpu) - cpuOf(w0[i].cpu), 0)
  const start = Math.min(...d.map((x) => x.start))
  const lastRecv = Math.max(...reps.map((r) => r.lastRecv))
  const published = d.reduce((a, x) => a + x.published, 0)
  const loadgenUtil = genCpu / wall
  return {
    delivered,
    expected: want,
    published,
    failedPublishes: s1.reduce((a, s, i) => a + (s.failedPublishes ?? 0) - (s0[i].failedPublishes ?? 0), 0),
    perSec: (delivered / Math.max(1, (lastRecv || hr()) - start)) * 1e6,
    publishesPerSec: (published / Math.max(1, Math.max(...d.map((x) => x.end)) - start)) * 1e6,
    nodesCpuUs,
    nodeCpuUs: nodeCpu,
    redisCpuUs,
    // the cluster-wide cost: every node and every redis-server
    cpuUsPerMsg: delivered ? (nodesCpuUs + redisCpuUs) / delivered : null,
    nodesCpuUsPerMsg: delivered ? nodesCpuUs / delivered : null,
    redisCpuUsPerPublish: published ? redisCpuUs / published : null,
    // what Redis ran (INFO commandstats over the run): calls per publish and µs per call
    redisCommands: Object.fromEntries(
      Object.entries(commands)
        .sort(([, a], [, b]) => b.usec - a.usec)
        .map(([cmd, c]) => [
          cmd,
          { perPublish: published ? c.calls / published : null, usPerCall: c.usec / c.calls },
        ]),
    ),
    serverCpuUtil: (nodesCpuUs + redisCpuUs) / wall,
    p50: hist.quantile(0.5),
    p99: hist.quantile(0.99),
    p999: hist.quantile(0.999),
    samples: hist.total,
    rss: s1.reduce((a, s) => a + s.rss, 0),
    loadgenUtil,
    loadgenBound: ctx.pin ? loadgenUtil > 0.9 : undefined,
  }
}

/** A short unmeasured run of the same drive (JIT, buffers, Redis subscriptions), then quiet. */
async function warmUp(ctx, drive) {
  await drive()
  await ctx.sleep(Math.max(ctx.settleMs, 200))
}

function record(ctx, backend, run, key, extra, m) {
  ctx.recordFor(backend.contender)(`multinode.${run}.${backend.id}.${key}`, {
    backend: backend.id,
    tier: backend.tier,
    run,
    ...extra,
    ...m,
  })
}

async function fanoutRun(ctx, backend, nodes, redis) {
  const f = ctx.cfg.fanout
  const c = await connectSpread(ctx, nodes, split(f.clients, nodes.length), {
    channel: 'bench:fan',
    probeEvery: Math.max(1, Math.round(f.clients / 100)),
  })
  await ctx.sleep(ctx.settleMs)
  const drive = (ms) => () =>
    Promise.all([
      nodes[0].call('broadcast', {
        channel: 'bench:fan',
        rate: f.rate,
        burst: 1,
        durationMs: ms,
        size: ctx.payload,
      }),
    ])
  await warmUp(ctx, drive(Math.min(1000, f.ms)))
  const m = await measureNodes(ctx, nodes, redis, drive(f.ms), (d) => d[0].published * c.ok)
  record(
    ctx,
    backend,
    'fanout',
    nodes.length,
    { nodes: nodes.length, clients: c.ok, offeredPublishesPerSec: f.rate },
    m,
  )
  await closeAll(ctx)
}

/** Rooms of `roomSize`, their members on different nodes, every node publishing its share. */
async function roomsRun(ctx, backend, nodes, redis, run) {
  const r = ctx.cfg[run]
  const rooms = Math.floor(r.clients / r.roomSize)
  const clients = rooms * r.roomSize
  const c = await connectSpread(ctx, nodes, split(clients, nodes.length), {
    prefix: `${run}:`,
    rooms,
    probeEvery: 4,
  })
  await ctx.sleep(ctx.settleMs)
  const drive = (ms) => () =>
    Promise.all(
      nodes.map((n) =>
        n.call('rooms', {
          prefix: `${run}:`,
          rooms,
          ratePerRoom: r.ratePerRoom / nodes.length,
          durationMs: ms,
          size: ctx.payload,
        }),
      ),
    )
  await warmUp(ctx, drive(Math.min(1000, r.ms)))
  const m = await measureNodes(ctx, nodes, redis, drive(r.ms), (d) =>
    d.reduce((a, x) => a + x.published * r.roomSize, 0),
  )
  record(
    ctx,
    backend,
    run,
    nodes.length,
    {
      nodes: nodes.length,
      clients: c.ok,
      rooms,
      roomSize: r.roomSize,
      offeredPublishesPerSec: rooms * r.ratePerRoom,
    },
    m,
  )
  await closeAll(ctx)
}

/**
 * The channel's subscribers and its publisher on node 0; nodes 1…k connected, each with clients
 * of its own on another channel, none on this one.
 */
async function idleNodesRun(ctx, backend, nodes, redis, k) {
  const f = ctx.cfg.idleNodes
  const c = await connectSpread(ctx, nodes.slice(0, 1), [f.clients], {
    channel: 'bench:hot',
    probeEvery: Math.max(1, Math.round(f.clients / 50)),
  })
  for (const [i, node] of nodes.slice(1).entries())
    await connectSpread(ctx, [node], [f.otherClients], { channel: `bench:other-${i}` })
  await ctx.sleep(ctx.settleMs)
  const drive = (ms) => () =>
    Promise.all([
      nodes[0].call('broadcast', {
        channel: 'bench:hot',
        rate: f.rate,
        burst: 1,
        durationMs: ms,
        size: ctx.payload,
      }),
    ])
  await warmUp(ctx, drive(Math.min(1000, f.ms)))
  const m = await measureNodes(ctx, nodes, redis, drive(f.ms), (d) => d[0].published * c.ok)
  const idleCpu = m.nodeCpuUs.slice(1).reduce((a, x) => a + x, 0)
  record(
    ctx,
    backend,
    'idle-nodes',
    `k${k}`,
    {
      nodes: nodes.length,
      clients: c.ok,
      extraNodes: k,
      // the core each node ran on (undefined: not pinned)
      nodeCpus: nodes.map((n) => n.cpu),
      offeredPublishesPerSec: f.rate,
      // what the nodes without a subscriber spent, per publish
      idleNodesCpuUsPerPublish: m.published ? idleCpu / m.published : null,
    },
    m,
  )
  await closeAll(ctx)
}
