// CI smoke test for the multi-node group (bench/multinode.mjs, issue 19): a quick run — one
// redis-server and a three-primary Redis Cluster started by the bench, tiny loads — must record
// every backend, run and node count with everything delivered and measured CPU for the nodes and
// Redis. It judges no speed: the targets are judged on the full run, as ratios (bench/report.mjs).
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'

const here = fileURLToPath(new URL('.', import.meta.url))

interface Result {
  scenario: string
  contender: string
  backend: string
  run: string
  nodes: number
  extraNodes?: number
  [k: string]: unknown
}
interface Doc {
  meta: {
    pinned: boolean
    config: { multinode: { nodes: number[]; idleNodes: { extra: number[] } } }
    multinode: {
      backends: string[]
      redis: Record<string, { version: string; primaries: number }>
    }
  }
  results: Result[]
  errors: unknown[]
  targets: { target: string; met: boolean }[]
}

let doc: Doc

beforeAll(() => {
  const out = join(mkdtempSync(join(tmpdir(), 'sb-bench-mn-')), 'quick.json')
  const run = spawnSync(process.execPath, [join(here, 'run.mjs'), `--out=${out}`, '--groups=multinode'], {
    encoding: 'utf8',
    timeout: 110_000,
  })
  if (run.status !== 0)
    throw new Error(`bench/run.mjs exited with ${run.status}:\n${run.stderr.slice(-4000)}`)
  doc = JSON.parse(readFileSync(out, 'utf8'))
}, 120_000)

const positive = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x > 0

describe('bench multi-node quick run', () => {
  it('ran without errors, on one Redis and on a cluster of three primaries', () => {
    expect(doc.errors).toEqual([])
    expect(doc.meta.multinode.redis.redis?.primaries).toBe(1)
    expect(doc.meta.multinode.redis.cluster?.primaries).toBe(3)
  })

  it('runs all four backends, Switchboard on the cluster included', () => {
    expect(doc.meta.multinode.backends).toEqual(['sb-redis', 'sio-redis', 'sb-cluster', 'sio-sharded'])
    expect(doc.results.some((r) => r.backend === 'sb-cluster')).toBe(true)
  })

  it('every backend, run and node count delivered everything, with CPU measured for the nodes and Redis', () => {
    const { nodes, idleNodes } = doc.meta.config.multinode
    const want = [
      ...['fanout', 'rooms', 'publish-heavy'].flatMap((run) => nodes.map((n) => `${run}.{b}.${n}`)),
      ...idleNodes.extra.map((k) => `idle-nodes.{b}.k${k}`),
    ]
    for (const backend of doc.meta.multinode.backends) {
      for (const key of want) {
        const scenario = `multinode.${key.replace('{b}', backend)}`
        const r = doc.results.find((x) => x.scenario === scenario)
        expect(r, scenario).toBeDefined()
        if (!r) continue
        expect(r.contender, scenario).toBe(backend.startsWith('sb-') ? 'switchboard' : 'socketio')
        expect(r.delivered, scenario).toBe(r.expected)
        expect(r.failedPublishes, scenario).toBe(0)
        for (const k of [
          'perSec',
          'published',
          'nodesCpuUs',
          'redisCpuUs',
          'cpuUsPerMsg',
          'redisCpuUsPerPublish',
          'p99',
        ])
          expect(positive(r[k]), `${scenario} ${k}`).toBe(true)
        expect(r.p99 as number, scenario).toBeGreaterThanOrEqual(r.p50 as number)
        expect((r.nodeCpuUs as number[]).length, scenario).toBe(r.nodes)
      }
    }
  })

  it("puts the idle-nodes run's K extra nodes on the load generator's core when it pins", () => {
    const runs = doc.results.filter((r) => r.run === 'idle-nodes')
    expect(runs.length).toBeGreaterThan(0)
    for (const r of runs) {
      const cpus = r.nodeCpus as (number | undefined)[]
      expect(cpus.length, r.scenario).toBe(r.nodes)
      if (doc.meta.pinned) expect(cpus, r.scenario).toEqual([0, ...Array(r.extraNodes).fill(1)])
      else
        expect(
          cpus.every((c) => c == null),
          r.scenario,
        ).toBe(true)
    }
  })

  it("judges issue 19's targets", () => {
    const mine = doc.targets.filter(
      (t) => t.target.includes('Socket.IO') || t.target.includes('Redis CPU per publish'),
    )
    // per Switchboard backend: three runs against the Redis adapter, and the idle-nodes flatness
    expect(mine.length).toBe(4 * doc.meta.multinode.backends.filter((b) => b.startsWith('sb-')).length)
    for (const t of mine) expect(typeof t.met).toBe('boolean')
  })
})
