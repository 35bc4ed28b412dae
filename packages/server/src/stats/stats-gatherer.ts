/**
 * The stats stream's source: once a second, while anyone watches, one `stats` command to every
 * node (`broker.control`), turned into a sample — the cluster's numbers and each node's, rates and
 * counts from the difference with the previous answer of the same node — with the alerts that fire
 * (alerts.ts). One gather per second per server, shared by every viewer; the last 15 minutes of
 * samples are kept, so a viewer that arrives gets them first.
 */
import type { Broker } from '@switchboard/broker'
import { firingAlerts } from './alerts.js'
import { type NodeStatsAnswer, statsCommand } from './stats-commands.js'
import type { CloseCounts, IntervalCounts, NodeSample, StatsSample } from './stats-sample.js'

export const SAMPLE_INTERVAL_MS = 1000
/** Samples kept: 15 minutes. */
export const KEPT_SAMPLES = 900

export type SampleListener = (sample: StatsSample) => void

const noCloses = (): CloseCounts => ({
  normal: 0,
  slowConsumer: 0,
  heartbeat: 0,
  auth: 0,
  rateLimit: 0,
  other: 0,
})

/** The kind of close a close code is, as the dashboard groups them. */
export function closeKind(code: number): keyof CloseCounts {
  if (code === 1000 || code === 1001) return 'normal'
  if (code === 4100) return 'slowConsumer'
  if (code === 4102) return 'heartbeat'
  if (code === 4001 || code === 4003) return 'auth'
  if (code === 4101) return 'rateLimit'
  return 'other'
}

/** What happened between two answers of one node (all zeros for its first answer). */
function interval(
  now: NodeStatsAnswer,
  before: NodeStatsAnswer | undefined,
  seconds: number,
): IntervalCounts {
  const a = now.totals
  // A node that restarted with the same id starts from zero again.
  const b = before && before.startedAt === now.startedAt ? before.totals : undefined
  const delta = (x: number, y: number | undefined) => (y === undefined ? 0 : Math.max(0, x - y))
  const closes = noCloses()
  if (b) {
    for (const [code, count] of Object.entries(a.disconnects)) {
      closes[closeKind(Number(code))] += delta(count, b.disconnects[code] ?? 0)
    }
  }
  const rate = (x: number, y: number | undefined) => Math.round((delta(x, y) / seconds) * 10) / 10
  return {
    messagesInPerSecond: rate(a.messagesIn, b?.messagesIn),
    messagesOutPerSecond: rate(a.messagesOut, b?.messagesOut),
    closes,
    recoveries: {
      recovered: delta(a.recovered, b?.recovered),
      notRecovered: delta(a.notRecovered, b?.notRecovered),
    },
    handshakesRefused: delta(a.handshakesRefused, b?.handshakesRefused),
    brokerFailures: delta(a.brokerFailures, b?.brokerFailures),
  }
}

function add(into: IntervalCounts, from: IntervalCounts): void {
  into.messagesInPerSecond = Math.round((into.messagesInPerSecond + from.messagesInPerSecond) * 10) / 10
  into.messagesOutPerSecond = Math.round((into.messagesOutPerSecond + from.messagesOutPerSecond) * 10) / 10
  for (const kind of Object.keys(into.closes) as Array<keyof CloseCounts>)
    into.closes[kind] += from.closes[kind]
  into.recoveries.recovered += from.recoveries.recovered
  into.recoveries.notRecovered += from.recoveries.notRecovered
  into.handshakesRefused += from.handshakesRefused
  into.brokerFailures += from.brokerFailures
}

export class StatsGatherer {
  private readonly listeners = new Set<SampleListener>()
  private readonly samples: StatsSample[] = []
  private readonly previous = new Map<string, { answer: NodeStatsAnswer; at: number }>()
  private timer: NodeJS.Timeout | undefined
  private gathering = false

  constructor(
    private readonly broker: Broker,
    private readonly now: () => number = Date.now,
  ) {}

  /** The samples kept, oldest first. */
  get history(): readonly StatsSample[] {
    return this.samples
  }

  /** Calls `listener` with every new sample until the returned function is called. */
  watch(listener: SampleListener): () => void {
    this.listeners.add(listener)
    if (!this.timer) {
      this.timer = setInterval(() => void this.gather(), SAMPLE_INTERVAL_MS)
      void this.gather()
    }
    return () => {
      this.listeners.delete(listener)
      if (this.listeners.size === 0) this.stop()
    }
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** One gather; skipped while the previous one is still out (a slow node must not pile them up). */
  async gather(): Promise<void> {
    if (this.gathering) return
    this.gathering = true
    try {
      const sample = await this.sample()
      this.samples.push(sample)
      if (this.samples.length > KEPT_SAMPLES) this.samples.shift()
      sample.alerts = firingAlerts(this.samples)
      for (const listener of this.listeners) listener(sample)
    } finally {
      this.gathering = false
    }
  }

  private async sample(): Promise<StatsSample> {
    const at = this.now()
    const cluster = {
      connections: 0,
      subscriptions: 0,
      eventLoopDelayMs: 0,
      messagesInPerSecond: 0,
      messagesOutPerSecond: 0,
      closes: noCloses(),
      recoveries: { recovered: 0, notRecovered: 0 },
      handshakesRefused: 0,
      brokerFailures: 0,
    }
    let result: Awaited<ReturnType<Broker['control']>>
    try {
      result = await this.broker.control(statsCommand('stats', {}), { timeoutMs: SAMPLE_INTERVAL_MS - 100 })
    } catch {
      return { at, cluster, nodes: [], reached: 0, answered: 0, brokerUnavailable: true, alerts: [] }
    }
    const nodes: NodeSample[] = []
    for (const reply of result.replies) {
      if (!reply.ok) continue
      const answer = reply.data as unknown as NodeStatsAnswer
      const before = this.previous.get(answer.node)
      const seconds = before ? Math.max(0.001, (at - before.at) / 1000) : 1
      const counts = interval(answer, before?.answer, seconds)
      this.previous.set(answer.node, { answer, at })
      nodes.push({
        node: answer.node,
        address: answer.address,
        uptime: Math.max(0, Math.round((at - answer.startedAt) / 1000)),
        connections: answer.connections,
        channels: answer.channels,
        subscriptions: answer.subscriptions,
        eventLoopDelayMs: answer.eventLoopDelayMs,
        memory: answer.memory,
        ...counts,
      })
      cluster.connections += answer.connections
      cluster.subscriptions += answer.subscriptions
      cluster.eventLoopDelayMs = Math.max(cluster.eventLoopDelayMs, answer.eventLoopDelayMs)
      add(cluster, counts)
    }
    nodes.sort((a, b) => (a.node < b.node ? -1 : 1))
    return {
      at,
      cluster,
      nodes,
      reached: result.reached,
      answered: nodes.length,
      brokerUnavailable: false,
      alerts: [],
    }
  }
}
