#!/usr/bin/env node
// Turns a results JSON (bench/results/latest.json) into docs/benchmarks.md and SVG charts
// (docs/benchmarks-*.svg). The charts are drawn here, by hand: no dependencies.
//
//   node bench/report.mjs [results.json] [--out-dir=docs]
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { multinodeCharts, multinodeSection, multinodeTargets } from './report-multinode.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const ORDER = ['switchboard', 'ws-naive', 'ws-frame', 'uws', 'socketio']
const LABEL = {
  switchboard: 'Switchboard',
  'ws-naive': 'ws (naive send loop)',
  'ws-frame': 'ws (frame built once)',
  uws: 'uWebSockets.js',
  socketio: 'Socket.IO 4',
}
const COLOR = {
  switchboard: '#d9480f',
  'ws-naive': '#868e96',
  'ws-frame': '#495057',
  uws: '#1971c2',
  socketio: '#2f9e44',
}

const find = (doc, scenario, contender) =>
  doc.results.find((r) => r.scenario === scenario && r.contender === contender)
const contenders = (doc) => ORDER.filter((c) => doc.results.some((r) => r.contender === c))

/**
 * Delivered/s when the server set the pace; when the load generator was the bottleneck the
 * delivered rate says nothing about the server, so compare the server's capacity instead
 * (1e6 / CPU µs per message: what one core would deliver).
 */
function capacity(r) {
  if (!r) return null
  if (r.loadgenBound && r.cpuUsPerMsg) return Math.max(r.perSec, 1e6 / r.cpuUsPerMsg)
  return r.perSec
}

const PACES = ['single.rate', 'single.flat', 'burst.rate', 'burst.flat']
const PACE_LABEL = {
  'single.rate': 'single, fixed rate',
  'single.flat': 'single, flat out',
  'burst.rate': 'burst, fixed rate',
  'burst.flat': 'burst, flat out',
}
const CODEC_LABEL = { json: 'JSON', msgpack: 'MessagePack', mixed: 'half and half' }

/**
 * MessagePack's server CPU per delivered message over JSON's, per pace, for one payload kind of
 * the codecs group: pooled over the rounds, and round by round (the same round for both).
 */
export function codecRatios(doc, payload) {
  const out = []
  for (const pace of PACES) {
    const j = find(doc, `codec.${payload}.json.${pace}`, 'switchboard')
    const m = find(doc, `codec.${payload}.msgpack.${pace}`, 'switchboard')
    if (!j?.cpuUsPerMsg || !m?.cpuUsPerMsg) continue
    const rounds = (m.cpuRounds ?? []).map((x, i) => x / j.cpuRounds?.[i]).filter(Number.isFinite)
    out.push({ pace, ratio: m.cpuUsPerMsg / j.cpuUsPerMsg, rounds })
  }
  return out
}

/** Every target from issues 7, 14, 16 and 19, judged on one run. */
export function evaluateTargets(doc) {
  const out = []
  const sb = 'switchboard'
  const add = (target, measured, ratio, limit, higherIsBetter, note = '') => {
    if (ratio == null || !Number.isFinite(ratio)) {
      out.push({ target, measured: 'not measured', met: false, ratio: null, note })
      return
    }
    const met = higherIsBetter ? ratio >= limit : ratio <= limit
    const miss = higherIsBetter
      ? `missed: ${ratio.toFixed(2)}× where ≥ ${limit}× is wanted, ${((1 - ratio / limit) * 100).toFixed(0)} % short`
      : `missed: ${ratio.toFixed(2)}× where ≤ ${limit}× is wanted, ${((ratio / limit - 1) * 100).toFixed(0)} % over`
    out.push({ target, measured, ratio, met, note: met ? note : `${miss}${note ? `; ${note}` : ''}` })
  }
  const bound = (...rs) => (rs.some((r) => r?.loadgenBound) ? 'load generator was the bottleneck' : '')
  for (const size of ['small', 'large']) {
    const a = find(doc, `broadcast.${size}.single.flat`, sb)
    const b = find(doc, `broadcast.${size}.single.flat`, 'ws-frame')
    add(
      `broadcast ${a?.clients ?? '?'} clients, one publish at a time ≥ ws (frame built once)`,
      `${fmtN(capacity(a))} vs ${fmtN(capacity(b))} msg/s`,
      capacity(a) / capacity(b),
      1,
      true,
      bound(a, b),
    )
    const c = find(doc, `broadcast.${size}.burst.flat`, sb)
    const d = find(doc, `broadcast.${size}.burst.flat`, 'ws-naive')
    const u = find(doc, `broadcast.${size}.burst.flat`, 'uws')
    add(
      `broadcast ${c?.clients ?? '?'} clients, bursts ≥ 5× ws (naive)`,
      `${fmtN(capacity(c))} vs ${fmtN(capacity(d))} msg/s`,
      capacity(c) / capacity(d),
      5,
      true,
      bound(c, d),
    )
    add(
      `broadcast ${c?.clients ?? '?'} clients, bursts ≥ uWebSockets.js`,
      `${fmtN(capacity(c))} vs ${fmtN(capacity(u))} msg/s`,
      capacity(c) / capacity(u),
      1,
      true,
      bound(c, u),
    )
  }
  for (const r of doc.results.filter((x) => x.contender === sb && x.scenario.startsWith('echo.'))) {
    const w = find(doc, r.scenario, 'ws-naive')
    add(
      `echo p99 at ${fmtN(r.offeredPerSec)}/s ≤ 1.2× ws`,
      `${fmtUs(r.p99)} vs ${fmtUs(w?.p99)}`,
      r.p99 / w?.p99,
      1.2,
      false,
    )
  }
  const im = find(doc, 'idle-memory', sb)
  const iw = find(doc, 'idle-memory', 'ws-naive')
  add(
    'server memory per idle connection ≤ 1.3× ws',
    `${fmtB(im?.bytesPerConn)} vs ${fmtB(iw?.bytesPerConn)} per connection`,
    im?.bytesPerConn / iw?.bytesPerConn,
    1.3,
    false,
  )
  const want = doc.meta.config.idle.at(-1)
  add(
    `${fmtN(want)} idle connections held by one process`,
    `${fmtN(im?.held)} held`,
    im ? im.held / want : null,
    1,
    true,
  )
  const sl = find(doc, 'slow-consumers', sb)
  add(
    'with 1 % slow consumers, the others’ p99 ≤ 2× the run without them',
    `${fmtUs(sl?.slow?.p99)} vs ${fmtUs(sl?.base?.p99)}`,
    sl?.p99Ratio,
    2,
    false,
  )
  // issue 14: one number per run — the geometric mean of the four paces' ratios, each pooled over
  // its interleaved rounds. Flat-out paces swing from round to round with how the server groups
  // its flushes under a loaded machine; the mean keeps one noisy pace from deciding alone, and
  // each pace's ratio is still listed.
  for (const payload of ['text', 'binary']) {
    const rs = codecRatios(doc, payload)
    const mean = rs.length ? Math.exp(rs.reduce((sum, r) => sum + Math.log(r.ratio), 0) / rs.length) : null
    const worst = rs.length ? rs.reduce((a, b) => (b.ratio > a.ratio ? b : a)) : null
    const any = find(doc, `codec.${payload}.json.burst.flat`, sb)
    const what = payload === 'binary' ? `${fmtB(any?.payloadBytes)} binary` : 'text'
    add(
      `broadcast ${any?.clients ?? '?'} clients, ${what} payload: server CPU per delivered message with MessagePack ≤ 1.15× JSON (geometric mean of the four paces)`,
      rs.map((r) => `${r.ratio.toFixed(2)}× ${PACE_LABEL[r.pace]}`).join(', '),
      rs.length === PACES.length ? mean : null,
      1.15,
      false,
      worst ? `mean ${mean?.toFixed(2)}×; worst pace: ${PACE_LABEL[worst.pace]}` : '',
    )
  }
  // issue 16: a join wave costs O(members) presence frames per window, not one per join per member
  const before = find(doc, 'presence.before', sb) ?? find(doc, 'presence.each', sb)
  const members = find(doc, 'presence.members', sb)
  const counts = find(doc, 'presence.counts', sb)
  if (before || members) {
    add(
      `presence join wave of ${members?.clients ?? '?'}: presence frames with members coalesced ≤ 0.05× without coalescing`,
      `${fmtN(members?.presenceFrames)} vs ${fmtN(before?.presenceFrames)} frames`,
      members && before ? members.presenceFrames / before.presenceFrames : null,
      0.05,
      false,
    )
    add(
      `presence join wave of ${counts?.clients ?? '?'}: a healthy client's ping p99 on a counts channel ≤ 0.5× without coalescing`,
      `${fmtUs(counts?.pingP99)} vs ${fmtUs(before?.pingP99)}`,
      counts && before ? counts.pingP99 / before.pingP99 : null,
      0.5,
      false,
    )
  }
  // issue 19: several nodes on Redis (bench/report-multinode.mjs)
  multinodeTargets(doc, add, { us2: (x) => (x == null ? '–' : x.toFixed(2)) })
  return out
}

// ---- formatting --------------------------------------------------------------------------------

function fmtN(x) {
  if (x == null || !Number.isFinite(Number(x))) return '–'
  const n = Number(x)
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`
  if (Number.isInteger(n) || n >= 100) return n.toFixed(0)
  return n.toFixed(n >= 10 ? 1 : 2)
}
function fmtUs(x) {
  if (x == null) return '–'
  return x >= 1000 ? `${(x / 1000).toFixed(x >= 10000 ? 0 : 1)} ms` : `${x.toFixed(0)} µs`
}
function fmtB(x) {
  if (x == null || !Number.isFinite(x)) return '–'
  if (Math.abs(x) >= 2 ** 20) return `${(x / 2 ** 20).toFixed(1)} MiB`
  if (Math.abs(x) >= 1024) return `${(x / 1024).toFixed(1)} KiB`
  return `${x.toFixed(0)} B`
}
const ratio = (a, b) => (a != null && b ? `${(a / b).toFixed(2)}×` : '–')

function table(head, rows) {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
    .concat(rows.map((r) => `| ${r.join(' | ')} |`))
    .join('\n')
}

// ---- SVG ---------------------------------------------------------------------------------------

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;')

/** Grouped horizontal bar chart. groups: [{ label, values: { contender: number|null } }]. */
export function barChart({
  title,
  unit,
  groups,
  series,
  log = false,
  format = fmtN,
  labels = LABEL,
  colors = COLOR,
  labelRoom = 90,
}) {
  const rowH = 16
  const gap = 12
  const left = 190
  const width = 760
  // room right of the longest bar for its value and series label
  const plotW = width - left - labelRoom
  const top = 46
  const all = groups.flatMap((g) => series.map((s) => g.values[s])).filter((v) => v != null && v > 0)
  const max = Math.max(...all, 1)
  const min = log ? Math.max(Math.min(...all, max) / 2, max / 1e5) : 0
  const scale = (v) =>
    v == null || v <= 0 ? 0 : log ? (Math.log(v / min) / Math.log(max / min)) * plotW : (v / max) * plotW
  const height = top + groups.length * (series.length * rowH + gap) + 30 + series.length * 0
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="12" y="20" font-size="15" font-weight="600">${esc(title)}</text>`,
    `<text x="12" y="36" fill="#555">${esc(unit)}${log ? ' (log scale)' : ''}</text>`,
  ]
  let y = top
  for (const g of groups) {
    parts.push(
      `<text x="12" y="${y + (series.length * rowH) / 2 + 4}" font-weight="600">${esc(g.label)}</text>`,
    )
    for (const s of series) {
      const v = g.values[s]
      const w = Math.max(v ? 1 : 0, scale(v))
      parts.push(
        `<rect x="${left}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowH - 4}" fill="${colors[s]}"/>`,
      )
      parts.push(
        `<text x="${left + w + 4}" y="${y + rowH - 4}" fill="#333">${esc(v == null ? 'n/a' : format(v))} <tspan fill="#888">${esc(labels[s])}</tspan></text>`,
      )
      y += rowH
    }
    y += gap
  }
  parts.push('</svg>')
  return `${parts.join('\n')}\n`
}

// ---- markdown ----------------------------------------------------------------------------------

export function renderMarkdown(doc) {
  const m = doc.meta
  const cs = contenders(doc)
  const targets = doc.targets ?? evaluateTargets(doc)
  const L = []
  const cmd = m.mode === 'full' ? 'npm run bench -- --full' : 'npm run bench'
  L.push('# Benchmarks', '')
  L.push(
    `Generated by \`bench/report.mjs\` from one run of \`${cmd}\` (${m.date}, ${m.mode} mode, ` +
      `${m.seconds?.toFixed(0)} s). Every contender ran as its own process against the same load, ` +
      'one scenario group at a time, with the contender order rotated from group to group.',
    '',
  )
  L.push('## Machine', '')
  L.push(
    table(
      ['', ''],
      [
        ['CPU', `${m.cpu} — ${m.cores} cores`],
        ['Memory', `${m.memGiB} GiB`],
        ['OS', m.platform],
        ['Node.js', m.node],
        [
          'Pinning',
          m.pinned
            ? 'server on CPU 0, load generator on CPU 1 (`taskset`)'
            : 'none (fewer than 2 cores or no taskset)',
        ],
        [
          'Load generator',
          `${m.workers} processes of raw-socket WebSocket clients, source addresses 127.0.N.2–201 (N = process)`,
        ],
        ['Load average at start', m.loadAvg.map((x) => x.toFixed(2)).join(', ')],
      ],
    ),
    '',
  )
  L.push(
    table(
      ['contender', 'version'],
      cs.map((c) => [LABEL[c], m.contenders[c]?.version ?? '–']),
    ),
    '',
  )
  if (m.reruns?.length) {
    L.push(
      'Some scenario groups were re-run later in the same session (the machine is shared; a group ' +
        'that ran while other jobs used the CPUs was repeated), with every contender each time:',
      '',
    )
    for (const r of m.reruns)
      L.push(
        `- ${r.date}: ${r.groups.join(', ')} (load average ${r.loadAvg.map((x) => x.toFixed(2)).join(', ')})`,
      )
    L.push('')
  }
  L.push('## Targets (issues 7, 14, 16 and 19), judged on this run', '')
  L.push(
    table(
      ['target', 'measured', 'ratio', 'met', 'note'],
      targets.map((t) => [
        t.target,
        t.measured,
        t.ratio == null ? '–' : `${t.ratio.toFixed(2)}`,
        t.met ? '✅' : '❌',
        t.note,
      ]),
    ),
    '',
  )
  L.push(
    'How to read: *delivered/s* is what the clients received per second (counted by the load ' +
      'generator); *CPU/msg* is server CPU time (user + system, `process.cpuUsage()` in the server ' +
      'process) divided by delivered messages; latencies are measured from the *scheduled* send ' +
      'time (the server stamps each publish with the time it was due, the echo client with the time ' +
      'the request was due), so a stalled event loop shows up instead of hiding. *×ws* is the ratio ' +
      'to raw `ws` with the naive send loop. A row marked **LG** had the load generator at ≥ 90 % of its ' +
      'core: the delivered rate is the generator’s limit, not the server’s; compare CPU/msg there. ' +
      'Targets on such rows use the server’s capacity, 1e6 / CPU µs per message. On *flat out* rows ' +
      'the publisher never waits, so latency there is the depth of a saturated queue — compare it only ' +
      'between contenders that carried similar volumes; the fixed-rate rows are the latency comparison.',
    '',
  )
  L.push('![broadcast throughput](benchmarks-broadcast.svg)', '')
  L.push('![broadcast CPU per message](benchmarks-cpu.svg)', '')

  for (const size of ['small', 'large']) {
    const any = doc.results.find((r) => r.scenario.startsWith(`broadcast.${size}.`))
    if (!any) continue
    L.push(`## Broadcast to ${fmtN(any.clients)} clients`, '')
    L.push(
      'One channel, every client subscribed. *single*: one publish per event-loop turn; *burst*: ' +
        `${doc.meta.config.broadcast[size].burst} publishes in one turn. *rate*: a fixed offered rate; *flat*: as fast as the server goes ` +
        `for ${(doc.meta.config.broadcast[size].ms / 1000).toFixed(1)} s. Payload ≈ ${doc.meta.config.payload + 40} bytes of JSON data.`,
      '',
    )
    const rows = []
    for (const sc of ['single.rate', 'single.flat', 'burst.rate', 'burst.flat']) {
      for (const c of cs) {
        const r = find(doc, `broadcast.${size}.${sc}`, c)
        if (!r) continue
        const w = find(doc, `broadcast.${size}.${sc}`, 'ws-naive')
        const pace =
          r.offeredPublishesPerSec === 'flat' ? 'flat out' : `${fmtN(r.offeredPublishesPerSec)} pub/s`
        rows.push([
          `${sc.split('.')[0]}, ${pace}`,
          LABEL[c],
          `${fmtN(r.perSec)}${r.loadgenBound ? ' **LG**' : ''}`,
          r.expected ? `${((r.delivered / r.expected) * 100).toFixed(1)} %` : '–',
          r.cpuUsPerMsg?.toFixed(2) ?? '–',
          fmtUs(r.p50),
          fmtUs(r.p99),
          fmtUs(r.p999),
          fmtB(r.rssPeak),
          ratio(r.perSec, w?.perSec),
        ])
      }
    }
    L.push(
      table(
        [
          'scenario',
          'contender',
          'delivered/s',
          'delivered',
          'CPU µs/msg',
          'p50',
          'p99',
          'p99.9',
          'server RSS',
          '×ws',
        ],
        rows,
      ),
      '',
    )
  }

  if (doc.results.some((r) => r.scenario.startsWith('codec.'))) L.push(...codecSection(doc))
  if (doc.results.some((r) => r.scenario.startsWith('presence.'))) L.push(...presenceSection(doc))
  if (doc.results.some((r) => r.scenario.startsWith('multinode.')))
    L.push(...multinodeSection(doc, { table, fmtN, fmtUs, fmtB }))

  const echoes = [
    ...new Set(doc.results.filter((r) => r.scenario.startsWith('echo.')).map((r) => r.scenario)),
  ]
  if (echoes.length) {
    L.push('## Request/reply (echo), open loop', '')
    L.push(
      `${doc.meta.config.echo.conns} connections send requests on a fixed schedule regardless of replies; ` +
        'latency is reply time minus scheduled send time. The last column is how late the load ' +
        'generator’s timers actually sent (Node timers have 1 ms granularity); it is part of every ' +
        'latency on that row and the same kind of error for every contender. Every contender’s server ' +
        `is up at once and is measured in ${doc.meta.config.echo.rounds ?? 1} rounds, interleaved with the ` +
        'others in a rotating order; the row is the round with the median p99 (a rare stall elsewhere on ' +
        'the machine then decides no verdict by itself).',
      '',
      '![echo latency](benchmarks-echo.svg)',
      '',
    )
    const rows = []
    for (const sc of echoes)
      for (const c of cs) {
        const r = find(doc, sc, c)
        const w = find(doc, sc, 'ws-naive')
        if (r)
          rows.push([
            `${fmtN(r.offeredPerSec)}/s`,
            LABEL[c],
            `${fmtN(r.perSec)}${r.loadgenBound ? ' **LG**' : ''}`,
            r.cpuUsPerMsg?.toFixed(2) ?? '–',
            fmtUs(r.p50),
            fmtUs(r.p99),
            fmtUs(r.p999),
            fmtB(r.rssPeak),
            ratio(r.p99, w?.p99),
            `${fmtUs(r.sendLagP50)} / ${fmtUs(r.sendLagP99)}`,
          ])
      }
    L.push(
      table(
        [
          'offered',
          'contender',
          'replies/s',
          'CPU µs/reply',
          'p50',
          'p99',
          'p99.9',
          'server RSS',
          'p99 ×ws',
          'sender lag p50 / p99',
        ],
        rows,
      ),
      '',
    )
  }

  if (doc.results.some((r) => r.scenario === 'rooms')) {
    const any = doc.results.find((r) => r.scenario === 'rooms')
    L.push('## Many small rooms', '')
    L.push(
      `${fmtN(any.clients)} clients in ${fmtN(any.rooms)} rooms of ${any.roomSize}; every room gets ${any.ratePerRoom} messages/s.`,
      '',
    )
    L.push(
      table(
        [
          'contender',
          'delivered/s',
          'delivered',
          'CPU µs/msg',
          'p50',
          'p99',
          'p99.9',
          'server RSS',
          'CPU ×ws',
        ],
        cs
          .map((c) => [c, find(doc, 'rooms', c)])
          .filter(([, r]) => r)
          .map(([c, r]) => [
            LABEL[c],
            fmtN(r.perSec),
            r.expected ? `${((r.delivered / r.expected) * 100).toFixed(1)} %` : '–',
            r.cpuUsPerMsg?.toFixed(2) ?? '–',
            fmtUs(r.p50),
            fmtUs(r.p99),
            fmtUs(r.p999),
            fmtB(r.rssPeak),
            ratio(r.cpuUsPerMsg, find(doc, 'rooms', 'ws-naive')?.cpuUsPerMsg),
          ]),
      ),
      '',
    )
  }

  if (doc.results.some((r) => r.scenario === 'idle-memory')) {
    L.push('## Idle memory per connection', '')
    L.push(
      'Server RSS after a full GC, with the connections spread over the load-generator processes. ' +
        'Per-connection cost is the slope between the first and the last point; the 100k column ' +
        'extends that line.',
      '',
      '![idle memory](benchmarks-memory.svg)',
      '',
    )
    const pts = doc.meta.config.idle
    L.push(
      table(
        [
          'contender',
          'no connections',
          ...pts.map((p) => `${fmtN(p)} conns`),
          'per connection',
          '×ws',
          '100k projected',
          'held',
        ],
        cs
          .map((c) => [c, find(doc, 'idle-memory', c)])
          .filter(([, r]) => r)
          .map(([c, r]) => [
            LABEL[c],
            fmtB(r.baseRss),
            ...r.points.map((p) => fmtB(p.rss)),
            fmtB(r.bytesPerConn),
            ratio(r.bytesPerConn, find(doc, 'idle-memory', 'ws-naive')?.bytesPerConn),
            fmtB(r.projected100kRss),
            fmtN(r.held),
          ]),
      ),
      '',
    )
  }

  if (doc.results.some((r) => r.scenario === 'connect-rate')) {
    L.push('## Connection rate', '')
    L.push(
      `${fmtN(pts0(doc))} new connections (WebSocket upgrade; for Socket.IO also the namespace connect) ` +
        `opened from ${m.workers} processes, ${doc.meta.config.connConcurrency} in flight per process.`,
      '',
    )
    L.push(
      table(
        ['contender', 'connections/s', 'server CPU µs/connection', 'failed', '×ws'],
        cs
          .map((c) => [c, find(doc, 'connect-rate', c)])
          .filter(([, r]) => r)
          .map(([c, r]) => [
            LABEL[c],
            fmtN(r.perSec),
            r.cpuUsPerConn?.toFixed(0) ?? '–',
            String(r.failed),
            ratio(r.perSec, find(doc, 'connect-rate', 'ws-naive')?.perSec),
          ]),
      ),
      '',
    )
  }

  if (doc.results.some((r) => r.scenario === 'slow-consumers')) {
    const any = doc.results.find((r) => r.scenario === 'slow-consumers')
    L.push('## Slow consumers', '')
    L.push(
      `${fmtN(any.clients)} clients, ${fmtN(any.offeredPublishesPerSec)} publishes/s of ${any.payloadBytes}-byte payloads ` +
        `for ${(doc.meta.config.slow.ms / 1000).toFixed(1)} s, once with every client reading and once with ` +
        `${any.slowClients} of them (1 %) no longer reading their socket. Latency is over the clients that still read.`,
      '',
    )
    L.push(
      table(
        [
          'contender',
          'p99 all reading',
          'p99 with slow',
          'ratio',
          'p99.9 with slow',
          'delivered/s',
          'RSS before',
          'RSS peak with slow',
          'connections after',
        ],
        cs
          .map((c) => [c, find(doc, 'slow-consumers', c)])
          .filter(([, r]) => r)
          .map(([c, r]) => [
            LABEL[c],
            fmtUs(r.base.p99),
            fmtUs(r.slow.p99),
            r.p99Ratio ? `${r.p99Ratio.toFixed(2)}×` : '–',
            fmtUs(r.slow.p999),
            fmtN(r.slow.perSec),
            fmtB(r.base.rss),
            fmtB(r.slow.rssPeak),
            fmtN(r.connsAfter),
          ]),
      ),
      '',
    )
  }
  if (doc.errors?.length) {
    L.push('## Errors in this run', '')
    for (const e of doc.errors) L.push(`- ${e.contender} / ${e.group}: ${e.error}`)
    L.push('')
  }
  L.push('## Method', '')
  L.push(
    '- Servers: `bench/servers/<contender>.mjs`, each a standalone process speaking the same scenario hooks ' +
      '(broadcast trigger, rooms trigger, `echo` request handler) over an IPC control channel, and reporting ' +
      '`process.cpuUsage()` and RSS on request. The raw contenders implement the Switchboard frames that the ' +
      'scenarios use (`subscribe`, `request`/`reply`, `message`), so every contender sends the same bytes.',
    '- Load generator: `bench/load/worker.mjs`, raw TCP sockets with a minimal WebSocket handshake; it parses ' +
      'frame headers only and reads timestamps on a sample of connections. Clocks are CLOCK_MONOTONIC, shared ' +
      'by all processes.',
    '- Idle memory: 18k connections live in one server process (fd limit 20,000); clients are spread over ' +
      'several processes and source addresses.',
    '- Codecs: the load generator offers `switchboard.v1.msgpack` on those connections, sends its few ' +
      'frames in MessagePack and reads the probes’ `data.t` with a minimal MessagePack walker (still no ' +
      'decoding on the other connections). The Switchboard server counts encodes by wrapping ' +
      '`JSON.stringify` and the MessagePack `Encoder` when the codecs group starts (one comparison per ' +
      'encode, once per publication and codec).',
    '- Several nodes: `bench/multinode.mjs` starts the redis-servers (`bench/redis.mjs`) and the nodes — ' +
      '`bench/servers/switchboard.mjs` with `BENCH_BROKER` (a `RedisBroker`), `bench/servers/socketio.mjs` ' +
      'with `BENCH_ADAPTER` (the Redis or the sharded adapter). Redis CPU is read from ' +
      '`/proc/<pid>/task/*/schedstat` (ns; `/proc/<pid>/stat` counts in 10 ms ticks). Re-run it alone into ' +
      'the last full run: `npm run bench -- --full --groups=multinode --merge=bench/results/latest.json --report`.',
    '- Regenerate: `npm run bench -- --full --report` (or `node bench/run.mjs --full --report`); re-run some ' +
      'groups into the last full run with e.g. `npm run bench -- --full --groups=broadcast-small,codecs ' +
      '--merge=bench/results/latest.json --report`; re-render from a saved run with ' +
      '`node bench/report.mjs bench/results/latest.json`.',
    '',
  )
  return `${L.join('\n')}\n`
}

const pts0 = (doc) => doc.meta.config.idle[0]

/** The codecs group: MessagePack and JSON subscribers, text and binary payloads (issue 14). */
function codecSection(doc) {
  const k = doc.meta.config.codecs
  const any = doc.results.find((r) => r.scenario.startsWith('codec.'))
  const L = ['## Codecs: MessagePack and binary payloads', '']
  L.push(
    `Switchboard alone, the broadcast to ${fmtN(any.clients)} clients above with its four runs, on three ` +
      'channels at once: every subscriber of one speaks JSON (`switchboard.v1`), of another ' +
      'MessagePack (`switchboard.v1.msgpack`), of the third half one and half the other. Publications ' +
      `carry either the ${doc.meta.config.payload}-character text of the broadcast above or ${fmtB(k.binary)} of ` +
      'random bytes as a `Uint8Array` (`{ "$bin": base64 }` over JSON, MessagePack `bin`). Each run is ' +
      `${(k.ms / 1000).toFixed(1)} s; every point is measured in ${k.rounds} rounds, the codecs interleaved in ` +
      'a rotating order, so a disturbance of the shared machine falls on all of them. *CPU µs/msg* is ' +
      'pooled over the rounds (total server CPU ÷ total delivered); *×JSON per round* compares the same ' +
      'round; the other columns are the round with the median CPU per message. *Encodes/pub* is how ' +
      'many times the server encoded each publication’s frame as JSON / as MessagePack, counted in the ' +
      'server process: one per codec in use, whatever the number of subscribers.',
    '',
  )
  const rows = []
  for (const payload of ['text', 'binary'])
    for (const pace of PACES)
      for (const codec of ['json', 'msgpack', 'mixed']) {
        const r = find(doc, `codec.${payload}.${codec}.${pace}`, 'switchboard')
        if (!r) continue
        const j = find(doc, `codec.${payload}.json.${pace}`, 'switchboard')
        const perRound = (r.cpuRounds ?? []).map((x, i) => x / j?.cpuRounds?.[i]).filter(Number.isFinite)
        const e = r.encodesPerPublication
        rows.push([
          payload === 'binary' ? `${fmtB(r.payloadBytes)} binary` : 'text',
          PACE_LABEL[pace],
          CODEC_LABEL[codec],
          `${fmtN(r.perSec)}${r.loadgenBound ? ' **LG**' : ''}`,
          r.expected ? `${((r.delivered / r.expected) * 100).toFixed(1)} %` : '–',
          r.cpuUsPerMsg?.toFixed(2) ?? '–',
          codec === 'json' ? '1' : ratio(r.cpuUsPerMsg, j?.cpuUsPerMsg),
          codec === 'json' ? '' : perRound.map((x) => x.toFixed(2)).join(' / '),
          e ? `${e.json.toFixed(2)} / ${e.msgpack.toFixed(2)}` : '–',
          fmtUs(r.p50),
          fmtUs(r.p99),
        ])
      }
  L.push(
    table(
      [
        'payload',
        'run',
        'subscribers speak',
        'delivered/s',
        'delivered',
        'CPU µs/msg',
        '×JSON',
        '×JSON per round',
        'encodes/pub JSON / MsgPack',
        'p50',
        'p99',
      ],
      rows,
    ),
    '',
  )
  return L
}

const PRESENCE_ROWS = [
  ['before', 'before: the baseline build, `presence: true` (a frame per connection per join)'],
  ['each', 'this tree, `window: 0` (no coalescing)'],
  ['members', "this tree, `presence: 'members'` (100 ms window)"],
  ['counts', "this tree, `presence: 'counts'` (1 s window)"],
]

/** The presence group: a join wave into one channel, with and without coalescing (issue 16). */
function presenceSection(doc) {
  const any = doc.results.find((r) => r.scenario.startsWith('presence.'))
  const k = doc.meta.config.presence
  const base = find(doc, 'presence.before', 'switchboard') ?? find(doc, 'presence.each', 'switchboard')
  const L = ['## Presence: a join wave', '']
  L.push(
    `Switchboard alone (no contender has comparable presence): ${fmtN(any.clients)} connections join one ` +
      'presence channel as fast as the server takes them, while one healthy client that is in no channel ' +
      `sends echo requests at ${k.pingRate}/s. *Presence frames* are what the joiners received after their ` +
      'subscribe replies; *ping* is the healthy client’s round trip from the scheduled send time, from the ' +
      'first join until the last presence frame landed (the load generator’s processes share one core with ' +
      'the joiners’ traffic, so a busy generator adds to it). *Before* is the same wave against the build of ' +
      'another commit (`node bench/baseline.mjs <commit>`, then `PRESENCE_BASELINE=<module>`), when given. ' +
      'Every member-list subscribe reply still lists the members (O(members) bytes per join): a ' +
      "`'counts'` channel is the one whose wave costs O(1) per join throughout.",
    '',
  )
  const rows = []
  for (const [key, label] of PRESENCE_ROWS) {
    const r = find(doc, `presence.${key}`, 'switchboard')
    if (!r) continue
    rows.push([
      label,
      fmtN(r.clients),
      `${(r.waveMs / 1000).toFixed(1)} s`,
      fmtN(r.presenceFrames),
      r.framesPerJoin?.toFixed(1) ?? '–',
      key === 'before' ? '1' : ratio(r.presenceFrames, base?.presenceFrames),
      `${(r.serverCpuUs / 1e6).toFixed(2)} s`,
      fmtUs(r.pingP50),
      fmtUs(r.pingP99),
      fmtUs(r.pingMax),
    ])
  }
  L.push(
    table(
      [
        'run',
        'joins',
        'wave',
        'presence frames',
        'per join',
        '×before',
        'server CPU',
        'ping p50',
        'ping p99',
        'ping max',
      ],
      rows,
    ),
    '',
  )
  return L
}

export function renderCharts(doc) {
  const cs = contenders(doc)
  const charts = {}
  const bgroups = []
  const cgroups = []
  for (const size of ['small', 'large'])
    for (const sc of ['single.flat', 'burst.flat', 'single.rate', 'burst.rate']) {
      const rs = cs.map((c) => [c, find(doc, `broadcast.${size}.${sc}`, c)])
      if (!rs.some(([, r]) => r)) continue
      const n = rs.find(([, r]) => r)[1].clients
      const label = `${fmtN(n)} clients, ${sc.replace('.', ' ').replace('flat', 'flat out').replace('rate', 'fixed rate')}`
      if (sc.endsWith('flat'))
        bgroups.push({ label, values: Object.fromEntries(rs.map(([c, r]) => [c, r?.perSec])) })
      cgroups.push({ label, values: Object.fromEntries(rs.map(([c, r]) => [c, r?.cpuUsPerMsg])) })
    }
  charts.broadcast = barChart({
    title: 'Broadcast, flat out: delivered messages per second',
    unit: 'messages/s, higher is better',
    groups: bgroups,
    series: cs,
    log: true,
  })
  charts.cpu = barChart({
    title: 'Broadcast: server CPU per delivered message',
    unit: 'µs of CPU, lower is better',
    groups: cgroups,
    series: cs,
    log: true,
    format: (v) => `${v.toFixed(2)} µs`,
  })
  const egroups = []
  for (const sc of [
    ...new Set(doc.results.filter((r) => r.scenario.startsWith('echo.')).map((r) => r.scenario)),
  ])
    for (const q of ['p50', 'p99', 'p999'])
      egroups.push({
        label: `${fmtN(Number(sc.split('.')[1]))}/s ${q.replace('p999', 'p99.9')}`,
        values: Object.fromEntries(cs.map((c) => [c, find(doc, sc, c)?.[q]])),
      })
  charts.echo = barChart({
    title: 'Echo (open loop): latency from scheduled send',
    unit: 'lower is better',
    groups: egroups,
    series: cs,
    log: true,
    format: fmtUs,
  })
  charts.memory = barChart({
    title: 'Server memory per idle connection',
    unit: 'bytes of RSS per connection, lower is better',
    groups: [
      {
        label: 'per connection',
        values: Object.fromEntries(cs.map((c) => [c, find(doc, 'idle-memory', c)?.bytesPerConn])),
      },
      {
        label: '100k projected',
        values: Object.fromEntries(cs.map((c) => [c, find(doc, 'idle-memory', c)?.projected100kRss])),
      },
    ],
    series: cs,
    format: fmtB,
  })
  Object.assign(charts, multinodeCharts(doc, barChart))
  return charts
}

export function writeReport(doc, outDir = join(here, '../docs')) {
  const md = join(outDir, 'benchmarks.md')
  writeFileSync(md, renderMarkdown(doc))
  // the repository's one formatter lays out the tables, so the generated page passes `npm run lint`
  spawnSync(join(here, '../node_modules/.bin/biome'), ['format', '--write', md], { stdio: 'ignore' })
  for (const [name, svg] of Object.entries(renderCharts(doc)))
    writeFileSync(join(outDir, `benchmarks-${name}.svg`), svg)
  process.stderr.write(`wrote ${join(outDir, 'benchmarks.md')} and charts\n`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? join(here, 'results/latest.json')
  const outDir = process.argv.find((a) => a.startsWith('--out-dir='))?.slice(10)
  const doc = JSON.parse(readFileSync(file, 'utf8'))
  // the targets are judged again from the results, so a re-render picks up new or changed targets
  doc.targets = evaluateTargets(doc)
  writeReport(doc, outDir)
}
