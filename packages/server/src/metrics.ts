/**
 * Prometheus metrics for a running Switchboard server, on prom-client. Every value is read from
 * the server when it is scraped (prom-client `collect()` callbacks over `sb.stats()` and the
 * open connections), so nothing is counted on the hot path: a server without a scraper pays
 * nothing, and a scrape costs one pass over the connections. `handler` answers `GET /metrics`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import type { Switchboard } from './api.js'

export interface MetricsOptions {
  /** Where the metrics are registered; default a new registry (pass prom-client's `register` to share). */
  registry?: Registry
  /** Prepended to every metric name; default `switchboard_`. */
  prefix?: string
  /** Also register prom-client's process metrics (CPU, memory, event-loop lag, …); default false. */
  processMetrics?: boolean
}

export interface SwitchboardMetrics {
  readonly registry: Registry
  /** Answers a scrape with the registry in Prometheus text format; HEAD too, anything else 405. */
  handler(req: IncomingMessage, res: ServerResponse): void
}

/** The server surface metrics read: any `Switchboard`, whatever its event map. */
type Observed = Pick<Switchboard, 'stats'> & {
  readonly connections: ReadonlyMap<string, { subscriptions: ReadonlySet<string>; bufferedAmount: number }>
}

/** Registers Switchboard's metrics for `sb` and returns the registry and a `/metrics` handler. */
export function createMetrics(sb: Observed, options: MetricsOptions = {}): SwitchboardMetrics {
  const registry = options.registry ?? new Registry()
  const prefix = options.prefix ?? 'switchboard_'
  const registers = [registry]

  /** A gauge read at scrape time. */
  const gauge = (name: string, help: string, value: () => number) =>
    new Gauge({
      name: prefix + name,
      help,
      registers,
      collect() {
        this.set(value())
      },
    })
  /** A sum over the open connections, read at scrape time. */
  const total = (of: (conn: { subscriptions: ReadonlySet<string>; bufferedAmount: number }) => number) => {
    let sum = 0
    for (const conn of sb.connections.values()) sum += of(conn)
    return sum
  }
  gauge('connections', 'Open client connections on this node.', () => sb.connections.size)
  gauge('channels', 'Channels with at least one subscriber on this node.', () => sb.stats().channels)
  gauge('subscriptions', 'Channel subscriptions held by the open connections of this node.', () =>
    total((conn) => conn.subscriptions.size),
  )
  gauge(
    'buffered_bytes',
    'Bytes queued for clients and not yet handed to the kernel, summed over connections.',
    () => total((conn) => conn.bufferedAmount),
  )
  // The server keeps these counts itself; a counter mirrors one by reset-then-inc inside a single
  // synchronous collect (prom-client counters only move by `inc`), so no scrape sees the zero.
  new Counter({
    name: `${prefix}handshakes_refused_total`,
    help: 'WebSocket handshakes refused (bad request, origin, per-IP limit, auth, draining).',
    registers,
    collect() {
      this.reset()
      this.inc(sb.stats().handshakesRefused)
    },
  })
  new Counter({
    name: `${prefix}disconnects_total`,
    help: 'Connections closed, by WebSocket close code.',
    labelNames: ['code'],
    registers,
    collect() {
      this.reset()
      for (const [code, count] of Object.entries(sb.stats().disconnects)) this.inc({ code }, count)
    },
  })
  /** A counter that mirrors one of the server's own totals. */
  const mirror = (name: string, help: string, value: () => number) =>
    new Counter({
      name: prefix + name,
      help,
      registers,
      collect() {
        this.reset()
        this.inc(value())
      },
    })
  mirror(
    'messages_in_total',
    'Messages published through this node (client publishes, sb.publish, the HTTP API).',
    () => sb.stats().messagesIn,
  )
  mirror(
    'messages_out_total',
    "Message frames handed to this node's subscribers.",
    () => sb.stats().messagesOut,
  )
  mirror(
    'broker_failures_total',
    'Broker operations that failed (answered unavailable or timeout).',
    () => sb.stats().brokerFailures,
  )
  new Counter({
    name: `${prefix}recoveries_total`,
    help: 'Resubscribes with a position, by whether every missed message came back (recovered="true") or not.',
    labelNames: ['recovered'],
    registers,
    collect() {
      this.reset()
      const { recovered, notRecovered } = sb.stats().recoveries
      this.inc({ recovered: 'true' }, recovered)
      this.inc({ recovered: 'false' }, notRecovered)
    },
  })
  gauge(
    'event_loop_delay_seconds',
    "The event loop's delay, p99 over about the last 5 seconds.",
    () => sb.stats().eventLoopDelaySeconds,
  )
  new Counter({
    name: `${prefix}api_requests_total`,
    help: 'HTTP API calls answered, by method (unknown for paths that are none) and HTTP status.',
    labelNames: ['method', 'status'],
    registers,
    collect() {
      this.reset()
      for (const [method, byStatus] of Object.entries(sb.stats().apiRequests ?? {})) {
        for (const [status, count] of Object.entries(byStatus)) this.inc({ method, status }, count)
      }
    },
  })
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix })

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end()
      return
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' })
        res.end(req.method === 'HEAD' ? undefined : text)
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
        res.end(`metrics failed: ${err instanceof Error ? err.message : String(err)}\n`)
      },
    )
  }
  return { registry, handler }
}
