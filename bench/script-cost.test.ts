// bench/script-cost.mjs on a real redis-server, few calls: it measures every command, and the
// publish script costs Redis more per call than a bare PUBLISH and than entering a script at all
// (the order is large — several times — so it holds on a noisy machine).
import { describe, expect, it } from 'vitest'
import { scriptCost } from './script-cost.mjs'

interface Row {
  name: string
  usPerCall: number
  cpuUsPerCall: number
}

describe('bench/script-cost.mjs', () => {
  it('measures the bare publish, the script entry and the publish script', async () => {
    const { version, rows } = (await scriptCost({ calls: 3000 })) as { version: string; rows: Row[] }
    expect(version).toMatch(/^\d+\.\d+/)
    expect(rows.map((r) => r.name)).toEqual([
      'PUBLISH (bare)',
      'HINCRBY',
      'EVALSHA return 1',
      'EVALSHA publish script',
    ])
    for (const r of rows) {
      expect(r.usPerCall, r.name).toBeGreaterThan(0)
      expect(r.cpuUsPerCall, r.name).toBeGreaterThan(0)
    }
    const [bare, , entry, script] = rows
    expect(script.usPerCall).toBeGreaterThan(2 * bare.usPerCall)
    expect(script.usPerCall).toBeGreaterThan(entry.usPerCall)
  }, 60_000)
})
