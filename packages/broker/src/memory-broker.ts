/**
 * The embedded single-node broker. A channel's stream comes into being with its first publish,
 * in the channel's empty epoch (see empty-epoch.ts), with an offset that grows by one per
 * publish; channels whose options ask for history keep a ring of their latest messages (bounded
 * by count and age), which is what recovery replays from. Reading a channel — its position,
 * history, recent messages, presence — never creates anything: a channel with no stream answers
 * from nothing (offset 0 of its empty epoch). A listener or presence members are held only while
 * they exist. A channel with no listener and no members is forgotten at once if it was never
 * published or has no history, and `channelTtlMs` after its last publish if it has — as
 * RedisBroker's keys expire — so channels nobody uses do not pile up. Its next stream starts a
 * new epoch, which is exactly what a client resuming from the old one must be told. Token
 * revocations (`revocations`, revocations.ts) are kept until their `expiresAt`.
 */
import type { JsonValue, StreamPosition } from '@switchboard/protocol'
import type {
  Broker,
  BrokerListener,
  BrokerMessage,
  BrokerPresenceApi,
  ControlCommand,
  ControlHandler,
  ControlResult,
  HistoryResult,
  PublishOptions,
  RecentOptions,
  ResolvedHistory,
  RoutedEvent,
  RouteHandler,
} from './broker.js'
import { answerControl } from './control.js'
import { EmptyEpochs } from './empty-epoch.js'
import { MemoryLifecycleLog } from './lifecycle.js'
import { MemoryUsers } from './memory-users.js'
import { PresenceRoom } from './presence-room.js'
import { MemoryRevocations } from './revocations.js'

/** How many idempotency keys each channel remembers. */
const MAX_KEYS_PER_CHANNEL = 1000
const DAY = 24 * 60 * 60 * 1000

interface Stored {
  message: BrokerMessage
  at: number
}

interface ChannelState {
  /** The stream's epoch; while `offset` is 0 (never published), the empty epoch it was read in. */
  epoch: string
  offset: number
  history: ResolvedHistory | undefined
  ring: Stored[]
  keys: Map<string, StreamPosition>
  listener: BrokerListener | undefined
  presence: PresenceRoom
  /** When the channel's stream came into being or last had a publish. */
  active: number
}

export interface MemoryBrokerOptions {
  /** The history options of a channel (from the server's channel options). */
  history?: (channel: string) => ResolvedHistory | undefined
  /** Clock in milliseconds; injectable for tests. */
  now?: () => number
  /**
   * An idle channel with history (no subscriber, no presence) is forgotten this long after its
   * last publish, with its history. Default 24 h, like RedisBroker's.
   */
  channelTtlMs?: number
}

export class MemoryBroker implements Broker {
  private readonly channels = new Map<string, ChannelState>()
  private readonly empty = new EmptyEpochs()
  private readonly historyOf: (channel: string) => ResolvedHistory | undefined
  private readonly now: () => number
  private readonly channelTtlMs: number
  private readonly sweeper: NodeJS.Timeout
  private closed = false
  private routeHandler: RouteHandler | undefined
  private controlHandler: ControlHandler | undefined
  readonly presence: BrokerPresenceApi
  readonly lifecycle: MemoryLifecycleLog
  readonly users: MemoryUsers
  readonly occupancy: MemoryUsers
  readonly revocations: MemoryRevocations

  constructor(options: MemoryBrokerOptions = {}) {
    this.historyOf = options.history ?? (() => undefined)
    this.now = options.now ?? Date.now
    this.lifecycle = new MemoryLifecycleLog(
      this.now,
      (subject, name) => (subject === 'user' ? this.users : this.occupancy).sizeOf(name) > 0,
    )
    this.channelTtlMs = options.channelTtlMs ?? DAY
    this.revocations = new MemoryRevocations(this.now, () => this.closed)
    this.sweeper = setInterval(
      () => {
        this.forgetStale()
        this.revocations.sweep()
      },
      Math.min(this.channelTtlMs, 60_000),
    )
    this.sweeper.unref()
    this.users = new MemoryUsers(this.now)
    this.occupancy = new MemoryUsers(this.now)
    this.presence = {
      add: async (channel, member) => {
        if (this.closed) throw new Error('broker is closed')
        this.state(channel).presence.add({ ...member })
      },
      remove: async (channel, connectionId, options) => {
        const state = this.channels.get(channel)
        if (!state) return
        state.presence.remove(connectionId, options?.graceMs ?? 0)
        this.forgetIfIdle(channel, state)
      },
      update: async (channel, connectionId, info) =>
        this.channels.get(channel)?.presence.update(connectionId, info) ?? false,
      list: async (channel) => this.channels.get(channel)?.presence.list() ?? [],
      users: async (channel) => this.channels.get(channel)?.presence.userList() ?? [],
      counts: async (channel) =>
        this.channels.get(channel)?.presence.counts() ?? { connections: 0, users: 0 },
    }
  }

  async publish(channel: string, data: JsonValue, options: PublishOptions = {}): Promise<StreamPosition> {
    if (this.closed) throw new Error('broker is closed')
    const state = this.state(channel)
    // The first publish makes the stream, in the epoch readers were told; the channel's next stream
    // (after this one is forgotten) gets another.
    if (state.offset === 0) this.empty.used(channel)
    if (options.key !== undefined) {
      const seen = state.keys.get(options.key)
      if (seen) return seen
    }
    state.offset += 1
    const message: BrokerMessage = {
      kind: 'message',
      channel,
      epoch: state.epoch,
      offset: state.offset,
      data,
    }
    if (options.except !== undefined) message.except = options.except
    const position = { epoch: state.epoch, offset: state.offset }
    if (options.key !== undefined) {
      if (state.keys.size >= MAX_KEYS_PER_CHANNEL) state.keys.delete(state.keys.keys().next().value!)
      state.keys.set(options.key, position)
    }
    state.active = this.now()
    if (state.history) {
      state.ring.push({ message, at: state.active })
      if (state.ring.length > state.history.size) state.ring.shift()
    }
    state.listener?.(message)
    this.forgetIfIdle(channel, state)
    return position
  }

  async subscribe(channel: string, listener: BrokerListener): Promise<void> {
    this.state(channel).listener = listener
  }

  async unsubscribe(channel: string): Promise<void> {
    const state = this.channels.get(channel)
    if (!state) return
    state.listener = undefined
    this.forgetIfIdle(channel, state)
  }

  async position(channel: string): Promise<StreamPosition> {
    const state = this.channels.get(channel)
    if (!state) return { epoch: this.empty.of(channel), offset: 0 }
    return { epoch: state.epoch, offset: state.offset }
  }

  async history(channel: string, since: StreamPosition): Promise<HistoryResult> {
    const state = this.channels.get(channel)
    if (!state) {
      // Nothing was ever published: only the empty stream's start is complete.
      const position = { epoch: this.empty.of(channel), offset: 0 }
      const complete = since.epoch === position.epoch && since.offset === 0
      return { complete, messages: [], position }
    }
    this.expire(state)
    const position = { epoch: state.epoch, offset: state.offset }
    const result: HistoryResult = { complete: false, messages: [], position }
    if (since.epoch === state.epoch && since.offset <= state.offset) {
      if (since.offset === state.offset) {
        result.complete = true
      } else {
        const first = state.ring[0]?.message.offset
        if (first !== undefined && first <= since.offset + 1) {
          result.complete = true
          result.messages = state.ring.filter((s) => s.message.offset > since.offset).map((s) => s.message)
        }
      }
    }
    return result
  }

  async recent(
    channel: string,
    limit: number,
    options: RecentOptions = {},
  ): Promise<{ messages: BrokerMessage[]; position: StreamPosition }> {
    const state = this.channels.get(channel)
    if (!state) return { messages: [], position: { epoch: this.empty.of(channel), offset: 0 } }
    this.expire(state)
    const { before } = options
    const older = before === undefined ? state.ring : state.ring.filter((s) => s.message.offset < before)
    const messages = limit > 0 ? older.slice(-limit).map((s) => s.message) : []
    return { messages, position: { epoch: state.epoch, offset: state.offset } }
  }

  /** One node: every connection is local, so the handler answers. */
  async route(connectionId: string, routed: RoutedEvent): Promise<boolean> {
    if (this.closed) throw new Error('broker is closed')
    return this.routeHandler?.(connectionId, routed) ?? false
  }

  onRoute(handler: RouteHandler): void {
    this.routeHandler = handler
  }

  /** One node: the command reaches this node's handler alone. */
  async control(command: ControlCommand): Promise<ControlResult> {
    if (this.closed) throw new Error('broker is closed')
    return { reached: 1, replies: [await answerControl(this.controlHandler, command)] }
  }

  onControl(handler: ControlHandler): void {
    this.controlHandler = handler
  }

  /** How many channels this broker holds anything for (a stream, a listener, presence members). */
  get channelCount(): number {
    return this.channels.size
  }

  /**
   * Forgets the idle channels with history whose last publish (or creation) is older than
   * `channelTtlMs` (runs on a timer; returns how many went).
   */
  forgetStale(): number {
    const oldest = this.now() - this.channelTtlMs
    let forgotten = 0
    for (const [channel, state] of this.channels) {
      if (state.listener || !state.presence.empty || state.active > oldest) continue
      this.channels.delete(channel)
      forgotten++
    }
    return forgotten
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper)
    this.closed = true
    for (const state of this.channels.values()) state.presence.clear()
    this.channels.clear()
    this.revocations.clear()
  }

  private state(channel: string): ChannelState {
    let state = this.channels.get(channel)
    if (!state) {
      const created: ChannelState = {
        epoch: this.empty.of(channel),
        offset: 0,
        history: this.historyOf(channel),
        ring: [],
        keys: new Map(),
        listener: undefined,
        presence: new PresenceRoom(
          channel,
          (event) => created.listener?.(event),
          () => this.forgetIfIdle(channel, created),
        ),
        active: this.now(),
      }
      state = created
      this.channels.set(channel, state)
    }
    return state
  }

  private expire(state: ChannelState): void {
    if (!state.history || state.history.ttlMs === Number.POSITIVE_INFINITY) return
    const oldest = this.now() - state.history.ttlMs
    let drop = 0
    while (drop < state.ring.length && state.ring[drop]!.at < oldest) drop++
    if (drop > 0) state.ring.splice(0, drop)
  }

  /** Forgets a channel nobody listens to or is present in, unless it has a published history to keep. */
  private forgetIfIdle(channel: string, state: ChannelState): void {
    if (state.listener || !state.presence.empty || (state.history && state.offset > 0)) return
    if (this.channels.get(channel) === state) this.channels.delete(channel)
  }
}
