/**
 * The model-based test of the delivery guarantee (issue 13, point 2): a world of real parts —
 * one private redis-server, two in-process Switchboard nodes on a RedisBroker (fixed ports, so a
 * drained node can come back on the same address), one `switchboard serve --redis` process that
 * can be SIGKILLed, and SwitchboardClients each on its own transport (WebSocket, SSE or
 * long-polling) reaching every node through TCP proxies of its own, so its connection can be cut
 * at any moment — and the commands fast-check draws to drive it.
 *
 * The model is what was acknowledged: every publish whose promise resolved, with its position.
 * After every command each client `Channel` is checked against it (`Watch.problems`): no
 * duplicate, no disorder, the data at each position is the data acknowledged there, no gap
 * unless a `recovery` with `recovered: false` covered it, and no `recovered: true` that skipped
 * anything. At the end of a run, after a quiet period, every acknowledged message of a channel
 * still subscribed must have been delivered, unless a `recovered: false` covered it.
 *
 * Commands print as the calls that build them (`cut(1)`, `spub(0, 2, 5)`…), so a counterexample
 * can be pasted into a fixed regression test (`runScenario`).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type Channel, type RecoveryInfo, SwitchboardClient, type TransportName } from '@switchboard/client'
import type { StreamPosition, SubscribeResult } from '@switchboard/protocol'
import { RedisBroker } from '@switchboard/redis'
import {
  type ChannelOptionsMap,
  ChannelRules,
  type Connection,
  createSwitchboard,
  type Switchboard,
} from '@switchboard/server'
import { freePort, startProxy, type TcpProxy, until } from '@switchboard/testing'
import fc from 'fast-check'
import { PrivateRedis } from './redis-helpers.js'

const bin = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url))

/** The channels `switchboard serve` configures (packages/cli/src/serve.ts): every node must agree. */
const CHANNELS: ChannelOptionsMap = {
  'chat:*': { history: { size: 500, ttl: '1h' }, presence: true, clientPublish: true },
  'typing:*': { clientPublish: true },
}
/** Two channels with history (recovery must succeed) and one without (recovered: false). */
const CHANNEL_KINDS = ['chat:a', 'chat:b', 'typing:t'] as const
export const CHANNEL_COUNT = CHANNEL_KINDS.length
export const CLIENT_COUNT = 3
/** Nodes 0 and 1 run in this process; node 2 is the `serve` process. */
export const NODE_COUNT = 3
const PROCESS_NODE = 2
/** The in-process nodes' send bound: small, so bursts and replays cut slow consumers (4100). */
export const SEND_BOUND = 16 * 1024

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const fmt = (p: StreamPosition) => `${p.epoch.slice(0, 6)}:${p.offset}`

// ---- nodes ----------------------------------------------------------------------------------

interface Node {
  readonly port: number
  readonly up: boolean
  start(): Promise<void>
  /** Drain (in-process) or SIGKILL (process). */
  stop(): Promise<void>
}

/** Disconnects seen by the in-process nodes, by close code (4100: slow consumer, 1012: drain). */
export const disconnects = new Map<number, number>()

/** What an in-process node does with each new connection: the current run's server-side subscribes. */
type ConnectionHook = (sb: Switchboard, conn: Connection, url: string) => void

class InProcessNode implements Node {
  sb: Switchboard | undefined
  private broker: RedisBroker | undefined
  constructor(
    readonly port: number,
    private readonly redisUrl: string,
    private readonly hook: () => ConnectionHook | undefined,
  ) {}
  get up(): boolean {
    return this.sb !== undefined
  }
  async start(): Promise<void> {
    if (this.sb) return
    const rules = new ChannelRules(CHANNELS)
    const broker = new RedisBroker({
      url: this.redisUrl,
      history: (channel) => rules.get(channel).history,
      logger: { warn: () => {} },
    })
    await broker.ready
    const sb = createSwitchboard({
      port: this.port,
      host: '127.0.0.1',
      logger: false,
      broker,
      channels: CHANNELS,
      maxBufferedBytes: SEND_BOUND,
    })
    await sb.ready
    sb.on('disconnect', (_conn, { code }) => void disconnects.set(code, (disconnects.get(code) ?? 0) + 1))
    sb.on('connection', (conn, req) => this.hook()?.(sb, conn, req.url ?? ''))
    this.broker = broker
    this.sb = sb
  }
  /** Drains; `during` runs once the drain has started (publishes on the draining node, say). */
  async stop(during?: (sb: Switchboard) => void): Promise<void> {
    const { sb, broker } = this
    this.sb = undefined
    this.broker = undefined
    const closed = sb?.close({ timeout: 1000 })
    if (sb) during?.(sb)
    await closed
    await broker?.close()
  }
}

class ProcessNode implements Node {
  private child: ChildProcess | undefined
  private exited: Promise<unknown> = Promise.resolve()
  output = ''
  constructor(
    readonly port: number,
    private readonly redisUrl: string,
  ) {}
  get up(): boolean {
    return this.child !== undefined
  }
  async start(): Promise<void> {
    if (this.child) return
    if (!existsSync(bin)) throw new Error(`${bin} is missing: build first with npx tsc -b`)
    const args = [bin, 'serve', '--port', String(this.port), '--host', '127.0.0.1']
    const child = spawn(process.execPath, [...args, '--redis', this.redisUrl, '--drain-timeout', '1000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, REDIS_URL: '', JWT_SECRET: '' },
    })
    let out = ''
    child.stdout?.on('data', (d) => {
      out += d
    })
    child.stderr?.on('data', (d) => {
      out += d
    })
    this.exited = new Promise((resolve) => child.once('exit', resolve))
    this.child = child
    await until(() => out.includes('sharing channels through') || child.exitCode !== null, 20_000, 'serve')
    this.output = out
    if (child.exitCode !== null) {
      this.child = undefined
      throw new Error(`switchboard serve did not start: ${out}`)
    }
  }
  async stop(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const child = this.child
    this.child = undefined
    if (!child) return
    child.kill(signal)
    await this.exited
  }
}

/** What lives across runs: Redis and the nodes (each run uses channels of its own). */
export class Cluster {
  /** The running World's server-side subscription policy, applied to every new connection. */
  onConnection: ConnectionHook | undefined
  private constructor(
    readonly redis: PrivateRedis,
    readonly nodes: [InProcessNode, InProcessNode, ProcessNode],
  ) {}

  static async start(): Promise<Cluster> {
    const redis = await PrivateRedis.start()
    const ports = [await freePort(), await freePort(), await freePort()] as const
    const nodes: [InProcessNode, InProcessNode, ProcessNode] = [
      new InProcessNode(ports[0], redis.url, () => cluster.onConnection),
      new InProcessNode(ports[1], redis.url, () => cluster.onConnection),
      new ProcessNode(ports[2], redis.url),
    ]
    const cluster: Cluster = new Cluster(redis, nodes)
    await cluster.allUp()
    return cluster
  }

  allUp(): Promise<void> {
    return Promise.all(this.nodes.map((n) => n.start())).then(() => undefined)
  }

  async stop(): Promise<void> {
    for (const node of this.nodes) await node.stop()
    await this.redis.stop()
  }
}

// ---- the acknowledged model ----------------------------------------------------------------

/** Every publish whose promise resolved, by channel: position → message id, and id → position. */
class Acked {
  readonly byChannel = new Map<string, Map<string, string>>()
  readonly positionOf = new Map<string, StreamPosition & { channel: string }>()
  add(channel: string, id: string, pos: StreamPosition): void {
    const map = this.byChannel.get(channel) ?? new Map<string, string>()
    this.byChannel.set(channel, map)
    map.set(`${pos.epoch}:${pos.offset}`, id)
    this.positionOf.set(id, { channel, epoch: pos.epoch, offset: pos.offset })
  }
  idAt(channel: string, pos: StreamPosition): string | undefined {
    return this.byChannel.get(channel)?.get(`${pos.epoch}:${pos.offset}`)
  }
  /** The acknowledged positions of a channel. */
  positions(channel: string): Array<StreamPosition & { id: string }> {
    return [...this.positionOf.entries()]
      .filter(([, p]) => p.channel === channel)
      .map(([id, p]) => ({ id, epoch: p.epoch, offset: p.offset }))
  }
}

// ---- what each Channel object saw ------------------------------------------------------------

type Entry =
  | { kind: 'pub'; epoch: string; offset: number; id: string }
  | { kind: 'reply'; epoch: string; offset: number; recovery?: RecoveryInfo }

/** One client `Channel` object and the log of what it told the application, in order. */
export class Watch {
  readonly log: Entry[] = []
  readonly errors: string[] = []
  wanted = true
  removed = false
  constructor(
    readonly client: number,
    readonly name: string,
    readonly channel: Channel,
  ) {
    channel.on('publication', (p) => {
      const id = (p.data as { id?: unknown } | null)?.id
      this.log.push({ kind: 'pub', epoch: p.epoch, offset: p.offset, id: String(id) })
    })
    channel.on('subscribed', (r: SubscribeResult) =>
      this.log.push({ kind: 'reply', epoch: r.epoch, offset: r.offset }),
    )
    channel.on('recovery', (r) => {
      const last = this.log.at(-1)
      if (last?.kind === 'reply' && !last.recovery) last.recovery = r
      else this.errors.push(`a recovery event not right after its subscribed event: ${JSON.stringify(r)}`)
    })
    channel.on('error', (e) => this.errors.push(`channel error ${e.code}: ${e.message}`))
    channel.on('state', ({ reason }) => {
      if (reason === 'server_unsubscribe') this.wanted = false
    })
  }

  get label(): string {
    return `client ${this.client} ${this.name}`
  }

  /**
   * What is wrong with this channel's log against the acknowledged model. Gaps a later reply may
   * still cover are only reported once the channel was answered after them, or when `final`.
   * `final` also asks every acknowledged message after the start to have been delivered.
   */
  problems(acked: Acked, final: boolean): string[] {
    const out: string[] = []
    const log = this.log
    const seenAt = new Set<string>()
    const seenId = new Map<string, StreamPosition>()
    let last: StreamPosition | undefined
    let lastIndex = -1
    const replyAfter = (i: number) => log.slice(i + 1).some((e) => e.kind === 'reply')
    /** A recovered:false reply after `from` announcing the loss of (last, next). */
    const announced = (from: number, prev: StreamPosition, next: StreamPosition) =>
      log.slice(from + 1).some((e) => {
        const r = e.kind === 'reply' ? e.recovery : undefined
        if (!r || r.recovered) return false
        if (r.since.epoch !== prev.epoch || r.since.offset > prev.offset) return false
        if (r.position.epoch !== next.epoch) return false
        return next.offset === 1 || r.position.offset >= next.offset - 1
      })
    for (let i = 0; i < log.length; i++) {
      const e = log[i]!
      if (e.kind === 'pub') {
        const key = `${e.epoch}:${e.offset}`
        if (seenAt.has(key)) out.push(`duplicate: ${fmt(e)} delivered twice`)
        const before = seenId.get(e.id)
        if (before) out.push(`duplicate: message ${e.id} delivered at ${fmt(before)} and at ${fmt(e)}`)
        seenAt.add(key)
        seenId.set(e.id, e)
        const ackedId = acked.idAt(this.name, e)
        if (ackedId !== undefined && ackedId !== e.id)
          out.push(`wrong data: ${e.id} delivered at ${fmt(e)}, where ${ackedId} was acknowledged`)
        const ackedAt = acked.positionOf.get(e.id)
        if (ackedAt && (ackedAt.epoch !== e.epoch || ackedAt.offset !== e.offset))
          out.push(`wrong position: ${e.id} delivered at ${fmt(e)}, acknowledged at ${fmt(ackedAt)}`)
        if (last) {
          const sameEpoch = e.epoch === last.epoch
          if (sameEpoch && e.offset <= last.offset) out.push(`disorder: ${fmt(e)} after ${fmt(last)}`)
          else if (!sameEpoch || e.offset > last.offset + 1) {
            if (!announced(lastIndex, last, e) && (final || replyAfter(i))) {
              const what = sameEpoch ? `offsets ${last.offset + 1}..${e.offset - 1}` : 'an epoch change'
              out.push(`gap: ${what} skipped (${fmt(last)} then ${fmt(e)}) with no recovered:false`)
            }
          }
        }
        if (!last || e.epoch !== last.epoch || e.offset > last.offset) {
          last = { epoch: e.epoch, offset: e.offset }
          lastIndex = i
        }
      } else {
        const r = e.recovery
        if (r?.recovered) {
          if (r.since.epoch !== e.epoch)
            out.push(`recovered: true across epochs (${fmt(r.since)} → ${fmt(e)})`)
          else if (last && last.epoch === e.epoch && last.offset < e.offset)
            out.push(
              `silent loss: recovered: true at ${fmt(e)} (since ${fmt(r.since)}) but only ${fmt(last)} ` +
                `was delivered: ${last.offset + 1}..${e.offset} are skipped`,
            )
        }
        if (!last || last.epoch !== e.epoch || last.offset < e.offset) {
          last = { epoch: e.epoch, offset: e.offset }
          lastIndex = i
        }
      }
    }
    if (final) out.push(...this.undelivered(acked, seenAt))
    return out
  }

  /** Acknowledged messages after this channel's start that it never delivered nor was told it lost. */
  private undelivered(acked: Acked, seenAt: Set<string>): string[] {
    const first = this.log[0]
    if (!first) return []
    const start: StreamPosition = {
      epoch: first.epoch,
      offset: first.kind === 'pub' ? first.offset - 1 : first.offset,
    }
    const losses = this.log.flatMap((e) =>
      e.kind === 'reply' && e.recovery?.recovered === false ? [e.recovery] : [],
    )
    const lost = (m: StreamPosition) =>
      losses.some(
        (r) =>
          r.since.epoch === m.epoch &&
          m.offset > r.since.offset &&
          (r.position.epoch !== m.epoch || m.offset <= r.position.offset),
      )
    const missing = acked
      .positions(this.name)
      .filter((m) => m.epoch === start.epoch && m.offset > start.offset)
      .filter((m) => !seenAt.has(`${m.epoch}:${m.offset}`) && !lost(m))
      .sort((a, b) => a.offset - b.offset)
    if (missing.length === 0) return []
    const list = missing.map((m) => `${m.id}@${m.offset}`)
    return [
      `never delivered (${missing.length}): ${list.slice(0, 12).join(', ')}${list.length > 12 ? ' …' : ''}`,
    ]
  }

  /** A compact picture of the log for failure messages. */
  summary(): string {
    const parts: string[] = []
    let run: [number, number] | undefined
    const flush = () => {
      if (run) parts.push(run[0] === run[1] ? `${run[0]}` : `${run[0]}-${run[1]}`)
      run = undefined
    }
    for (const e of this.log) {
      if (e.kind === 'pub') {
        if (run && e.offset === run[1] + 1) run[1] = e.offset
        else {
          flush()
          run = [e.offset, e.offset]
        }
      } else {
        flush()
        const r = e.recovery
        parts.push(
          r
            ? `[recovery ${r.recovered} since ${r.since.offset} → ${e.offset}]`
            : `[subscribed at ${e.offset}]`,
        )
      }
    }
    flush()
    const how = `${this.channel.state}${this.wanted ? '' : ', not wanted by the app'}${this.channel.serverSide ? ', server-side' : ''}`
    return `${this.label} (${how}): ${parts.join(' ')}`
  }
}

// ---- one run ---------------------------------------------------------------------------------

interface Peer {
  client: SwitchboardClient
  proxies: TcpProxy[]
  watches: Map<string, Watch>
  /** A cut armed to fire in the middle of the next replay: after `after` replayed messages. */
  replayCut: { after: number; until: number } | undefined
  cuts: number
  /** The channels the server subscribes this client's connections to (on the in-process nodes). */
  policy: Set<string>
  /** The client's state changes and the node of each connection, for the report. */
  states: string[]
}

let runCounter = 0

/** The system under test for one run: clients, their proxies, the acknowledged model. */
export class World {
  readonly acked = new Acked()
  readonly peers: Peer[] = []
  readonly allWatches: Watch[] = []
  readonly pending = new Set<Promise<unknown>>()
  readonly steps: string[] = []
  /** Server calls that failed on an open connection. */
  readonly faults: string[] = []
  /** The in-process nodes' disconnect counts when the run started. */
  private readonly disconnectsBefore = new Map(disconnects)
  private readonly names: string[]
  private nextId = 0

  private constructor(
    readonly cluster: Cluster,
    readonly transports: readonly TransportName[],
  ) {
    const run = ++runCounter
    const tag = `${process.pid.toString(36)}-${run}`
    this.names = CHANNEL_KINDS.map((kind) => kind.replace(':', `:${tag}-`))
  }

  static async create(cluster: Cluster, transports: readonly TransportName[]): Promise<World> {
    await cluster.allUp()
    const world = new World(cluster, transports)
    for (let c = 0; c < transports.length; c++) {
      const proxies = await Promise.all(cluster.nodes.map((n) => startProxy(n.port)))
      // Each client starts on another node, and moves to the next one on every reconnect.
      const urls = proxies.map((_, i) => `${proxies[(i + c) % proxies.length]!.url}?peer=${c}`)
      const client = new SwitchboardClient(urls, {
        transports: [transports[c]!],
        backoff: () => 20 + Math.floor(Math.random() * 40),
        requestTimeout: 4000,
        connectTimeout: 3000,
      })
      const peer: Peer = {
        client,
        proxies,
        watches: new Map(),
        replayCut: undefined,
        cuts: 0,
        policy: new Set(),
        states: [],
      }
      client.on('state', ({ newState, reason, closeCode }) => {
        peer.states.push(`${newState}:${reason}${closeCode ? `:${closeCode}` : ''}`)
      })
      client.on('connected', ({ connectionId }) => peer.states.push(`@${world.nodeOf(connectionId)}`))
      client.on('serverSubscribed', (channel) => {
        if (peer.watches.get(channel.name)?.channel !== channel) world.watch(c, channel, false)
      })
      world.peers.push(peer)
    }
    cluster.onConnection = (sb, conn, url) => world.onConnection(sb, conn, url)
    await until(() => world.peers.every((p) => p.client.state === 'connected'), 10_000, 'clients to connect')
    // Every client starts on every channel; the commands unsubscribe, remove and subscribe again.
    for (let c = 0; c < world.peers.length; c++)
      for (let ch = 0; ch < CHANNEL_COUNT; ch++) world.subscribe(c, ch)
    await until(
      () => world.allWatches.every((w) => w.channel.state === 'subscribed'),
      10_000,
      'first subscriptions',
    )
    return world
  }

  channelName(ch: number): string {
    return this.names[ch]!
  }

  node(n: number): Node {
    return this.cluster.nodes[n]!
  }

  /** An in-process node that is up, preferring `n`. */
  serverNode(n: number): Switchboard | undefined {
    const nodes = this.cluster.nodes
    const a = n === PROCESS_NODE ? undefined : (nodes[n] as InProcessNode).sb
    return a ?? nodes[0].sb ?? nodes[1].sb
  }

  subscribe(c: number, ch: number): void {
    const peer = this.peers[c]!
    const name = this.channelName(ch)
    const existing = peer.watches.get(name)
    if (existing) {
      existing.wanted = true
      existing.channel.subscribe()
      return
    }
    this.watch(c, peer.client.channel(name), true)
  }

  /** Starts watching a Channel object of client `c` (opened by the client, or by the server). */
  watch(c: number, channel: Channel, wanted: boolean): Watch {
    const peer = this.peers[c]!
    const watch = new Watch(c, channel.name, channel)
    watch.wanted = wanted
    channel.on('publication', () => {
      const cut = peer.replayCut
      if (!cut || channel.state !== 'subscribing') return
      if (Date.now() > cut.until) peer.replayCut = undefined
      else if (--cut.after <= 0) {
        peer.replayCut = undefined
        this.cut(c)
      }
    })
    peer.watches.set(channel.name, watch)
    this.allWatches.push(watch)
    return watch
  }

  /** A client connected to an in-process node: the server subscribes it to its policy's channels. */
  onConnection(sb: Switchboard, conn: Connection, url: string): void {
    const peer = this.peers[Number(new URL(url, 'http://x').searchParams.get('peer'))]
    for (const name of peer?.policy ?? []) this.serverJoin(sb, conn, name)
  }

  private serverJoin(sb: Switchboard, conn: Connection, name: string): void {
    sb.subscribe(conn, name).catch((err: unknown) => {
      // A connection that closed meanwhile is refused; anything else is a finding.
      if (conn.state === 'open') this.faults.push(`sb.subscribe(${conn.id}, ${name}) failed: ${err}`)
    })
  }

  /** Which node holds a connection: 0 and 1 in-process, 2 the serve process (by elimination). */
  nodeOf(connectionId: string): string {
    const nodes = this.cluster.nodes
    if (nodes[0].sb?.connections.has(connectionId)) return 'node0'
    if (nodes[1].sb?.connections.has(connectionId)) return 'node1'
    return 'node2?'
  }

  /** The in-process node and connection client `c` is on, if it is on one. */
  private connectionOf(c: number): { sb: Switchboard; conn: Connection } | undefined {
    const id = this.peers[c]!.client.connectionId
    if (id === undefined) return undefined
    for (const node of this.cluster.nodes) {
      const sb = node instanceof InProcessNode ? node.sb : undefined
      const conn = sb?.connections.get(id)
      if (sb && conn) return { sb, conn }
    }
    return undefined
  }

  /** The server subscribes client `c` to `ch`: now if it is on an in-process node, and on every new connection. */
  serverSubscribe(c: number, ch: number): void {
    const name = this.channelName(ch)
    const peer = this.peers[c]!
    peer.policy.add(name)
    const at = this.connectionOf(c)
    if (!at) return
    this.serverJoin(at.sb, at.conn, name)
  }

  /** The server unsubscribes client `c` from `ch`, and stops subscribing its new connections. */
  serverUnsubscribe(c: number, ch: number): void {
    const name = this.channelName(ch)
    this.peers[c]!.policy.delete(name)
    const at = this.connectionOf(c)
    if (at) {
      at.sb.unsubscribe(at.conn, name).catch((err: unknown) => {
        if (at.conn.state === 'open')
          this.faults.push(`sb.unsubscribe(${at.conn.id}, ${name}) failed: ${err}`)
      })
    }
  }

  unsubscribe(c: number, ch: number): void {
    const watch = this.peers[c]!.watches.get(this.channelName(ch))
    if (!watch) return
    watch.wanted = false
    watch.channel.unsubscribe()
  }

  remove(c: number, ch: number): void {
    const peer = this.peers[c]!
    const name = this.channelName(ch)
    const watch = peer.watches.get(name)
    if (!watch) return
    watch.wanted = false
    watch.removed = true
    peer.watches.delete(name)
    peer.client.removeChannel(name)
  }

  private track(channel: string, id: string, publish: Promise<StreamPosition>): void {
    const p = publish.then(
      (pos) => this.acked.add(channel, id, pos),
      () => {}, // not acknowledged: it may or may not have landed, and is not expected
    )
    this.pending.add(p)
    void p.finally(() => this.pending.delete(p))
  }

  clientPublish(c: number, ch: number, count: number, size = 0): void {
    const name = this.channelName(ch)
    for (let i = 0; i < count; i++) {
      const id = `c${c}.${++this.nextId}`
      const data = size > 0 ? { id, pad: 'x'.repeat(size) } : { id }
      this.track(name, id, this.peers[c]!.client.publish(name, data))
    }
  }

  serverPublish(n: number, ch: number, count: number, size = 0): void {
    const sb = this.serverNode(n)
    if (sb) this.publishOn(sb, `s${n}`, ch, count, size)
  }

  private publishOn(sb: Switchboard, source: string, ch: number, count: number, size: number): void {
    const name = this.channelName(ch)
    for (let i = 0; i < count; i++) {
      const id = `${source}.${++this.nextId}`
      const data = size > 0 ? { id, pad: 'x'.repeat(size) } : { id }
      this.track(name, id, sb.publish(name, data))
    }
  }

  /** Stops node `n`; an in-process node publishes on every channel, as does the other one, while it drains. */
  async stopNode(n: number): Promise<void> {
    const node = this.node(n)
    if (!(node instanceof InProcessNode)) return node.stop()
    await node.stop((draining) => {
      for (let ch = 0; ch < CHANNEL_COUNT; ch++) {
        this.publishOn(draining, `s${n}`, ch, 3, 0)
        this.serverPublish(1 - n, ch, 3)
      }
    })
  }

  /** Client `c` publishes and its connections are cut right after (the frames may be on the wire). */
  publishThenCut(c: number, ch: number, count: number): void {
    this.clientPublish(c, ch, count)
    queueMicrotask(() => this.cut(c))
  }

  cut(c: number): void {
    const peer = this.peers[c]!
    peer.cuts++
    for (const proxy of peer.proxies) proxy.cutAll()
  }

  /** Server publishes spread over time; the quiet period waits for the last. */
  stream(n: number, ch: number, count: number, ms: number): void {
    const run = (async () => {
      for (let i = 0; i < count; i++) {
        this.serverPublish(n, ch, 1)
        await sleep(ms)
      }
    })()
    this.pending.add(run)
    void run.finally(() => this.pending.delete(run))
  }

  /** Cuts client `c` in `ms`; the quiet period waits for it. */
  cutLater(c: number, ms: number): void {
    const cut = sleep(ms).then(() => this.cut(c))
    this.pending.add(cut)
    void cut.finally(() => this.pending.delete(cut))
  }

  armReplayCut(c: number, after: number): void {
    this.peers[c]!.replayCut = { after, until: Date.now() + 2000 }
  }

  /** Every watch's problems; throws with the whole picture if there is any. */
  check(step: string, final = false): void {
    this.steps.push(step)
    const found: string[] = [...this.faults]
    if (final) {
      for (const [c, peer] of this.peers.entries()) {
        for (const name of peer.policy) {
          const state = peer.watches.get(name)?.channel.state
          if (state !== 'subscribed')
            found.push(`client ${c} ${name}: the server subscribed it, but it is ${state ?? 'not there'}`)
        }
      }
    }
    for (const w of this.allWatches) {
      const live = w.channel.state === 'subscribed' && !w.removed
      const problems = [...w.errors, ...w.problems(this.acked, final && (live || w.wanted))]
      if (final && w.wanted && !w.removed && w.channel.state !== 'subscribed')
        problems.push(`still ${w.channel.state} at the end`)
      for (const p of problems) found.push(`${w.label}: ${p}`)
    }
    if (found.length > 0) throw new Error(this.report(`after ${step}`, found))
  }

  report(when: string, found: string[]): string {
    return [
      `guarantee broken ${when}:`,
      ...found.map((f) => `  - ${f}`),
      `transports: ${JSON.stringify(this.transports)}; channels: ${this.names.join(', ')}`,
      `disconnects on the in-process nodes by close code: ${JSON.stringify(this.disconnectsDuring())}`,
      ...this.peers.map(
        (p, c) =>
          `client ${c}: ${p.client.state} ${p.client.connectionId ?? '-'}, ${p.cuts} cuts; ${p.states.join(' ')}`,
      ),
      'logs:',
      ...this.allWatches.map((w) => `  ${w.summary()}`),
      `steps: ${this.steps.join(', ')}`,
    ].join('\n')
  }

  /** Disconnects by close code on the in-process nodes during this run. */
  disconnectsDuring(): Record<number, number> {
    const out: Record<number, number> = {}
    for (const [code, n] of disconnects)
      if (n > (this.disconnectsBefore.get(code) ?? 0)) out[code] = n - (this.disconnectsBefore.get(code) ?? 0)
    return out
  }

  /** Recovery answers the run's channels got (true and false). */
  recoveries(): number {
    return this.allWatches.reduce(
      (n, w) => n + w.log.filter((e) => e.kind === 'reply' && e.recovery).length,
      0,
    )
  }

  /** What the run did, for the log. */
  describe(): string {
    const replies = this.allWatches.flatMap((w) => w.log.flatMap((e) => (e.kind === 'reply' ? [e] : [])))
    const recovered = replies.filter((r) => r.recovery?.recovered === true).length
    const lost = replies.filter((r) => r.recovery?.recovered === false).length
    const delivered = this.allWatches.reduce((n, w) => n + w.log.filter((e) => e.kind === 'pub').length, 0)
    return (
      `run ${JSON.stringify(this.transports)}: ${this.acked.positionOf.size} acknowledged, ${delivered} delivered, ` +
      `${recovered} recovered:true, ${lost} recovered:false; steps: ${this.steps.join(', ')}`
    )
  }

  /** The quiet period: every node up, publishes settled, every wanted channel caught up. */
  async settle(quietMs: number): Promise<void> {
    await this.cluster.allUp()
    for (const peer of this.peers) peer.replayCut = undefined
    await Promise.allSettled([...this.pending])
    // A client the server subscribes to channels ends on a node that does (not the serve process),
    // on a connection it made after the last change of its policy.
    for (let c = 0; c < this.peers.length; c++) {
      const { client, policy } = this.peers[c]!
      if (policy.size === 0) continue
      for (let i = 0; i < 6; i++) {
        const before = client.connectionId
        this.cut(c)
        const moved = () => client.state === 'connected' && client.connectionId !== before
        await until(moved, 10_000, `client ${c} to reconnect`)
        if (this.connectionOf(c)) break
      }
    }
    const caughtUp = () =>
      this.peers.every((p) => p.client.state === 'connected') &&
      this.peers.every((p) =>
        [...p.policy].every((name) => p.watches.get(name)?.channel.state === 'subscribed'),
      ) &&
      this.allWatches.every(
        (w) =>
          !w.wanted ||
          w.removed ||
          (w.channel.state === 'subscribed' && w.problems(this.acked, true).length === 0),
      )
    // Caught up, and still so 300 ms later: a cut the client has not noticed yet is over too.
    let since: number | undefined
    const settled = () => {
      if (!caughtUp()) since = undefined
      else since ??= Date.now()
      return since !== undefined && Date.now() - since >= 300
    }
    const started = Date.now()
    const quiet = await until(settled, quietMs).then(
      () => 'the quiet period',
      () => `the quiet period (not caught up ${Date.now() - started} ms after it began)`,
    )
    this.check(quiet, true)
  }

  async close(): Promise<void> {
    this.cluster.onConnection = undefined
    for (const peer of this.peers) {
      peer.client.close()
      for (const proxy of peer.proxies) await proxy.close()
    }
  }
}

// ---- commands --------------------------------------------------------------------------------

/** What the preconditions need: which nodes are up. */
export interface Model {
  up: boolean[]
}

export type Command = fc.AsyncCommand<Model, World>

function command(
  text: string,
  check: (m: Readonly<Model>) => boolean,
  run: (m: Model, w: World) => Promise<void> | void,
): Command {
  return {
    check,
    async run(m, w) {
      await run(m, w)
      w.check(text)
    },
    toString: () => text,
  }
}

const always = () => true
const upCount = (m: Readonly<Model>) => m.up.filter(Boolean).length

/** Client `c` subscribes to channel `ch` (a new Channel, or the same one again: a resubscribe). */
export const sub = (c: number, ch: number) =>
  command(`sub(${c}, ${ch})`, always, (_, w) => w.subscribe(c, ch))
/** Client `c` unsubscribes (keeping its position: the next `sub` resumes). */
export const unsub = (c: number, ch: number) =>
  command(`unsub(${c}, ${ch})`, always, (_, w) => w.unsubscribe(c, ch))
/** Client `c` unsubscribes and subscribes again at once (a resume on the same connection). */
export const resub = (c: number, ch: number) =>
  command(`resub(${c}, ${ch})`, always, (_, w) => {
    w.unsubscribe(c, ch)
    w.subscribe(c, ch)
  })
/** The server subscribes client `c` to `ch` (`sb.subscribe`), now and on each of its new connections. */
export const ssub = (c: number, ch: number) =>
  command(`ssub(${c}, ${ch})`, always, (_, w) => w.serverSubscribe(c, ch))
/** The server unsubscribes client `c` from `ch` (`sb.unsubscribe`) and stops subscribing it. */
export const sunsub = (c: number, ch: number) =>
  command(`sunsub(${c}, ${ch})`, always, (_, w) => w.serverUnsubscribe(c, ch))
/** Client `c` removes the channel (the next `sub` is a fresh Channel). */
export const remove = (c: number, ch: number) =>
  command(`remove(${c}, ${ch})`, always, (_, w) => w.remove(c, ch))
/** Client `c` publishes `count` messages on `ch` (not awaited: acknowledged when they resolve). */
export const pub = (c: number, ch: number, count: number) =>
  command(`pub(${c}, ${ch}, ${count})`, always, (_, w) => w.clientPublish(c, ch, count))
/** The server (in-process node `n`, or the other one if it is down) publishes `count` messages. */
export const spub = (n: number, ch: number, count: number) =>
  command(`spub(${n}, ${ch}, ${count})`, always, (_, w) => w.serverPublish(n, ch, count))
/** The server publishes `count` messages on `ch`, one every `ms`, while the next commands run. */
export const stream = (n: number, ch: number, count: number, ms: number) =>
  command(`stream(${n}, ${ch}, ${count}, ${ms})`, always, (_, w) => w.stream(n, ch, count, ms))
/** A burst of big server publishes, past the send bound: slow-consumer cuts (4100). */
export const burst = (n: number, ch: number, count: number, size: number) =>
  command(`burst(${n}, ${ch}, ${count}, ${size})`, always, (_, w) => w.serverPublish(n, ch, count, size))
/** Client `c` publishes `count` messages and is cut at once: they are resent with their keys, and land once. */
export const pubCut = (c: number, ch: number, count: number) =>
  command(`pubCut(${c}, ${ch}, ${count})`, always, (_, w) => w.publishThenCut(c, ch, count))
/** Client `c`'s TCP connections are cut (whatever is in flight). */
export const cut = (c: number) => command(`cut(${c})`, always, (_, w) => w.cut(c))
/** Client `c`'s connections are cut `ms` from now, whatever the next commands are doing then. */
export const cutSoon = (c: number, ms: number) =>
  command(`cutSoon(${c}, ${ms})`, always, (_, w) => w.cutLater(c, ms))
/**
 * Client `c` is cut, `count` messages are published on each channel while it is away, and its
 * connection is cut again in the middle of the replay, after `after` replayed messages.
 */
export const cutInReplay = (c: number, count: number, after: number) =>
  command(`cutInReplay(${c}, ${count}, ${after})`, always, async (_, w) => {
    w.cut(c)
    for (let ch = 0; ch < CHANNEL_COUNT; ch++) w.serverPublish(0, ch, count)
    w.armReplayCut(c, after)
    await sleep(150)
  })
/**
 * Node `n` leaves: an in-process node drains (close 1012) while it publishes on every channel and
 * the other node does too; the process node is SIGKILLed.
 */
export const stop = (n: number) =>
  command(
    `stop(${n})`,
    (m) => m.up[n] === true && upCount(m) >= 2,
    async (m, w) => {
      m.up[n] = false
      await w.stopNode(n)
    },
  )
/** The `serve` process is drained with SIGTERM (its clients get 1012 and move on). */
export const term = () =>
  command(
    'term()',
    (m) => m.up[PROCESS_NODE] === true && upCount(m) >= 2,
    async (m, w) => {
      m.up[PROCESS_NODE] = false
      await (w.node(PROCESS_NODE) as ProcessNode).stop('SIGTERM')
    },
  )
/** Node `n` comes back on the same port. */
export const start = (n: number) =>
  command(
    `start(${n})`,
    (m) => m.up[n] === false,
    async (m, w) => {
      m.up[n] = true
      await w.node(n).start()
    },
  )
/** Time passes. */
export const wait = (ms: number) => command(`wait(${ms})`, always, () => sleep(ms))

const client = fc.nat(CLIENT_COUNT - 1)
const chan = fc.nat(CHANNEL_COUNT - 1)
const inProcess = fc.nat(1)
const node = fc.nat(NODE_COUNT - 1)

/** The command arbitraries, weighted towards what makes traffic and faults. */
export const commandArbitraries = [
  fc.tuple(client, chan).map(([c, ch]) => sub(c, ch)),
  fc.tuple(client, chan).map(([c, ch]) => sub(c, ch)),
  fc.tuple(client, chan).map(([c, ch]) => unsub(c, ch)),
  fc.tuple(client, chan).map(([c, ch]) => remove(c, ch)),
  fc.tuple(client, chan).map(([c, ch]) => ssub(c, ch)),
  fc.tuple(client, chan).map(([c, ch]) => ssub(c, ch)),
  fc.tuple(client, chan).map(([c, ch]) => sunsub(c, ch)),
  fc.tuple(client, chan, fc.integer({ min: 1, max: 8 })).map(([c, ch, n]) => pub(c, ch, n)),
  fc.tuple(inProcess, chan, fc.integer({ min: 1, max: 12 })).map(([n, ch, k]) => spub(n, ch, k)),
  fc.tuple(inProcess, chan, fc.integer({ min: 1, max: 12 })).map(([n, ch, k]) => spub(n, ch, k)),
  fc
    .tuple(inProcess, chan, fc.integer({ min: 5, max: 60 }), fc.integer({ min: 1, max: 10 }))
    .map(([n, ch, k, ms]) => stream(n, ch, k, ms)),
  fc
    .tuple(inProcess, chan, fc.integer({ min: 20, max: 60 }), fc.integer({ min: 300, max: 900 }))
    .map(([n, ch, k, size]) => burst(n, ch, k, size)),
  fc.tuple(client, chan).map(([c, ch]) => resub(c, ch)),
  client.map((c) => cut(c)),
  fc.tuple(client, chan, fc.integer({ min: 1, max: 8 })).map(([c, ch, n]) => pubCut(c, ch, n)),
  fc.tuple(client, fc.integer({ min: 0, max: 60 })).map(([c, ms]) => cutSoon(c, ms)),
  fc
    .tuple(client, fc.integer({ min: 5, max: 40 }), fc.integer({ min: 1, max: 10 }))
    .map(([c, k, after]) => cutInReplay(c, k, after)),
  node.map((n) => stop(n)),
  fc.constant(term()),
  node.map((n) => start(n)),
  fc.integer({ min: 0, max: 300 }).map((ms) => wait(ms)),
  fc.integer({ min: 0, max: 300 }).map((ms) => wait(ms)),
]

export const transportsArbitrary = fc.array(
  fc.constantFrom<TransportName>('websocket', 'sse', 'long-polling'),
  {
    minLength: CLIENT_COUNT,
    maxLength: CLIENT_COUNT,
  },
)

/** Runs one scenario: a fresh World on the cluster, the commands, the quiet period, the final check. */
export async function runScenario(
  cluster: Cluster,
  transports: readonly TransportName[],
  commands: Iterable<Command>,
  quietMs = 15_000,
): Promise<World> {
  const world = await World.create(cluster, transports)
  try {
    await fc.asyncModelRun(
      async () => ({ model: { up: cluster.nodes.map((n) => n.up) }, real: world }),
      commands,
    )
    await world.settle(quietMs)
    if (process.env.MODEL_VERBOSE) console.log(world.describe())
    if (process.env.MODEL_VERBOSE === '2') console.log(world.report('(verbose)', []))
    return world
  } finally {
    await world.close()
  }
}
