/**
 * `RedisBroker`: the Broker contract on Redis, so several Switchboard nodes share channels,
 * history and presence. Two connections per node: one for commands (publishes, history reads,
 * presence), with no offline queue and no retries, so an operation while Redis is unreachable
 * fails at once — a publish is rejected, never silently parked or applied twice; and one for
 * pub/sub (channel-streams.ts). Each operation is one Lua script (scripts.ts), atomic in Redis.
 * Its parts for several nodes: presence.ts, node-routes.ts, node-control.ts, node-revocations.ts.
 *
 * Three ways to run (connections.ts): one Redis (`url`, the default); a Redis Cluster
 * (`cluster`), where every channel's keys share a slot and its messages go by sharded pub/sub;
 * or several independent Redis instances (`shards`), each channel — its stream, history,
 * idempotency keys, presence and pub/sub — on the one that consistent hashing gives it
 * (hash-ring.ts), and everything that is not a channel's (the user and occupancy indexes, the
 * lifecycle log, revocations, control commands, `sendTo`) on the first of the list, the home.
 */
import { randomBytes } from 'node:crypto'
import type {
  Broker,
  BrokerListener,
  BrokerMessage,
  BrokerPresenceApi,
  ControlCommand,
  ControlHandler,
  ControlOptions,
  ControlResult,
  HistoryResult,
  PublishOptions,
  RecentOptions,
  ResolvedHistory,
  RoutedEvent,
  RouteHandler,
} from '@switchboard/broker'
import type { DataValue, StreamPosition } from '@switchboard/protocol'
import type { RedisOptions } from 'ioredis'
import { ChannelStreams } from './channel-streams.js'
import {
  type ClusterConfig,
  type Commands,
  connect,
  message,
  reportErrors,
  shardName,
  targetsOf,
  whenReady,
} from './connections.js'
import { ExpiryRefresh, expirySlackMs } from './expiry-refresh.js'
import { HashRing } from './hash-ring.js'
import { BUCKETS, bucketEpochs, type Keys, keysFor, occupancyKeys } from './keys.js'
import { RedisLifecycleLog } from './lifecycle-log.js'
import { NodeControl } from './node-control.js'
import { NodeRevocations } from './node-revocations.js'
import { NodeRoutes } from './node-routes.js'
import { NodePresence } from './presence.js'
import { publishFailure } from './publish-failure.js'
import { PubSub } from './pubsub.js'
import { PUBLISH, READ } from './scripts.js'
import { ShardedPresence } from './sharded-presence.js'
import { NodeUsers } from './users.js'
import { dataJson, decodeEntry, type HistoryEntry } from './wire.js'

export interface RedisBrokerOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). Default: localhost:6379. */
  url?: string
  /**
   * A Redis Cluster instead of one Redis: some of its nodes (the rest is discovered) and ioredis
   * Cluster options. Channels spread over the cluster's slots; messages go by sharded pub/sub.
   */
  cluster?: ClusterConfig
  /**
   * Several independent Redis instances instead of one (no Cluster needed): each channel lives on
   * the one consistent hashing of its name picks; everything else on the first (docs/scaling.md).
   * Every node must be given the same URLs.
   */
  shards?: string[]
  /** ioredis options, applied over the ones the URL gives (for a cluster: each node's connection). */
  redis?: RedisOptions
  /** Prefix of every key and pub/sub channel; nodes that share channels share it. Default `switchboard:`. */
  prefix?: string
  /** The history options of a channel (from the server's channel options); undefined: no history. */
  history?: (channel: string) => ResolvedHistory | undefined
  /** Clock in milliseconds for history ttl; injectable for tests. */
  now?: () => number
  /** A channel's position (and so its epoch) is forgotten after this long without a publish. Default 24 h. */
  channelTtlMs?: number
  /**
   * Presence and the user index: the node heartbeat, and how long a silent node's members and
   * user-index entries stay. Default 2 s and 6 s.
   */
  presence?: { heartbeatMs?: number; nodeTtlMs?: number }
  /** Liveness probe of the pub/sub connection: ping interval and timeout. Default 5 s and 2 s. */
  probe?: { intervalMs?: number; timeoutMs?: number }
  /** How long a command may wait for Redis before it is failed. Default 5 s. */
  commandTimeoutMs?: number
  /** Lifecycle events kept for the webhooks, at most (about: the stream is trimmed lazily). Default 100,000. */
  lifecycleMaxEvents?: number
  /** Where connection trouble is reported (one line per outage). Default: console warnings. */
  logger?: { warn(message: string): void }
}

const DAY = 24 * 60 * 60 * 1000

/** One Redis of the broker (one Redis, a cluster, or one of the shards): its connections and parts. */
interface Shard {
  readonly redis: Commands
  readonly sub: PubSub
  readonly streams: ChannelStreams
  readonly presence: NodePresence
}

export class RedisBroker implements Broker {
  /** Settles once both connections are up and this node has announced itself. */
  readonly ready: Promise<void>
  readonly presence: BrokerPresenceApi
  /** Lifecycle events for the webhooks: a stream (lifecycle-log.ts). */
  readonly lifecycle: RedisLifecycleLog
  /** The user index (users.ts), reaped like presence when a node dies. */
  readonly users: NodeUsers
  /** Which nodes have subscribers of each channel: the user index's shape (occupancyKeys). */
  readonly occupancy: NodeUsers
  readonly revocations: NodeRevocations
  /** This node's id in Redis: presence members are tagged with it, connection ids start with it. */
  readonly nodeId = randomBytes(8).toString('base64url')
  /** The Redis of every non-channel key (the first shard; the only one unless `shards`). */
  private readonly redis: Commands
  private readonly shards: Shard[]
  private readonly shardOf: (channel: string) => number
  private readonly keys: Keys
  private readonly routes: NodeRoutes
  private readonly controls: NodeControl
  private readonly historyOf: (channel: string) => ResolvedHistory | undefined
  private readonly now: () => number
  private readonly channelTtlMs: number
  private readonly expiries = new ExpiryRefresh()
  private closed: Promise<void> | undefined

  constructor(options: RedisBrokerOptions = {}) {
    const targets = targetsOf(options)
    const layout = 'cluster' in targets[0]! ? 'cluster' : 'single'
    const settings = { redis: options.redis, commandTimeout: options.commandTimeoutMs ?? 5000 }
    this.keys = keysFor(options.prefix ?? 'switchboard:', layout)
    this.historyOf = options.history ?? (() => undefined)
    this.now = options.now ?? Date.now
    this.channelTtlMs = options.channelTtlMs ?? DAY
    const log = options.logger ?? { warn: (m: string) => console.warn(m) }
    const liveness = {
      heartbeatMs: options.presence?.heartbeatMs ?? 2000,
      nodeTtlMs: options.presence?.nodeTtlMs ?? 6000,
    }
    const probe = {
      intervalMs: options.probe?.intervalMs ?? 5000,
      timeoutMs: options.probe?.timeoutMs ?? 2000,
    }
    const ring = targets.length > 1 ? new HashRing(options.shards!.map(shardName)) : undefined
    this.shardOf = ring ? (channel) => ring.shardOf(channel) : () => 0
    this.shards = targets.map((target, i) => {
      const where = targets.length > 1 ? ` ${shardName(options.shards![i]!)}` : ''
      const redis = connect(target, 'commands', settings)
      const subConn = connect(target, 'pubsub', settings)
      reportErrors(redis, `commands${where}`, log)
      reportErrors(subConn, `pubsub${where}`, log)
      const sub = new PubSub(subConn, layout === 'cluster')
      const streams = new ChannelStreams(sub, this.keys, this, probe, (err) =>
        log.warn(`redis broker (pubsub${where}): ${message(err)}`),
      )
      const presence = new NodePresence(redis, this.keys, this.nodeId, liveness, (err) => {
        log.warn(`redis broker (presence${where}): ${message(err)}`)
        // A heartbeat that timed out means the command connection is open but silent: restart it.
        if (err instanceof Error && /timed out/i.test(err.message)) redis.disconnect(true)
      })
      return { redis, sub, streams, presence }
    })
    const home = this.shards[0]!
    this.redis = home.redis
    this.presence =
      this.shards.length > 1
        ? new ShardedPresence(
            this.shards.map((s) => s.presence),
            this.shardOf,
          )
        : home.presence
    this.users = new NodeUsers(this.redis, this.keys, this.nodeId, liveness, this.now, (err) =>
      log.warn(`redis broker (users): ${message(err)}`),
    )
    const occupancy = occupancyKeys(this.keys)
    this.occupancy = new NodeUsers(this.redis, occupancy, this.nodeId, liveness, this.now, (err) =>
      log.warn(`redis broker (occupancy): ${message(err)}`),
    )
    this.lifecycle = new RedisLifecycleLog(
      this.redis,
      this.keys,
      (subject, name) => (subject === 'user' ? this.keys.user(name) : occupancy.user(name)),
      options.lifecycleMaxEvents,
    )
    this.routes = new NodeRoutes(this.redis, home.sub, this.keys, this.nodeId)
    this.controls = new NodeControl(this.redis, home.sub, this.keys, this.nodeId)
    this.revocations = new NodeRevocations(this.redis, home.sub, this.keys, this.now)
    this.ready = this.start()
    // `ready` is for callers who wait; an unobserved failure must not crash the process.
    this.ready.catch(() => {})
  }

  private async start(): Promise<void> {
    await Promise.all(this.shards.flatMap((s) => [whenReady(s.redis), whenReady(s.sub.conn)]))
    await this.seedEpochs()
    await this.routes.start()
    await this.controls.start()
    await this.revocations.start()
    for (const shard of this.shards) {
      await shard.presence.heartbeat()
      shard.presence.start()
    }
    await this.users.heartbeat()
    this.users.start()
    await this.occupancy.heartbeat()
    this.occupancy.start()
    for (const shard of this.shards) shard.streams.start()
  }

  /**
   * The empty-epoch seed, made once by whoever comes first (the scripts make it too, after a
   * restart lost it). On a cluster each bucket has its own `epochs` hash in its own slot: all of
   * them are seeded now, so reading a channel never has to create one.
   */
  private async seedEpochs(): Promise<void> {
    if (this.keys.layout !== 'cluster') {
      await Promise.all(this.shards.map((s) => s.redis.hsetnx(this.keys.epochs(''), 'seed', seedCandidate())))
      return
    }
    const seeds: Promise<number>[] = []
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seeds.push(this.redis.hsetnx(bucketEpochs(this.keys.prefix, bucket), 'seed', seedCandidate()))
    }
    await Promise.all(seeds)
  }

  async publish(channel: string, data: DataValue, options: PublishOptions = {}): Promise<StreamPosition> {
    if (this.closed) throw new Error('broker is closed')
    // Refuses data no codec can carry before the script takes an offset; bytes as `$bin`.
    const text = dataJson(data)
    const history = this.historyOf(channel)
    const historyTtl = Math.ceil(history ? Math.min(history.ttlMs, this.channelTtlMs) : this.channelTtlMs)
    // The keys outlive their ttl by the slack; this node refreshes them within half of it.
    const slack = expirySlackMs(historyTtl)
    const refresh = this.expiries.due(channel, slack)
    const reply = (await PUBLISH.of(this.keys.publishCommand)
      .run(this.shard(channel).redis, this.channelKeys(channel), [
        seedCandidate(),
        this.channelTtlMs + slack,
        text,
        options.except === undefined ? 'null' : JSON.stringify(options.except),
        options.key ?? '',
        history?.size ?? 0,
        Math.floor(this.now()),
        historyTtl + slack,
        this.keys.pubsub(channel),
        channel,
        refresh ? '1' : '0',
      ])
      .catch((err: unknown) => {
        throw publishFailure(err)
      })) as [string, number, number]
    return { epoch: reply[0], offset: reply[1] }
  }

  async subscribe(channel: string, listener: BrokerListener): Promise<void> {
    if (this.closed) throw new Error('broker is closed')
    await this.shard(channel).streams.subscribe(channel, listener)
  }

  async unsubscribe(channel: string): Promise<void> {
    await this.shard(channel).streams.unsubscribe(channel)
  }

  async position(channel: string): Promise<StreamPosition> {
    const [epoch, offset] = await this.read(channel, ['pos'])
    return { epoch, offset }
  }

  async history(channel: string, since: StreamPosition): Promise<HistoryResult> {
    const [epoch, offset, entries] = await this.read(channel, ['since', since.epoch, since.offset])
    const position = { epoch, offset }
    const result: HistoryResult = { complete: false, messages: [], position }
    if (since.epoch !== epoch || since.offset > offset) return result
    if (since.offset === offset) return { ...result, complete: true }
    const kept = this.retained(channel, epoch, entries)
    // Complete only if the window starts right after `since` and has no hole up to the head.
    let expected = since.offset + 1
    for (const { message } of kept) {
      if (message.offset !== expected) return result
      expected++
    }
    if (expected !== offset + 1) return result
    return { complete: true, messages: kept.map((e) => e.message), position }
  }

  async recent(
    channel: string,
    limit: number,
    options: RecentOptions = {},
  ): Promise<{ messages: BrokerMessage[]; position: StreamPosition }> {
    const count = Math.max(0, Math.floor(limit))
    const { before } = options
    const mode = before === undefined ? ['recent', count] : ['before', count, Math.floor(before)]
    const [epoch, offset, entries] = await this.read(channel, mode)
    const retained = count > 0 ? this.retained(channel, epoch, entries).map((e) => e.message) : []
    // The script counts entries back from the head; the offsets themselves are checked here too.
    const messages = before === undefined ? retained : retained.filter((m) => m.offset < before)
    return { messages, position: { epoch, offset } }
  }

  route(connectionId: string, routed: RoutedEvent): Promise<boolean> {
    if (this.closed) return Promise.reject(new Error('broker is closed'))
    return this.routes.route(connectionId, routed)
  }

  onRoute(handler: RouteHandler): void {
    this.routes.onRoute(handler)
  }

  control(command: ControlCommand, options?: ControlOptions): Promise<ControlResult> {
    if (this.closed) return Promise.reject(new Error('broker is closed'))
    return this.controls.control(command, options)
  }

  onControl(handler: ControlHandler): void {
    this.controls.onControl(handler)
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown()
    return this.closed
  }

  private async shutdown(): Promise<void> {
    for (const shard of this.shards) shard.streams.stop()
    this.controls.stop()
    this.revocations.stop()
    // Take this node's members out (each with a leave event); if Redis is down, the others reap them.
    await Promise.all(this.shards.map((s) => s.presence.stop().catch(() => {})))
    await this.users.stop().catch(() => {})
    await this.occupancy.stop().catch(() => {})
    await Promise.allSettled(this.shards.flatMap((s) => [s.redis.quit(), s.sub.conn.quit()]))
    for (const shard of this.shards) {
      shard.redis.disconnect()
      shard.sub.conn.disconnect()
    }
  }

  private shard(channel: string): Shard {
    return this.shards[this.shardOf(channel)]!
  }

  private channelKeys(channel: string): string[] {
    const k = this.keys
    return [k.meta(channel), k.hist(channel), k.idem(channel), k.epochs(channel)]
  }

  private async read(channel: string, mode: Array<string | number>): Promise<[string, number, string[]]> {
    if (this.closed) throw new Error('broker is closed')
    const reply = (await READ.run(this.shard(channel).redis, this.channelKeys(channel), [
      seedCandidate(),
      channel,
      ...mode,
    ])) as [string, number, string[]]
    return [reply[0], reply[1], reply[2] ?? []]
  }

  /** Decodes entries and drops the oldest ones while they are past the channel's ttl. */
  private retained(channel: string, epoch: string, entries: string[]): HistoryEntry[] {
    const decoded: HistoryEntry[] = []
    for (const raw of entries) {
      const entry = decodeEntry(channel, epoch, raw)
      if (entry) decoded.push(entry)
    }
    const ttl = this.historyOf(channel)?.ttlMs ?? Number.POSITIVE_INFINITY
    if (ttl === Number.POSITIVE_INFINITY) return decoded
    const oldest = this.now() - ttl
    let drop = 0
    while (drop < decoded.length && decoded[drop]!.at < oldest) drop++
    return drop > 0 ? decoded.slice(drop) : decoded
  }
}

/** This process's random part of the seed candidates; a counter makes each one new. */
const SEED_BASE = randomBytes(9).toString('base64url')
let seeds = 0

/**
 * A fresh candidate for the shared empty-epoch seed, sent with every script that may need it: the
 * first to find none sets it. Fresh each time (a random part per process and a count), so a Redis
 * restarted empty gets a seed it never had, and its channels new epochs — without drawing random
 * bytes on every publish.
 */
function seedCandidate(): string {
  seeds++
  return `${SEED_BASE}${seeds.toString(36)}`
}
