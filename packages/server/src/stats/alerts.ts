/**
 * The alert rules of deploy/prometheus/alerts.yml, evaluated over the stats stream's samples so
 * the dashboard can list what fires now without a Prometheus. The thresholds are these constants;
 * deploy/test/prometheus.test.ts checks that alerts.yml uses the same numbers, and promtool's unit
 * tests (deploy/prometheus/alerts.test.yml) exercise the rules there.
 */
import type { FiringAlert, StatsSample } from './stats-sample.js'

export const ALERT_THRESHOLDS = {
  /** Connections: the window compared against. */
  connectionsWindowSeconds: 300,
  /** A jump: up by more than this many connections… */
  connectionsJumpAbsolute: 100,
  /** …and by more than this share of what there was. */
  connectionsJumpRatio: 0.5,
  /** A collapse: down to less than this share of what there was… */
  connectionsCollapseRatio: 0.5,
  /** …which was at least this many. */
  connectionsCollapseFrom: 20,
  /** Handshakes refused per second, over 5 minutes. */
  handshakeRefusalsPerSecond: 1,
  /** Slow consumers cut off (4100) in 5 minutes. */
  slowConsumerCuts: 10,
  /** Resubscribes that could not recover (`recovered: false`) in 5 minutes. */
  failedRecoveries: 10,
  /** Event-loop delay (p99), held for a minute. */
  eventLoopDelayMs: 200,
  eventLoopDelayForSeconds: 60,
  /** Broker failures: any in this window. */
  brokerWindowSeconds: 120,
} as const

const T = ALERT_THRESHOLDS
const FIVE_MINUTES = 300_000

/** The samples of the last `ms` before the newest one. */
function within(samples: readonly StatsSample[], ms: number): StatsSample[] {
  const newest = samples[samples.length - 1]
  return newest ? samples.filter((s) => s.at > newest.at - ms) : []
}

const sum = (samples: readonly StatsSample[], of: (s: StatsSample) => number) =>
  samples.reduce((total, s) => total + of(s), 0)

/** The alerts that fire at the newest sample, oldest samples first in `samples`. */
export function firingAlerts(samples: readonly StatsSample[]): FiringAlert[] {
  const newest = samples[samples.length - 1]
  if (!newest) return []
  const alerts: FiringAlert[] = []
  const lastFive = within(samples, FIVE_MINUTES)
  const then = within(samples, T.connectionsWindowSeconds * 1000)[0]!
  const now = newest.cluster.connections
  const before = then.cluster.connections
  if (now - before > T.connectionsJumpAbsolute && now > before * (1 + T.connectionsJumpRatio)) {
    alerts.push({
      name: 'SwitchboardConnectionsJump',
      severity: 'warning',
      summary: `connections jumped from ${before} to ${now} within 5 minutes`,
    })
  }
  if (before >= T.connectionsCollapseFrom && now < before * T.connectionsCollapseRatio) {
    alerts.push({
      name: 'SwitchboardConnectionsCollapse',
      severity: 'critical',
      summary: `connections fell from ${before} to ${now} within 5 minutes`,
    })
  }
  const refused = sum(lastFive, (s) => s.cluster.handshakesRefused)
  if (refused / 300 > T.handshakeRefusalsPerSecond) {
    alerts.push({
      name: 'SwitchboardHandshakeRefusals',
      severity: 'warning',
      summary: `${refused} handshakes refused in 5 minutes`,
    })
  }
  const cuts = sum(lastFive, (s) => s.cluster.closes.slowConsumer)
  if (cuts > T.slowConsumerCuts) {
    alerts.push({
      name: 'SwitchboardSlowConsumerCuts',
      severity: 'warning',
      summary: `${cuts} slow consumers cut off (4100) in 5 minutes`,
    })
  }
  const failed = sum(lastFive, (s) => s.cluster.recoveries.notRecovered)
  if (failed > T.failedRecoveries) {
    alerts.push({
      name: 'SwitchboardRecoveriesFailing',
      severity: 'warning',
      summary: `${failed} resubscribes could not recover (recovered: false) in 5 minutes`,
    })
  }
  for (const node of newest.nodes) {
    const held = within(samples, T.eventLoopDelayForSeconds * 1000)
    const first = held[0]
    const spans = first !== undefined && newest.at - first.at >= (T.eventLoopDelayForSeconds - 2) * 1000
    const slow = held.every(
      (s) => (s.nodes.find((n) => n.node === node.node)?.eventLoopDelayMs ?? 0) > T.eventLoopDelayMs,
    )
    if (spans && slow) {
      alerts.push({
        name: 'SwitchboardEventLoopDelay',
        severity: 'warning',
        summary: `node ${node.node}: event-loop delay above ${T.eventLoopDelayMs} ms for a minute (${node.eventLoopDelayMs} ms)`,
      })
    }
  }
  const brokerWindow = within(samples, T.brokerWindowSeconds * 1000)
  const brokerFailures = sum(brokerWindow, (s) => s.cluster.brokerFailures)
  if (brokerFailures > 0 || brokerWindow.some((s) => s.brokerUnavailable)) {
    alerts.push({
      name: 'SwitchboardBrokerUnavailable',
      severity: 'critical',
      summary: newest.brokerUnavailable
        ? 'the broker does not answer'
        : `${brokerFailures} broker operations failed in 2 minutes`,
    })
  }
  return alerts
}
