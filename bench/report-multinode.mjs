// The multi-node group's part of the report (bench/multinode.mjs, issue 19): its targets, its
// section of docs/benchmarks.md and its two charts (docs/benchmarks-multinode*.svg), for
// bench/report.mjs.

export const BACKEND_LABEL = {
  'sb-redis': 'Switchboard, one Redis',
  'sb-cluster': 'Switchboard, 3-shard cluster',
  'sio-redis': 'Socket.IO, Redis adapter',
  'sio-sharded': 'Socket.IO, sharded adapter on the cluster',
}
export const BACKEND_COLOR = {
  'sb-redis': '#d9480f',
  'sb-cluster': '#f08c00',
  'sio-redis': '#2f9e44',
  'sio-sharded': '#66a80f',
}
const BACKENDS = Object.keys(BACKEND_LABEL)
export const RUNS = ['fanout', 'rooms', 'publish-heavy']
const RUN_LABEL = {
  fanout: 'one channel fanned out',
  rooms: 'many small rooms',
  'publish-heavy': 'publish-heavy',
}

const mn = (doc, run, backend, key) =>
  doc.results.find((r) => r.scenario === `multinode.${run}.${backend}.${key}`)
const backendsIn = (doc) => BACKENDS.filter((b) => doc.results.some((r) => r.backend === b))
/** The K values of the idle-nodes run, ascending. */
const idleKs = (doc) =>
  [...new Set(doc.results.filter((r) => r.run === 'idle-nodes').map((r) => r.extraNodes))].sort(
    (a, b) => a - b,
  )
/** Whether the idle-nodes run put its K extra nodes on another core than the subscribers' node. */
const idleOnOtherCore = (doc) =>
  doc.results.some((r) => r.run === 'idle-nodes' && r.nodeCpus?.slice(1).some((cpu) => cpu !== r.nodeCpus[0]))
/** The highest node count of the 1-vs-n runs (3 in a full run). */
const maxNodes = (doc) => Math.max(0, ...doc.results.filter((r) => RUNS.includes(r.run)).map((r) => r.nodes))

/**
 * Issue 19's targets: on the same run, Switchboard's cluster-wide CPU per delivered message (its
 * nodes and Redis) at most Socket.IO's with its Redis adapter, per run at the highest node count;
 * and Redis CPU per publish flat (≤ 1.2×) from no node without subscribers to the most.
 */
export function multinodeTargets(doc, add, fmt) {
  if (!doc.results.some((r) => r.scenario.startsWith('multinode.'))) return
  const n = maxNodes(doc)
  for (const sb of ['sb-redis', 'sb-cluster']) {
    if (!doc.results.some((r) => r.backend === sb)) continue
    for (const run of RUNS) {
      const a = mn(doc, run, sb, n)
      const b = mn(doc, run, 'sio-redis', n)
      add(
        `${n} nodes, ${RUN_LABEL[run]}: ${BACKEND_LABEL[sb]} CPU per delivered message (nodes + Redis) ≤ Socket.IO's Redis adapter`,
        `${fmt.us2(a?.cpuUsPerMsg)} vs ${fmt.us2(b?.cpuUsPerMsg)} µs`,
        a && b ? a.cpuUsPerMsg / b.cpuUsPerMsg : null,
        1,
        false,
        a?.loadgenBound || b?.loadgenBound ? 'load generator was the bottleneck' : '',
      )
    }
  }
  const ks = idleKs(doc)
  const [k0, kn] = [ks[0], ks[ks.length - 1]]
  for (const sb of ['sb-redis', 'sb-cluster']) {
    const a = mn(doc, 'idle-nodes', sb, `k${k0}`)
    const z = mn(doc, 'idle-nodes', sb, `k${kn}`)
    if (!a && !z) continue
    const sio = ['sio-redis', 'sio-sharded']
      .map((s) => [s, mn(doc, 'idle-nodes', s, `k${k0}`), mn(doc, 'idle-nodes', s, `k${kn}`)])
      .filter(([, x, y]) => x && y)
      .map(
        ([s, x, y]) =>
          `${BACKEND_LABEL[s]}: ${(y.redisCpuUsPerPublish / x.redisCpuUsPerPublish).toFixed(2)}×`,
      )
    add(
      `${BACKEND_LABEL[sb]}: Redis CPU per publish with ${kn} more nodes that do not subscribe ≤ 1.2× with ${k0}`,
      `${fmt.us2(z?.redisCpuUsPerPublish)} vs ${fmt.us2(a?.redisCpuUsPerPublish)} µs`,
      a && z ? z.redisCpuUsPerPublish / a.redisCpuUsPerPublish : null,
      1.2,
      false,
      sio.length ? `same run, ${sio.join(', ')}` : '',
    )
  }
}

/** The section of docs/benchmarks.md. */
export function multinodeSection(doc, { table, fmtN, fmtUs, fmtB }) {
  const c = doc.meta.config.multinode
  const info = doc.meta.multinode ?? {}
  const bs = backendsIn(doc)
  const n = maxNodes(doc)
  const us = (x) => (x == null ? '–' : x.toFixed(2))
  const x = (a, b) => (a != null && b ? `${(a / b).toFixed(2)}×` : '–')
  const L = ['## Several nodes on Redis', '']
  L.push(
    `Issue 19: Switchboard nodes on \`RedisBroker\` against Socket.IO nodes with its official Redis adapters ` +
      `(\`@socket.io/redis-adapter\`), with 1 and with ${n} nodes, the same load on the same run. Every node is its ` +
      'own process; Redis is a real `redis-server` the bench starts on a free port (the cluster: three primaries, ' +
      '`--cluster-enabled yes`, made one with `redis-cli --cluster create`). Nodes and Redis share CPU 0, the load ' +
      'generator has CPU 1: delivered/s is the offered load (fixed rates), so compare the CPU columns. ' +
      '_CPU µs/msg_ is the CPU time of every node and every redis-server (from `/proc/<pid>/task/*/schedstat`) ' +
      'divided by the messages the clients received; _Redis µs/publish_ is Redis CPU alone over the publishes. ' +
      'Latency is from the scheduled publish time on the publishing node to the client; it moves with ' +
      'whatever else runs on the machine (see the load average below), far more than the CPU columns do. ' +
      'Redis µs/publish includes Redis’s background work over the run (its timers, the nodes’ heartbeats ' +
      'and presence scripts): at a few publishes a second (_fanout_) that is most of it, so read the cost of ' +
      'a publish from the runs with thousands a second.',
    '',
  )
  if (info.date)
    L.push(
      `This group ran ${info.date} (load average ${info.loadAvg?.map((v) => v.toFixed(2)).join(', ')}), ` +
        `${info.redis?.redis ? `redis-server ${info.redis.redis.version}` : ''}; ${Object.entries(
          info.versions ?? {},
        )
          .map(([b, v]) => `${b}: ${v}`)
          .join('; ')}.`,
      '',
    )
  L.push(
    `- _fanout_: one channel, ${fmtN(c.fanout.clients)} subscribers spread evenly over the nodes, one node ` +
      `publishing ${c.fanout.rate}/s.`,
    `- _rooms_: ${fmtN(c.rooms.clients)} clients in rooms of ${c.rooms.roomSize} whose members sit on ` +
      `different nodes, ${c.rooms.ratePerRoom} messages/s a room, every node publishing its share.`,
    `- _publish-heavy_: ${fmtN(c['publish-heavy'].clients)} clients in rooms of ${c['publish-heavy'].roomSize}, ` +
      `${c['publish-heavy'].ratePerRoom}/s a room: one publish per ${c['publish-heavy'].roomSize} deliveries.`,
    `- _idle nodes_: ${fmtN(c.idleNodes.clients)} subscribers of one channel and its publisher ` +
      `(${c.idleNodes.rate}/s) on one node, and K more nodes, each with ${c.idleNodes.otherClients} clients ` +
      `on a channel of its own and none on this one${idleOnOtherCore(doc) ? ", on the load generator's core (Redis's core holds the same processes for every K)" : ''}.`,
    '',
    '![multi-node CPU per delivered message](benchmarks-multinode.svg)',
    '',
  )
  for (const run of RUNS) {
    const any = doc.results.find((r) => r.run === run)
    if (!any) continue
    L.push(`### ${RUN_LABEL[run][0].toUpperCase()}${RUN_LABEL[run].slice(1)}`, '')
    const rows = []
    for (const b of bs)
      for (const nodes of c.nodes) {
        const r = mn(doc, run, b, nodes)
        if (!r) continue
        const one = mn(doc, run, b, c.nodes[0])
        rows.push([
          BACKEND_LABEL[b],
          String(nodes),
          `${fmtN(r.perSec)}${r.loadgenBound ? ' **LG**' : ''}`,
          `${((r.delivered / Math.max(1, r.expected)) * 100).toFixed(1)} %`,
          us(r.cpuUsPerMsg),
          us(r.nodesCpuUsPerMsg),
          us(r.redisCpuUsPerPublish),
          fmtUs(r.p50),
          fmtUs(r.p99),
          fmtB(r.rss),
          nodes === c.nodes[0] ? '–' : x(r.cpuUsPerMsg, one?.cpuUsPerMsg),
          nodes === c.nodes[0] ? '–' : x(r.redisCpuUsPerPublish, one?.redisCpuUsPerPublish),
          nodes === c.nodes[0] ? '–' : x(r.p99, one?.p99),
        ])
      }
    L.push(
      table(
        [
          'backend',
          'nodes',
          'delivered/s',
          'delivered',
          'CPU µs/msg',
          'of it nodes',
          'Redis µs/publish',
          'p50',
          'p99',
          'RSS (nodes)',
          `CPU/msg ×1 node`,
          `Redis/publish ×1 node`,
          `p99 ×1 node`,
        ],
        rows,
      ),
      '',
    )
  }
  const ks = idleKs(doc)
  if (ks.length) {
    L.push('### Nodes that do not subscribe', '')
    L.push(
      'Redis CPU per publish as nodes without a subscriber of the channel are added. The classic Redis ' +
        'adapter sends every broadcast to every node (each node `PSUBSCRIBE`s to all of them); Switchboard ' +
        'subscribes a node to a channel only while it has subscribers there, and the sharded adapter ' +
        '(`subscriptionMode: "dynamic"`) to a room likewise. _Idle nodes µs/publish_ is what those K nodes ' +
        'spent, per publish — their own background work (timers, heartbeats, GC) included, which is what ' +
        'Switchboard’s nodes spend there.',
      '',
      '![Redis CPU per publish against nodes without subscribers](benchmarks-multinode-redis.svg)',
      '',
    )
    const rows = []
    for (const b of bs)
      for (const k of ks) {
        const r = mn(doc, 'idle-nodes', b, `k${k}`)
        if (!r) continue
        const zero = mn(doc, 'idle-nodes', b, `k${ks[0]}`)
        rows.push([
          BACKEND_LABEL[b],
          String(k),
          us(r.redisCpuUsPerPublish),
          k === ks[0] ? '–' : x(r.redisCpuUsPerPublish, zero?.redisCpuUsPerPublish),
          us(r.idleNodesCpuUsPerPublish),
          us(r.cpuUsPerMsg),
          `${fmtN(r.perSec)}${r.loadgenBound ? ' **LG**' : ''}`,
          fmtUs(r.p99),
        ])
      }
    L.push(
      table(
        [
          'backend',
          'K',
          'Redis µs/publish',
          '×K=0',
          'idle nodes µs/publish',
          'CPU µs/msg',
          'delivered/s',
          'p99',
        ],
        rows,
      ),
      '',
    )
  }
  return L
}

/** Two charts: CPU per delivered message per run and node count; Redis CPU per publish against K. */
export function multinodeCharts(doc, barChart) {
  if (!doc.results.some((r) => r.scenario.startsWith('multinode.'))) return {}
  const bs = backendsIn(doc)
  const c = doc.meta.config.multinode
  const groups = []
  for (const run of RUNS)
    for (const nodes of c.nodes)
      groups.push({
        label: `${run}, ${nodes} node${nodes > 1 ? 's' : ''}`,
        values: Object.fromEntries(bs.map((b) => [b, mn(doc, run, b, nodes)?.cpuUsPerMsg])),
      })
  const style = { labels: BACKEND_LABEL, colors: BACKEND_COLOR, labelRoom: 300 }
  return {
    multinode: barChart({
      title: 'Several nodes on Redis: CPU per delivered message, nodes and Redis together',
      unit: 'µs of CPU, lower is better',
      groups,
      series: bs,
      format: (v) => `${v.toFixed(1)} µs`,
      ...style,
    }),
    'multinode-redis': barChart({
      title: 'Redis CPU per publish, with K more nodes that do not subscribe',
      unit: 'µs of Redis CPU per publish, lower is better',
      groups: idleKs(doc).map((k) => ({
        label: `K = ${k}`,
        values: Object.fromEntries(
          bs.map((b) => [b, mn(doc, 'idle-nodes', b, `k${k}`)?.redisCpuUsPerPublish]),
        ),
      })),
      series: bs,
      format: (v) => `${v.toFixed(1)} µs`,
      ...style,
    }),
  }
}
