// What a Switchboard publish costs Redis against a bare PUBLISH, with nothing else running: a
// private redis-server (on CPU 0) driven by `redis-benchmark` (on CPU 1), `calls` calls of each of
//
//   PUBLISH            a bare publish, as Socket.IO's Redis adapter sends
//   HINCRBY            one of the publish script's commands, alone
//   EVALSHA return 1   the cost of entering a script at all
//   EVALSHA publish    @switchboard/redis's publish script, steady state (HGET, HINCRBY, PUBLISH)
//
// and, per command, Redis's own µs per call (INFO commandstats) and the redis-server process's CPU
// µs per call, network included (/proc). Needs `npm run build` (the script's text comes from
// packages/redis/dist). Usage: node bench/script-cost.mjs [calls]   (default 50,000)
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { PUBLISH } from '../packages/redis/dist/scripts.js'
import { startRedis } from './redis.mjs'

/**
 * Runs the four commands against a fresh redis-server. Returns { version, rows: [{ name,
 * usPerCall, cpuUsPerCall }] }: Redis's µs per call and its process's CPU µs per call.
 */
export async function scriptCost({ calls = 50_000 } = {}) {
  const payload = JSON.stringify({ t: Date.now(), seq: 12345, pad: 'x'.repeat(64) })
  const redis = await startRedis({ cpu: 0 })
  const load = (source) => redis.all('SCRIPT', 'LOAD', source)[0].trim()
  // the arguments RedisBroker.publish gives the script (no history, no idempotency key)
  const channel = ['meta', 'hist', 'idem', 'epochs', 'seed', '86400000', payload, 'null', '']
  const rest = ['0', String(Date.now()), '86400000', 'ch', 'ch', '0']
  const cases = [
    { name: 'PUBLISH (bare)', stat: 'publish', args: ['PUBLISH', 'ch', payload] },
    { name: 'HINCRBY', stat: 'hincrby', args: ['HINCRBY', 'meta', 'offset', '1'] },
    { name: 'EVALSHA return 1', stat: 'evalsha', args: ['EVALSHA', load('return 1'), '0'] },
    {
      name: 'EVALSHA publish script',
      stat: 'evalsha',
      // the private `source` field: the very text RedisBroker runs
      args: ['EVALSHA', load(PUBLISH.of('PUBLISH').source), '4', ...channel, ...rest],
    },
  ]
  const port = String(redis.nodes[0].port)
  try {
    const rows = []
    for (const c of cases) {
      redis.resetStats()
      const cpu0 = redis.cpuUs()
      const bench = ['redis-benchmark', '-p', port, '-n', String(calls), '-c', '4', '-q', ...c.args]
      execFileSync('taskset', ['-c', '1', ...bench], { stdio: 'ignore' })
      const s = redis.commandStats()[c.stat]
      rows.push({ name: c.name, usPerCall: s.usec / s.calls, cpuUsPerCall: (redis.cpuUs() - cpu0) / calls })
    }
    return { version: redis.version, rows }
  } finally {
    await redis.stop()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const calls = Number(process.argv[2] ?? 50_000)
  const { version, rows } = await scriptCost({ calls })
  console.log(`redis-server ${version}, ${calls} calls each, 4 connections\n`)
  console.log('command                  Redis µs/call (commandstats)   redis-server CPU µs/call')
  for (const r of rows)
    console.log(
      `${r.name.padEnd(25)}${r.usPerCall.toFixed(2).padStart(10)}${r.cpuUsPerCall.toFixed(1).padStart(33)}`,
    )
}
