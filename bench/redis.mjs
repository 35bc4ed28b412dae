// Redis for the multi-node group (bench/multinode.mjs): a private redis-server, or a Redis Cluster
// of three primaries, started by the bench on free ports in a temporary directory (no persistence),
// pinned like the servers, and the CPU time each redis-server process has used so far, read from
// /proc — measured, never estimated.
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Whether `port` can be bound on 127.0.0.1 right now. */
function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer()
    s.once('error', () => resolve(false))
    s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)))
  })
}

/** A free port whose cluster-bus port (port + 10000) is free as well. */
async function freePortPair() {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 30000)
    if ((await portFree(port)) && (await portFree(port + 10000))) return port
  }
  throw new Error('no free port pair for redis-server')
}

/**
 * CPU µs used so far by the process `pid`, all its threads: the first field of each
 * /proc/<pid>/task/<tid>/schedstat, time on a CPU in ns. /proc/<pid>/stat's utime + stime count in
 * clock ticks (10 ms), too coarse for a Redis that spends 20 ms on a thousand publishes.
 */
export function procCpuUs(pid) {
  let ns = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
    } catch {} // a thread that ended meanwhile
  }
  return ns / 1000
}

function redisCli(port, ...args) {
  return execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    encoding: 'utf8',
    timeout: 10_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

async function startOne(dir, extra, cpu) {
  const port = await freePortPair()
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'no', '--save', '']
  args.push('--dir', dir, '--maxclients', '4096', ...extra(port))
  const child =
    cpu === undefined
      ? spawn('redis-server', args, { stdio: 'ignore' })
      : spawn('taskset', ['-c', String(cpu), 'redis-server', ...args], { stdio: 'ignore' })
  const until = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server on ${port} exited with ${child.exitCode}`)
    try {
      if (redisCli(port, 'PING').trim() === 'PONG') break
    } catch {}
    if (Date.now() > until) throw new Error(`redis-server on ${port} did not answer`)
    await sleep(50)
  }
  // taskset execs redis-server: the child's pid is the server's
  return { port, child, pid: child.pid }
}

/**
 * Starts Redis: `{ cluster: false }` one redis-server, `{ cluster: true }` three primaries made
 * into a cluster with `redis-cli --cluster create`. Returns `{ url, nodes: [{host, port}], pids,
 * cpuUs(), command(...args), stop() }`; `cpuUs()` is the CPU time of all its processes so far.
 */
export async function startRedis({ cluster = false, cpu } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-redis-'))
  const procs = []
  try {
    const n = cluster ? 3 : 1
    for (let i = 0; i < n; i++) {
      const extra = cluster
        ? (port) => ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`]
        : () => []
      procs.push(await startOne(dir, extra, cpu))
    }
    if (cluster) {
      redisCli(
        procs[0].port,
        '--cluster',
        'create',
        ...procs.map((p) => `127.0.0.1:${p.port}`),
        '--cluster-yes',
      )
      const until = Date.now() + 20_000
      while (!procs.every((p) => /cluster_state:ok/.test(redisCli(p.port, 'CLUSTER', 'INFO')))) {
        if (Date.now() > until) throw new Error('the Redis Cluster did not reach cluster_state:ok')
        await sleep(100)
      }
    }
  } catch (e) {
    for (const p of procs) p.child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
    throw e
  }
  const nodes = procs.map((p) => ({ host: '127.0.0.1', port: p.port }))
  return {
    cluster,
    url: `redis://127.0.0.1:${procs[0].port}`,
    nodes,
    pids: procs.map((p) => p.pid),
    version: redisCli(procs[0].port, 'INFO', 'server').match(/redis_version:(\S+)/)?.[1],
    cpuUs: () => procs.reduce((a, p) => a + procCpuUs(p.pid), 0),
    /** Zeroes every primary's command statistics (INFO commandstats). */
    resetStats() {
      for (const p of procs) redisCli(p.port, 'CONFIG', 'RESETSTAT')
    },
    /** INFO commandstats summed over the primaries: { command: { calls, usec } }. */
    commandStats() {
      const out = {}
      for (const p of procs)
        for (const [, cmd, calls, usec] of redisCli(p.port, 'INFO', 'commandstats').matchAll(
          /cmdstat_([^:]+):calls=(\d+),usec=(\d+)/g,
        )) {
          out[cmd] ??= { calls: 0, usec: 0 }
          const c = out[cmd]
          c.calls += Number(calls)
          c.usec += Number(usec)
        }
      return out
    },
    /** Runs a command on every primary (FLUSHALL between contenders). */
    all: (...args) => procs.map((p) => redisCli(p.port, ...args)),
    async stop() {
      for (const p of procs) p.child.kill('SIGKILL')
      await Promise.all(
        procs.map((p) => (p.child.exitCode === null ? new Promise((r) => p.child.once('exit', r)) : null)),
      )
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
