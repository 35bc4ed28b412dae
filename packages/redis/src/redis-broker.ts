/**
 * `RedisBroker`: the Broker contract on Redis, so several Switchboard nodes share channels,
 * history and presence. Two connections per node: one for commands (publishes, history reads,
 * presence), with no offline queue and no retries, so an operation while Redis is unreachable
 * fails at once — a publish is rejected, never silently parked or applied twice; and one for
 * pub/sub (channel-streams.ts). Each operation is one Lua script (scripts.ts), atomic in Redis.
 * Its parts for several nodes: presence.ts, node-routes.ts, node-control.ts, node-revocations.ts.
 */
import { randomBytes } from 'node:crypto'
import type {
  Broker,
  BrokerListener,
  BrokerMessage,
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
import { BrokerOutcomeUnknownError } from '@switchboard/broker'
import type { DataValue, StreamPosition } from '@switchboard/protocol'
import { Redis, type RedisOptions, ReplyError } from 'ioredis'
import { ChannelStreams } from './channel-streams.js'
import { type Keys, keysFor, occupancyKeys } from './keys.js'
import { RedisLifecycleLog } from './lifecycle-log.js'
import { NodeControl } from './node-control.js'
import { NodeRevocations } from './node-revocations.js'
import { NodeRoutes } from './node-routes.js'
import { NodePresence } from './presence.js'
import { PUBLISH, READ } from './scripts.js'
import { NodeUsers } from './users.js'
import { dataJson, decodeEntry, type HistoryEntry } from './wire.js'

export interface RedisBrokerOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). Default: localhost:6379. */
  url?: string
  /** ioredis options, applied over the ones the URL gives. */
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

function connection(options: RedisBrokerOptions, role: string, commandTimeout: number): Redis {
  const base: RedisOptions = {
    connectionName: `switchboard-${role}`,
    // Fail instead of queueing: an operation Redis never saw must be reported as not done.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // A command in flight when the connection dropped is never sent again behind its caller's back.
    autoResendUnfulfilledCommands: false,
    commandTimeout,
    // A connection that stopped answering is destroyed this soon after we give up on it.
    disconnectTimeout: 500,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    ...options.redis,
  }
  return options.url ? new Redis(options.url, base) : new Redis(base)
}

export class RedisBroker implements Broker {
  /** Settles once both connections are up and this node has announced itself. */
  readonly ready: Promise<void>
  readonly presence: NodePresence
  /** Lifecycle events for the webhooks: a stream (lifecycle-log.ts). */
  readonly lifecycle: RedisLifecycleLog
  /** The user index (users.ts), reaped like presence when a node dies. */
  readonly users: NodeUsers
  /** Which nodes have subscribers of each channel: the user index's shape (occupancyKeys). */
  readonly occupancy: NodeUsers
  readonly revocations: NodeRevocations
  /** This node's id in Redis: presence members are tagged with it, connection ids start with it. */
  readonly nodeId = randomBytes(8).toString('base64url')
  private readonly redis: Redis
  private readonly sub: Redis
  private readonly keys: Keys
  private readonly streams: ChannelStreams
  private readonly routes: NodeRoutes
  private readonly controls: NodeControl
  private readonly historyOf: (channel: string) => ResolvedHistory | undefined
  private readonly now: () => number
  private readonly channelTtlMs: number
  private closed: Promise<void> | undefined

  constructor(options: RedisBrokerOptions = {}) {
    const commandTimeout = options.commandTimeoutMs ?? 5000
    this.keys = keysFor(options.prefix ?? 'switchboard:')
    this.historyOf = options.history ?? (() => undefined)
    this.now = options.now ?? Date.now
    this.channelTtlMs = options.channelTtlMs ?? DAY
    this.redis = connection(options, 'commands', commandTimeout)
    this.sub = connection(options, 'pubsub', commandTimeout)
    const log = options.logger ?? { warn: (m: string) => console.warn(m) }
    const onError = (role: string) => {
      let reported = false
      return (err: unknown) => {
        if (reported) return
        reported = true
        log.warn(`redis broker (${role}): ${err instanceof Error ? err.message : String(err)}`)
      }
    }
    for (const [conn, role] of [
      [this.redis, 'commands'],
      [this.sub, 'pubsub'],
    ] as const) {
      let report = onError(role)
      conn.on('error', (err) => report(err))
      conn.on('ready', () => {
        report = onError(role)
      })
    }
    const streamError = (err: unknown) =>
      log.warn(`redis broker (pubsub): ${err instanceof Error ? err.message : String(err)}`)
    this.streams = new ChannelStreams(
      this.sub,
      this.keys,
      this,
      { intervalMs: options.probe?.intervalMs ?? 5000, timeoutMs: options.probe?.timeoutMs ?? 2000 },
      streamError,
    )
    this.presence = new NodePresence(
      this.redis,
      this.keys,
      this.nodeId,
      {
        heartbeatMs: options.presence?.heartbeatMs ?? 2000,
        nodeTtlMs: options.presence?.nodeTtlMs ?? 6000,
      },
      (err) => {
        log.warn(`redis broker (presence): ${err instanceof Error ? err.message : String(err)}`)
        // A heartbeat that timed out means the command connection is open but silent: restart it.
        if (err instanceof Error && /timed out/i.test(err.message)) this.redis.disconnect(true)
      },
    )
    const liveness = {
      heartbeatMs: options.presence?.heartbeatMs ?? 2000,
      nodeTtlMs: options.presence?.nodeTtlMs ?? 6000,
    }
    this.users = new NodeUsers(this.redis, this.keys, this.nodeId, liveness, this.now, (err) =>
      log.warn(`redis broker (users): ${err instanceof Error ? err.message : String(err)}`),
    )
    const occupancy = occupancyKeys(this.keys)
    this.occupancy = new NodeUsers(this.redis, occupancy, this.nodeId, liveness, this.now, (err) =>
      log.warn(`redis broker (occupancy): ${err instanceof Error ? err.message : String(err)}`),
    )
    this.lifecycle = new RedisLifecycleLog(
      this.redis,
      this.keys,
      (subject, name) => (subject === 'user' ? this.keys.user(name) : occupancy.user(name)),
      options.lifecycleMaxEvents,
    )
    this.routes = new NodeRoutes(this.redis, this.sub, this.keys, this.nodeId)
    this.controls = new NodeControl(this.redis, this.sub, this.keys, this.nodeId)
    this.revocations = new NodeRevocations(this.redis, this.sub, this.keys, this.now)
    this.ready = Promise.all([whenReady(this.redis), whenReady(this.sub)]).then(async () => {
      await this.redis.hsetnx(this.keys.epochs(), 'seed', seedCandidate())
      await this.routes.start()
      await this.controls.start()
      await this.revocations.start()
      await this.presence.heartbeat()
      this.presence.start()
      await this.users.heartbeat()
      this.users.start()
      await this.occupancy.heartbeat()
      this.occupancy.start()
      this.streams.start()
    })
    // `ready` is for callers who wait; an unobserved failure must not crash the process.
    this.ready.catch(() => {})
  }

  async publish(channel: string, data: DataValue, options: PublishOptions = {}): Promise<StreamPosition> {
    if (this.closed) throw new Error('broker is closed')
    // Refuses data no codec can carry before the script takes an offset; bytes as `$bin`.
    const text = dataJson(data)
    const history = this.historyOf(channel)
    const historyTtl = history ? Math.min(history.ttlMs, this.channelTtlMs) : this.channelTtlMs
    const reply = (await PUBLISH.run(this.redis, this.channelKeys(channel), [
      seedCandidate(),
      this.channelTtlMs,
      text,
      options.except === undefined ? 'null' : JSON.stringify(options.except),
      options.key ?? '',
      history?.size ?? 0,
      Math.floor(this.now()),
      Math.ceil(historyTtl),
      this.keys.pubsub(channel),
      channel,
    ]).catch((err: unknown) => {
      throw publishFailure(err)
    })) as [string, number, number]
    return { epoch: reply[0], offset: reply[1] }
  }

  async subscribe(channel: string, listener: BrokerListener): Promise<void> {
    if (this.closed) throw new Error('broker is closed')
    await this.streams.subscribe(channel, listener)
  }

  async unsubscribe(channel: string): Promise<void> {
    await this.streams.unsubscribe(channel)
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
    this.streams.stop()
    this.controls.stop()
    this.revocations.stop()
    // Take this node's members out (each with a leave event); if Redis is down, the others reap them.
    await this.presence.stop().catch(() => {})
    await this.users.stop().catch(() => {})
    await this.occupancy.stop().catch(() => {})
    await Promise.allSettled([this.redis.quit(), this.sub.quit()])
    this.redis.disconnect()
    this.sub.disconnect()
  }

  private channelKeys(channel: string): string[] {
    return [this.keys.meta(channel), this.keys.hist(channel), this.keys.idem(channel), this.keys.epochs()]
  }

  private async read(channel: string, mode: Array<string | number>): Promise<[string, number, string[]]> {
    if (this.closed) throw new Error('broker is closed')
    const reply = (await READ.run(this.redis, this.channelKeys(channel), [
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

/**
 * A fresh candidate for the shared empty-epoch seed, sent with every script that may need it: the
 * first to find none sets it. Fresh each time, so a Redis restarted empty gets a seed it never
 * had, and its channels new epochs.
 */
function seedCandidate(): string {
  return randomBytes(9).toString('base64url')
}

/**
 * What a failed publish means. Redis answered with an error (`ReplyError`: the script did not
 * run, or failed before its first write), or the command was never written (the connection was
 * not ready: ioredis refuses at once, without an offline queue): not published, the error as it
 * is. Anything else — the command timed out, or the connection dropped while it was in flight —
 * may still be carried out by Redis (it may be asleep, or just slow): `BrokerOutcomeUnknownError`.
 */
function publishFailure(err: unknown): unknown {
  if (err instanceof ReplyError) return err
  if (err instanceof Error && err.message.includes("Stream isn't writeable")) return err
  const reason = err instanceof Error ? err.message : String(err)
  return new BrokerOutcomeUnknownError(
    `publish sent to Redis but not confirmed (${reason}); it may still land`,
    {
      cause: err,
    },
  )
}

function whenReady(conn: Redis): Promise<void> {
  if (conn.status === 'ready') return Promise.resolve()
  return new Promise((resolve, reject) => {
    const onReady = () => {
      conn.off('end', onEnd)
      resolve()
    }
    const onEnd = () => {
      conn.off('ready', onReady)
      reject(new Error('redis connection closed before it was ready'))
    }
    conn.once('ready', onReady)
    conn.once('end', onEnd)
  })
}
