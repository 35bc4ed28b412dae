// What a Switchboard publish costs Redis against a bare PUBLISH, with nothing else running: a
// private redis-server (on CPU 0) driven by `redis-benchmark` (on CPU 1), 50,000 calls of each of
//
//   PUBLISH            a bare publish, as Socket.IO's Redis adapter sends
//   HINCRBY            one of the publish script's commands, alone
//   EVALSHA return 1   the cost of entering a script at all
//   EVALSHA publish    @switchboard/redis's publish script, steady state (HGET, HINCRBY, PUBLISH)
//
// and prints, per command, Redis's own µs per call (INFO commandstats) and the redis-server
// process's CPU µs per call, network included (/proc). Needs `npm run build` (the script's text
// comes from packages/redis/dist). Usage: node bench/script-cost.mjs [calls]
import { execFileSync } from 'node:child_process'
import { PUBLISH } from '../packages/redis/dist/scripts.js'
import { startRedis } from './redis.mjs'

const calls = Number(process.argv[2] ?? 50_000)
const payload = JSON.stringify({ t: Date.now(), seq: 12345, pad: 'x'.repeat(64) })
const redis = await startRedis({ cpu: 0 })
const port = redis.nodes[0].port
const cli = (...args) => execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).trim()
const load = (source) => cli('SCRIPT', 'LOAD', source)

// the script's arguments as RedisBroker.publish gives them (no history, no idempotency key)
const publishArgs = (sha) => [
  'EVALSHA',
  sha,
  '4',
  'meta',
  'hist',
  'idem',
  'epochs',
  'seed',
  '86400000',
  payload,
  'null',
  '',
  '0',
  String(Date.now()),
  '86400000',
  'ch',
  'ch',
  '0',
]
const cases = [
  { name: 'PUBLISH (bare)', stat: 'publish', args: ['PUBLISH', 'ch', payload] },
  { name: 'HINCRBY', stat: 'hincrby', args: ['HINCRBY', 'meta', 'offset', '1'] },
  { name: 'EVALSHA return 1', stat: 'evalsha', args: ['EVALSHA', load('return 1'), '0'] },
  // the private `source` field: the very text RedisBroker runs
  { name: 'EVALSHA publish script', stat: 'evalsha', args: publishArgs(load(PUBLISH.of('PUBLISH').source)) },
]
try {
  console.log(`redis-server ${redis.version}, ${calls} calls each, 4 connections\n`)
  console.log('command                  Redis µs/call (commandstats)   redis-server CPU µs/call')
  for (const c of cases) {
    redis.resetStats()
    const cpu0 = redis.cpuUs()
    execFileSync(
      'taskset',
      ['-c', '1', 'redis-benchmark', '-p', String(port), '-n', String(calls), '-c', '4', '-q', ...c.args],
      {
        stdio: 'ignore',
      },
    )
    const cpu = (redis.cpuUs() - cpu0) / calls
    const s = redis.commandStats()[c.stat]
    console.log(
      `${c.name.padEnd(25)}${(s.usec / s.calls).toFixed(2).padStart(10)}${cpu.toFixed(1).padStart(33)}`,
    )
  }
} finally {
  await redis.stop()
}
