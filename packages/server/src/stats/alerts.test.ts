// The dashboard's alert panel: each rule fires on samples past its threshold and stays quiet just
// below it (the same numbers as deploy/prometheus/alerts.yml, checked in deploy/test).
import { describe, expect, it } from 'vitest'
import { firingAlerts, ALERT_THRESHOLDS as T } from './alerts.js'
import type { ClusterSample, StatsSample } from './stats-sample.js'

const cluster = (over: Partial<ClusterSample> = {}): ClusterSample => ({
  connections: 0,
  subscriptions: 0,
  eventLoopDelayMs: 0,
  messagesInPerSecond: 0,
  messagesOutPerSecond: 0,
  closes: { normal: 0, slowConsumer: 0, heartbeat: 0, auth: 0, rateLimit: 0, other: 0 },
  recoveries: { recovered: 0, notRecovered: 0 },
  handshakesRefused: 0,
  brokerFailures: 0,
  ...over,
})

/** A sample a second for `seconds`, each made by `make(second)`. */
function samples(
  seconds: number,
  make: (i: number) => Partial<ClusterSample> & { loop?: number },
): StatsSample[] {
  return Array.from({ length: seconds }, (_, i) => {
    const { loop = 0, ...rest } = make(i)
    const c = cluster({ ...rest, eventLoopDelayMs: loop })
    return {
      at: 1_000_000 + i * 1000,
      cluster: c,
      nodes: [{ ...c, node: 'n1', address: 'h:1', uptime: i, channels: 0, memory: { rss: 1, heapUsed: 1 } }],
      reached: 1,
      answered: 1,
      brokerUnavailable: false,
      alerts: [],
    }
  })
}

const names = (s: StatsSample[]) => firingAlerts(s).map((a) => a.name)

describe('firingAlerts', () => {
  it('is quiet on a quiet cluster, and with no samples', () => {
    expect(names(samples(300, () => ({ connections: 500 })))).toEqual([])
    expect(firingAlerts([])).toEqual([])
  })

  it('connections jumping or collapsing within 5 minutes', () => {
    expect(names(samples(300, (i) => ({ connections: i < 200 ? 100 : 260 })))).toEqual([
      'SwitchboardConnectionsJump',
    ])
    expect(names(samples(300, (i) => ({ connections: i < 200 ? 100 : 150 })))).toEqual([])
    expect(names(samples(300, (i) => ({ connections: i < 200 ? 100 : 40 })))).toEqual([
      'SwitchboardConnectionsCollapse',
    ])
    expect(
      names(samples(300, (i) => ({ connections: i < 200 ? T.connectionsCollapseFrom - 1 : 0 }))),
    ).toEqual([])
  })

  it('refusals, slow-consumer cuts, failed recoveries past their thresholds in 5 minutes', () => {
    expect(names(samples(300, () => ({ handshakesRefused: 2 })))).toEqual(['SwitchboardHandshakeRefusals'])
    expect(names(samples(300, () => ({ handshakesRefused: 1 })))).toEqual([])
    const closes = (slowConsumer: number) => ({ ...cluster().closes, slowConsumer })
    expect(names(samples(11, () => ({ closes: closes(1) })))).toEqual(['SwitchboardSlowConsumerCuts'])
    expect(names(samples(10, () => ({ closes: closes(1) })))).toEqual([])
    expect(names(samples(11, () => ({ recoveries: { recovered: 0, notRecovered: 1 } })))).toEqual([
      'SwitchboardRecoveriesFailing',
    ])
    expect(names(samples(10, () => ({ recoveries: { recovered: 100, notRecovered: 1 } })))).toEqual([])
  })

  it('event-loop delay held for a minute; broker failures or a gather that failed', () => {
    expect(names(samples(61, () => ({ loop: 250 })))).toEqual(['SwitchboardEventLoopDelay'])
    expect(names(samples(30, () => ({ loop: 250 })))).toEqual([])
    expect(names(samples(61, (i) => ({ loop: i === 40 ? 10 : 250 })))).toEqual([])
    expect(names(samples(5, (i) => ({ brokerFailures: i === 0 ? 1 : 0 })))).toEqual([
      'SwitchboardBrokerUnavailable',
    ])
    const down = samples(3, () => ({}))
    down[2]!.brokerUnavailable = true
    expect(firingAlerts(down)).toEqual([
      { name: 'SwitchboardBrokerUnavailable', severity: 'critical', summary: 'the broker does not answer' },
    ])
  })
})
