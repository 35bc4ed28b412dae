// CI smoke test for the benchmark harness: a quick run (tiny sizes, every contender, every
// scenario) must produce a result JSON with sane, non-zero numbers everywhere. It measures
// nothing worth comparing; it proves that `npm run bench -- --full` will work. The multi-node
// group, which starts Redis and a Redis Cluster, has its own quick run: multinode.test.ts.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'

const here = fileURLToPath(new URL('.', import.meta.url))
const CONTENDERS = ['switchboard', 'ws-naive', 'ws-frame', 'socketio', 'uws']
const SCENARIOS = [
  'broadcast.small.single.rate',
  'broadcast.small.single.flat',
  'broadcast.small.burst.rate',
  'broadcast.small.burst.flat',
  'broadcast.large.single.rate',
  'broadcast.large.single.flat',
  'broadcast.large.burst.rate',
  'broadcast.large.burst.flat',
  'echo.500',
  'rooms',
  'connect-rate',
  'idle-memory',
  'slow-consumers',
]
const CODECS = ['json', 'msgpack', 'mixed'] as const
/** The codecs group (issue 14), Switchboard only: JSON, MessagePack and mixed subscribers. */
const CODEC_SCENARIOS = ['text', 'binary'].flatMap((payload) =>
  ['single.rate', 'single.flat', 'burst.rate', 'burst.flat'].flatMap((pace) =>
    CODECS.map((codec) => ({ scenario: `codec.${payload}.${codec}.${pace}`, codec })),
  ),
)

interface Result {
  scenario: string
  contender: string
  [k: string]: unknown
}
interface Doc {
  meta: { contenders: Record<string, { version: string }>; node: string; cpu: string }
  results: Result[]
  errors: unknown[]
  targets: { target: string; met: boolean }[]
}

let doc: Doc
let stderr = ''

beforeAll(() => {
  const out = join(mkdtempSync(join(tmpdir(), 'sb-bench-')), 'quick.json')
  const run = spawnSync(process.execPath, [join(here, 'run.mjs'), `--out=${out}`, '--skip=multinode'], {
    encoding: 'utf8',
    timeout: 110_000,
  })
  stderr = run.stderr
  if (run.status !== 0) throw new Error(`bench/run.mjs exited with ${run.status}:\n${stderr.slice(-4000)}`)
  doc = JSON.parse(readFileSync(out, 'utf8'))
}, 120_000)

const get = (scenario: string, contender: string) =>
  doc.results.find((r) => r.scenario === scenario && r.contender === contender)
const positive = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x > 0

describe('bench quick run', () => {
  it('ran without errors and recorded the machine and every contender', () => {
    expect(doc.errors).toEqual([])
    expect(doc.meta.node).toBe(process.version)
    expect(Object.keys(doc.meta.contenders).sort()).toEqual([...CONTENDERS].sort())
    expect(doc.meta.contenders.uws.version).toContain('native')
  })

  for (const contender of CONTENDERS) {
    it(`${contender}: every scenario has sane numbers`, () => {
      for (const scenario of SCENARIOS) {
        const r = get(scenario, contender)
        expect(r, `${contender} ${scenario}`).toBeDefined()
        if (!r) continue
        const where = `${contender} ${scenario}`
        if (scenario === 'idle-memory') {
          expect(r.held, where).toBeGreaterThan(0)
          expect(positive(r.baseRss), where).toBe(true)
          expect(Number.isFinite(r.bytesPerConn), where).toBe(true)
        } else if (scenario === 'connect-rate') {
          expect(positive(r.perSec), where).toBe(true)
          expect(r.failed, where).toBe(0)
        } else {
          expect(positive(r.perSec), where).toBe(true)
          expect(positive(r.cpuUsPerMsg), where).toBe(true)
          expect(positive(r.rssPeak), where).toBe(true)
          expect(positive(r.p99), where).toBe(true)
          expect(r.p99 as number, where).toBeGreaterThanOrEqual(r.p50 as number)
          // everything offered was delivered (nobody is slow in a 20-client run)
          if (scenario !== 'slow-consumers') expect(r.delivered, where).toBe(r.expected)
        }
      }
    })
  }

  it('switchboard: every codec scenario delivers everything, each publication encoded once per codec in use', () => {
    const once = {
      json: { json: 1, msgpack: 0 },
      msgpack: { json: 0, msgpack: 1 },
      mixed: { json: 1, msgpack: 1 },
    }
    for (const { scenario, codec } of CODEC_SCENARIOS) {
      const r = get(scenario, 'switchboard')
      expect(r, scenario).toBeDefined()
      if (!r) continue
      expect(positive(r.perSec), scenario).toBe(true)
      expect(positive(r.cpuUsPerMsg), scenario).toBe(true)
      expect(positive(r.p99), scenario).toBe(true)
      // Flat out, a load generator on a busy machine falls behind its server's send bound and is cut
      // (4100; these clients do not resume) — how much arrives then says how busy the machine was,
      // not whether the server is right; paced, everything must arrive.
      if (scenario.endsWith('.flat')) expect(r.delivered, scenario).toBeGreaterThan(0)
      else expect(r.delivered, scenario).toBe(r.expected)
      expect(r.encodesPerPublication, scenario).toEqual(once[codec])
    }
    // the other contenders do not run the codecs group
    expect(
      doc.results.filter((r) => r.scenario.startsWith('codec.') && r.contender !== 'switchboard'),
    ).toEqual([])
  })

  it('switchboard: a presence join wave costs far fewer frames coalesced than one per join per member', () => {
    const wave = (v: string) => get(`presence.${v}`, 'switchboard') as Result & Record<string, number>
    const [each, members, counts] = [wave('each'), wave('members'), wave('counts')]
    for (const r of [each, members, counts]) {
      expect(r, 'presence scenario').toBeDefined()
      expect(r.failed).toBe(0)
      expect(positive(r.clients)).toBe(true)
      expect(positive(r.pingReplies)).toBe(true)
      expect(r.pingP99).toBeGreaterThanOrEqual(r.pingP50)
    }
    // Without coalescing the k-th joiner's join goes to the k members there: about n/2 frames a join.
    expect(each.framesPerJoin).toBeGreaterThan(each.clients / 4)
    expect(members.framesPerJoin).toBeLessThan(each.framesPerJoin / 5)
    expect(counts.framesPerJoin).toBeLessThan(each.framesPerJoin / 5)
  })

  it('judges every target', () => {
    expect(doc.targets.length).toBeGreaterThanOrEqual(12)
    expect(doc.targets.filter((t) => t.target.includes('MessagePack'))).toHaveLength(2)
    for (const t of doc.targets) expect(typeof t.met).toBe('boolean')
  })
})
