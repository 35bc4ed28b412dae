// deploy/prometheus/alerts.yml, checked and exercised by the real promtool (Debian's prometheus
// package; missing is a failure with the command that installs it, never a skip): `check rules`
// accepts it, `test rules` runs alerts.test.yml — and fails on a copy whose threshold moved, so the
// unit tests do pin the thresholds. Every metric the rules read is one a real server exposes, and
// the thresholds are the ones the dashboard's alert panel evaluates (stats/alerts.ts).
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMetrics } from '@switchboard/server/metrics'
import { startServer } from '@switchboard/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { ALERT_THRESHOLDS as T } from '../../packages/server/src/stats/alerts.js'
import { deployDir, findBinary } from './support.js'

const DIR = join(deployDir, 'prometheus')
const RULES = join(DIR, 'alerts.yml')

interface Rule {
  alert: string
  expr: string
  for?: string
  labels: { severity: string }
}

const rules = (parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap(
  (g) => g.rules,
)
const rule = (name: string) => {
  const found = rules.find((r) => r.alert === name)
  if (!found) throw new Error(`alerts.yml has no rule ${name}`)
  return found
}

function promtool(): string {
  const found = findBinary('promtool')
  if (!found) {
    throw new Error(
      'promtool is not installed, and the alert rules are tested with it: ' +
        '`apt-get install -y --no-install-recommends prometheus` (npm test installs it)',
    )
  }
  return found
}

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe('deploy/prometheus/alerts.yml', () => {
  it('promtool check rules accepts it', () => {
    const out = execFileSync(promtool(), ['check', 'rules', RULES], { encoding: 'utf8' })
    expect(out).toContain(`SUCCESS: ${rules.length} rules found`)
    expect(rules.map((r) => r.alert)).toEqual([
      'SwitchboardConnectionsJump',
      'SwitchboardConnectionsCollapse',
      'SwitchboardHandshakeRefusals',
      'SwitchboardSlowConsumerCuts',
      'SwitchboardRecoveriesFailing',
      'SwitchboardEventLoopDelay',
      'SwitchboardBrokerUnavailable',
    ])
  })

  it('promtool test rules passes its unit tests, and fails them when a threshold moves', () => {
    const run = (dir: string) =>
      spawnSync(promtool(), ['test', 'rules', 'alerts.test.yml'], { cwd: dir, encoding: 'utf8' })
    const ok = run(DIR)
    expect(ok.status, ok.stdout + ok.stderr).toBe(0)
    expect(ok.stdout).toContain('SUCCESS')

    const copy = mkdtempSync(join(tmpdir(), 'switchboard-alerts-'))
    cleanups.push(() => rmSync(copy, { recursive: true, force: true }))
    copyFileSync(join(DIR, 'alerts.test.yml'), join(copy, 'alerts.test.yml'))
    writeFileSync(
      join(copy, 'alerts.yml'),
      readFileSync(RULES, 'utf8').replace('{code="4100"}[5m])) > 10', '{code="4100"}[5m])) > 30'),
    )
    const moved = run(copy)
    expect(moved.status).not.toBe(0)
    expect(moved.stdout + moved.stderr).toContain('SwitchboardSlowConsumerCuts')
  })

  it('uses the thresholds of the dashboard alert panel', () => {
    expect(rule('SwitchboardConnectionsJump').expr).toContain(`) > ${T.connectionsJumpAbsolute}\n`)
    expect(rule('SwitchboardConnectionsJump').expr).toContain(`> ${1 + T.connectionsJumpRatio} * `)
    expect(rule('SwitchboardConnectionsJump').expr).toContain(`offset ${T.connectionsWindowSeconds / 60}m`)
    expect(rule('SwitchboardConnectionsCollapse').expr).toContain(`< ${T.connectionsCollapseRatio} * `)
    expect(rule('SwitchboardConnectionsCollapse').expr).toContain(`>= ${T.connectionsCollapseFrom}`)
    expect(rule('SwitchboardHandshakeRefusals').expr).toContain(`[5m])) > ${T.handshakeRefusalsPerSecond}`)
    expect(rule('SwitchboardSlowConsumerCuts').expr).toContain(`[5m])) > ${T.slowConsumerCuts}`)
    expect(rule('SwitchboardRecoveriesFailing').expr).toContain(`[5m])) > ${T.failedRecoveries}`)
    expect(rule('SwitchboardEventLoopDelay').expr).toContain(`> ${T.eventLoopDelayMs / 1000}`)
    expect(rule('SwitchboardEventLoopDelay').for).toBe(`${T.eventLoopDelayForSeconds / 60}m`)
    expect(rule('SwitchboardBrokerUnavailable').expr).toContain(`[${T.brokerWindowSeconds / 60}m]) > 0`)
  })

  it('reads only metrics a real server exposes', async () => {
    const server = await startServer()
    cleanups.push(() => server.sb.close({ timeout: 100 }))
    const text = await createMetrics(server.sb).registry.metrics()
    const exposed = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!))
    const read = new Set(
      rules.flatMap((r) => [...r.expr.matchAll(/\b(switchboard_[a-z_]+)/g)].map((m) => m[1]!)),
    )
    expect(read.size).toBe(6)
    for (const metric of read) expect(exposed, metric).toContain(metric)
  })
})
