/**
 * The overview: what an operator watches during an incident, live from the stats stream — the
 * alerts that fire, the cluster's (or one node's) numbers and their charts over 15 minutes, the
 * closes by kind, recoveries, slow-consumer cuts, and every node with its vitals.
 */
import { useState } from 'react'
import type { CloseCounts, NodeSample, StatsSample } from './api-types.js'
import { Chart, type Series } from './chart.js'
import { bytes, count, duration, rate } from './format.js'
import { useStats } from './stats-store.js'

const CLOSE_KINDS: Array<{ kind: keyof CloseCounts; label: string }> = [
  { kind: 'normal', label: 'Normal (1000, 1001)' },
  { kind: 'slowConsumer', label: 'Slow consumer (4100)' },
  { kind: 'heartbeat', label: 'Heartbeat (4102)' },
  { kind: 'auth', label: 'Auth (4001, 4003)' },
  { kind: 'rateLimit', label: 'Rate limit (4101)' },
  { kind: 'other', label: 'Other' },
]

/** The numbers of the chosen scope in a sample: the cluster's, or one node's. */
type Scoped = Pick<
  NodeSample,
  | 'connections'
  | 'subscriptions'
  | 'eventLoopDelayMs'
  | 'messagesInPerSecond'
  | 'messagesOutPerSecond'
  | 'closes'
  | 'recoveries'
  | 'handshakesRefused'
>

function scoped(sample: StatsSample, node: string): Scoped | undefined {
  return node === '' ? sample.cluster : sample.nodes.find((n) => n.node === node)
}

export function Overview() {
  const { samples, latest, live } = useStats()
  const [node, setNode] = useState('')
  const of = (f: (s: Scoped) => number) => (sample: StatsSample) => {
    const s = scoped(sample, node)
    return s ? f(s) : 0
  }
  const now = latest ? scoped(latest, node) : undefined
  const totals = (f: (s: Scoped) => number) => samples.reduce((sum, s) => sum + of(f)(s), 0)
  const series = {
    connections: [{ label: 'Connections', color: '#2dd4bf', value: of((s) => s.connections) }],
    messages: [
      { label: 'In /s', color: '#60a5fa', value: of((s) => s.messagesInPerSecond) },
      { label: 'Out /s', color: '#f472b6', value: of((s) => s.messagesOutPerSecond) },
    ],
    closes: CLOSE_KINDS.filter((k) => k.kind !== 'other').map((k, i) => ({
      label: k.label.replace(/ \(.*/, ''),
      color: ['#94a3b8', '#f87171', '#fbbf24', '#a78bfa', '#fb923c'][i]!,
      value: of((s) => s.closes[k.kind]),
    })),
    recoveries: [
      { label: 'Recovered', color: '#4ade80', value: of((s) => s.recoveries.recovered) },
      { label: 'Not recovered', color: '#f87171', value: of((s) => s.recoveries.notRecovered) },
    ],
    slow: [{ label: 'Slow-consumer cuts', color: '#f87171', value: of((s) => s.closes.slowConsumer) }],
    loop: [{ label: 'Event-loop delay (ms)', color: '#fbbf24', value: of((s) => s.eventLoopDelayMs) }],
  } satisfies Record<string, Series[]>

  return (
    <div className="page">
      <header className="page-head">
        <h1>Overview</h1>
        <p className="muted" data-testid="stream-state" data-live={live}>
          {live ? '● Live' : '○ Reconnecting…'}
          {latest && ` · ${latest.answered} of ${latest.reached} node(s) answered`}
        </p>
        <label className="inline">
          Show{' '}
          <select value={node} onChange={(e) => setNode(e.target.value)} aria-label="Numbers of">
            <option value="">the whole cluster</option>
            {latest?.nodes.map((n) => (
              <option key={n.node} value={n.node}>
                node {n.node}
              </option>
            ))}
          </select>
        </label>
      </header>

      <section aria-labelledby="alerts-title" className="card alerts" data-testid="alerts">
        <h2 id="alerts-title">Alerts firing now</h2>
        {latest?.brokerUnavailable && (
          <p className="error">The broker does not answer: these numbers are stale.</p>
        )}
        {!latest || latest.alerts.length === 0 ? (
          <p className="ok">None — every rule of deploy/prometheus/alerts.yml is quiet.</p>
        ) : (
          <ul>
            {latest.alerts.map((a) => (
              <li key={a.name} className={a.severity}>
                <strong>{a.name}</strong> <span className="badge">{a.severity}</span> {a.summary}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-label="Now" className="tiles">
        <Tile label="Connections" value={now ? count(now.connections) : '—'} testId="connections" />
        <Tile label="Messages in /s" value={now ? rate(now.messagesInPerSecond) : '—'} testId="messages-in" />
        <Tile
          label="Messages out /s"
          value={now ? rate(now.messagesOutPerSecond) : '—'}
          testId="messages-out"
        />
        <Tile label="Subscriptions" value={now ? count(now.subscriptions) : '—'} testId="subscriptions" />
        <Tile
          label="Event-loop delay"
          value={now ? `${now.eventLoopDelayMs.toFixed(1)} ms` : '—'}
          testId="loop"
        />
        <Tile
          label="Slow-consumer cuts (15 min)"
          value={count(totals((s) => s.closes.slowConsumer))}
          testId="slow-cuts"
        />
      </section>

      <section aria-label="Charts, last 15 minutes" className="charts">
        <Chart title="Connections" samples={samples} series={series.connections} />
        <Chart title="Messages per second" samples={samples} series={series.messages} />
        <Chart title="Closes by kind (per second)" samples={samples} series={series.closes} />
        <Chart title="Recoveries" samples={samples} series={series.recoveries} />
        <Chart title="Slow-consumer cuts" samples={samples} series={series.slow} />
        <Chart title="Event-loop delay (p99, ms)" samples={samples} series={series.loop} />
      </section>

      <div className="columns">
        <section className="card" aria-labelledby="closes-title">
          <h2 id="closes-title">Closes, last 15 minutes</h2>
          <table data-testid="closes">
            <tbody>
              {CLOSE_KINDS.map((k) => (
                <tr key={k.kind}>
                  <th scope="row">{k.label}</th>
                  <td className="num">{count(totals((s) => s.closes[k.kind]))}</td>
                </tr>
              ))}
              <tr>
                <th scope="row">Handshakes refused</th>
                <td className="num">{count(totals((s) => s.handshakesRefused))}</td>
              </tr>
            </tbody>
          </table>
        </section>
        <section className="card" aria-labelledby="recoveries-title">
          <h2 id="recoveries-title">Recoveries, last 15 minutes</h2>
          <table>
            <tbody>
              <tr>
                <th scope="row">Recovered</th>
                <td className="num">{count(totals((s) => s.recoveries.recovered))}</td>
              </tr>
              <tr>
                <th scope="row">Not recovered</th>
                <td className="num">{count(totals((s) => s.recoveries.notRecovered))}</td>
              </tr>
            </tbody>
          </table>
        </section>
      </div>

      <section className="card" aria-labelledby="nodes-title">
        <h2 id="nodes-title">Nodes</h2>
        <div className="scroll">
          <table data-testid="nodes">
            <thead>
              <tr>
                <th scope="col">Node</th>
                <th scope="col">Address</th>
                <th scope="col">Uptime</th>
                <th scope="col" className="num">
                  Connections
                </th>
                <th scope="col" className="num">
                  In /s
                </th>
                <th scope="col" className="num">
                  Out /s
                </th>
                <th scope="col" className="num">
                  Event loop
                </th>
                <th scope="col" className="num">
                  Memory (RSS / heap)
                </th>
              </tr>
            </thead>
            <tbody>
              {latest?.nodes.map((n) => (
                <tr key={n.node}>
                  <td>{n.node}</td>
                  <td>{n.address}</td>
                  <td>{duration(n.uptime)}</td>
                  <td className="num" data-testid="node-connections">
                    {count(n.connections)}
                  </td>
                  <td className="num">{rate(n.messagesInPerSecond)}</td>
                  <td className="num">{rate(n.messagesOutPerSecond)}</td>
                  <td className="num">{n.eventLoopDelayMs.toFixed(1)} ms</td>
                  <td className="num">
                    {bytes(n.memory.rss)} / {bytes(n.memory.heapUsed)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </div>
  )
}

function Tile({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div className="card tile">
      <span className="tile-label">{label}</span>
      <span className="tile-value" data-testid={testId}>
        {value}
      </span>
    </div>
  )
}
