/**
 * The wire shape of the stats stream (`GET /api/stats/stream`): one sample a second of the whole
 * cluster and of each node, and the alerts that fire. Types only, with no Node imports, so the
 * dashboard (a browser app) type-checks against this very file.
 */

/** Closes in the interval, by kind of close code. */
export interface CloseCounts {
  /** 1000, 1001: closed on purpose, or going away. */
  normal: number
  /** 4100: cut off for reading too slowly. */
  slowConsumer: number
  /** 4102: no sign of life within the heartbeat. */
  heartbeat: number
  /** 4001, 4003: credentials missing, invalid, expired, or not allowed. */
  auth: number
  /** 4101: sent too fast. */
  rateLimit: number
  /** Every other code (1006 dropped, 1012 restart, 1008 policy…). */
  other: number
}

/** What happened in the interval since the previous sample (counts), and the rates. */
export interface IntervalCounts {
  messagesInPerSecond: number
  messagesOutPerSecond: number
  closes: CloseCounts
  recoveries: { recovered: number; notRecovered: number }
  handshakesRefused: number
  brokerFailures: number
}

export interface NodeSample extends IntervalCounts {
  node: string
  address: string
  /** Seconds since the node started. */
  uptime: number
  connections: number
  channels: number
  subscriptions: number
  eventLoopDelayMs: number
  memory: { rss: number; heapUsed: number }
}

export interface ClusterSample extends IntervalCounts {
  connections: number
  subscriptions: number
  /** The largest of the nodes'. */
  eventLoopDelayMs: number
}

export type AlertSeverity = 'warning' | 'critical'

/** An alert that fires now: the same rules as deploy/prometheus/alerts.yml. */
export interface FiringAlert {
  name: string
  severity: AlertSeverity
  summary: string
}

export interface StatsSample {
  /** Milliseconds since the epoch. */
  at: number
  cluster: ClusterSample
  nodes: NodeSample[]
  /** Nodes the gather reached, and how many answered in time. */
  reached: number
  answered: number
  /** The gather itself failed (the broker is unavailable): the numbers are zeros. */
  brokerUnavailable: boolean
  alerts: FiringAlert[]
}
