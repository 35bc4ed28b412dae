/**
 * The outcome of a `switchboard bench` run: the counts of the publisher and of every worker
 * merged into one result, printed as a short report or as JSON, and the exit code it earns
 * (0 only when every message reached every subscriber, in order).
 */
import type { BenchConfig } from './config.js'
import { Histogram, type LatencySummary } from './histogram.js'
import type { PublishStats } from './publisher.js'
import { addCounts, type ConnectStats, type SubscriberStats } from './shared.js'

export interface BenchResult {
  url: string
  server: 'in-process' | 'remote'
  channel: string
  workers: number
  /** Messages per second, seconds, bytes: as asked. */
  rate: number
  duration: number
  payload: number
  clients: {
    requested: number
    connected: number
    failed: number
    /** Disconnected by the server during the run. */
    disconnected: number
    /** Why connections failed, by code. */
    errors: Record<string, number>
    /** Connected subscribers held by each worker process. */
    perWorker: number[]
  }
  /** The whole connect phase, and each client's time from socket to subscribe reply. */
  connect: { ms: number; p50: number; p99: number; max: number }
  /** Publishes the server accepted. */
  published: number
  publish: {
    scheduled: number
    sent: number
    refused: number
    unanswered: number
    errors: Record<string, number>
  }
  /** published × connected subscribers. */
  expected: number
  /** Messages of the run received in order, over all subscribers. */
  delivered: number
  lost: number
  lostPercent: number
  outOfOrder: number
  deliveredPerSecond: number
  /** Scheduled send time to receipt, in milliseconds. */
  latencyMs: LatencySummary
  /** Error frames and unexpected closes the subscribers saw after connecting, by code. */
  errors: Record<string, number>
  /** What stopped the run, if something did. */
  error: { code: string; message: string } | null
  /** Why the run is not ok, in words; empty when it is. */
  problems: string[]
  ok: boolean
}

export interface RunCounts {
  url: string
  server: 'in-process' | 'remote'
  /** Wall time of the connect phase, in ms. */
  connectMs: number
  connect: ConnectStats[]
  /** Undefined when the run stopped before publishing. */
  publish: PublishStats | undefined
  subscribers: SubscriberStats[]
  error: { code: string; message: string } | undefined
}

export function summarize(config: BenchConfig, counts: RunCounts): BenchResult {
  const connectLatency = new Histogram()
  const latency = new Histogram()
  for (const c of counts.connect) connectLatency.merge(c.connectLatency)
  const connect = connectLatency.summary()
  for (const s of counts.subscribers) latency.merge(s.latency)
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)
  const connected = sum(counts.connect.map((c) => c.connected))
  const failed = sum(counts.connect.map((c) => c.failed))
  const publish = counts.publish
  const published = publish?.published ?? 0
  const expected = published * connected
  const delivered = sum(counts.subscribers.map((s) => s.delivered))
  const lost = Math.max(0, expected - delivered)
  const outOfOrder = sum(counts.subscribers.map((s) => s.outOfOrder))
  const lastReceipt = Math.max(0, ...counts.subscribers.map((s) => s.lastReceipt))
  const span = publish && lastReceipt > publish.start ? (lastReceipt - publish.start) / 1000 : 0
  const error =
    counts.error ??
    (publish?.fatal ? { code: publish.fatal.code, message: publish.fatal.message } : undefined)
  const result: BenchResult = {
    url: counts.url,
    server: counts.server,
    channel: config.channel,
    workers: config.workers,
    rate: config.rate,
    duration: config.duration,
    payload: config.payload,
    clients: {
      requested: config.clients,
      connected,
      failed,
      disconnected: sum(counts.subscribers.map((s) => s.disconnected)),
      errors: counts.connect.reduce((all, c) => addCounts(all, c.connectErrors), {}),
      perWorker: counts.connect.map((c) => c.connected),
    },
    connect: { ms: counts.connectMs, p50: connect.p50, p99: connect.p99, max: connect.max },
    published,
    publish: {
      scheduled: publish?.scheduled ?? 0,
      sent: publish?.sent ?? 0,
      refused: publish?.refused ?? 0,
      unanswered: publish?.unanswered ?? 0,
      errors: publish?.errors ?? {},
    },
    expected,
    delivered,
    lost,
    lostPercent: expected ? (100 * lost) / expected : 0,
    outOfOrder,
    deliveredPerSecond: span ? delivered / span : 0,
    latencyMs: latency.summary(),
    errors: counts.subscribers.reduce((all, s) => addCounts(all, s.errors), {}),
    error: error ?? null,
    problems: [],
    ok: false,
  }
  result.problems = problemsOf(result)
  result.ok = result.problems.length === 0
  return result
}

function problemsOf(r: BenchResult): string[] {
  const problems: string[] = []
  if (r.error) problems.push(`stopped: ${r.error.code}`)
  if (r.clients.failed) problems.push(`${r.clients.failed} client(s) failed to connect`)
  if (r.clients.errors.EMFILE || r.error?.code === 'EMFILE')
    problems.push(
      'EMFILE: a process ran out of open files (raise --workers; an in-process server holds one per client too)',
    )
  if (r.published === 0 && !r.error) problems.push('nothing was published')
  if (r.publish.refused) problems.push(`${r.publish.refused} publish(es) refused`)
  if (r.publish.unanswered) problems.push(`${r.publish.unanswered} publish(es) unanswered`)
  if (r.lost) problems.push(`${r.lost} deliveries lost`)
  if (r.outOfOrder) problems.push(`${r.outOfOrder} out of order`)
  return problems
}

const n = (value: number) => Math.round(value).toLocaleString('en-US')
const ms = (value: number) =>
  `${value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0)} ms`
const codes = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([code, count]) => `${code} ×${n(count)}`)
    .join(', ')

/** The human report: a dozen lines. */
export function formatReport(r: BenchResult): string {
  const where = r.server === 'in-process' ? 'in-process server' : 'remote server'
  const worker = `${r.workers} worker${r.workers === 1 ? '' : 's'}`
  const failed = r.clients.failed ? ` (${codes(r.clients.errors)})` : ''
  const each = r.clients.connected ? ` (per client: p50 ${ms(r.connect.p50)}, p99 ${ms(r.connect.p99)})` : ''
  const lines = [
    `switchboard bench: ${r.url} (${where}), channel ${r.channel}`,
    r.clients.connected + r.clients.failed === 0
      ? '  clients      none (the run stopped before connecting them)'
      : `  clients      ${n(r.clients.connected)} connected, ${n(r.clients.failed)} failed${failed}, ` +
        `in ${ms(r.connect.ms)} over ${worker}${each}`,
  ]
  if (r.publish.sent > 0) {
    const refusals = r.publish.refused ? `: ${codes(r.publish.errors)}` : ''
    lines.push(
      `  published    ${n(r.published)} of ${n(r.publish.scheduled)} at ${r.rate}/s for ${r.duration} s, ` +
        `${r.payload}-byte data (${n(r.publish.refused)} refused${refusals}, ${n(r.publish.unanswered)} unanswered)`,
    )
  }
  if (r.published > 0) {
    const { p50, p90, p99, max } = r.latencyMs
    lines.push(
      `  expected     ${n(r.expected)} deliveries (${n(r.published)} × ${n(r.clients.connected)} subscribers)`,
      `  delivered    ${n(r.delivered)} (${n(r.lost)} lost, ${r.lostPercent.toFixed(2)} %), ` +
        `${n(r.deliveredPerSecond)} msgs/s`,
      `  latency      p50 ${ms(p50)}, p90 ${ms(p90)}, p99 ${ms(p99)}, max ${ms(max)}`,
      `  out of order ${n(r.outOfOrder)}`,
    )
  }
  if (r.clients.disconnected || Object.keys(r.errors).length)
    lines.push(`  during run   ${n(r.clients.disconnected)} disconnected; ${codes(r.errors) || 'no errors'}`)
  if (r.error) lines.push(`  error        ${r.error.code}: ${r.error.message}`)
  lines.push(
    `  result       ${r.ok ? 'ok: every message reached every subscriber, in order' : `FAILED: ${r.problems.join('; ')}`}`,
  )
  return lines.join('\n')
}
