/**
 * A channel subscription: its own state machine ('unsubscribed' | 'subscribing' | 'subscribed',
 * changed only through `#setState`), the last stream position it handled, and the rules that make
 * delivery exactly-once for the application: resubscribe after every reconnect with
 * `since: {epoch, offset}`, drop any message at or below the last offset of the same epoch, and
 * say so with a `recovery` event when the server could not fill the gap.
 */
import {
  ErrorCode,
  type JsonValue,
  type MessageFrame,
  type PresenceCounts,
  type PresenceFrame,
  type PresenceUser,
  type PublishResult,
  type StreamPosition,
  type SubscribeResult,
} from '@switchboard/protocol'
import { createBackoff } from '../util/backoff.js'
import { Emitter } from '../util/emitter.js'
import type { SwitchboardError } from '../util/errors.js'

export type ChannelState = 'unsubscribed' | 'subscribing' | 'subscribed'

/** Why a channel changed state. */
export type ChannelStateReason =
  | 'subscribe'
  | 'subscribed'
  | 'unsubscribe'
  | 'disconnected'
  | 'resubscribe'
  | 'subscribe_failed'
  | 'retry'
  | 'client_closed'
  | 'server_unsubscribe'

export interface RecoveryInfo {
  /** false: messages after `since` were lost; reload state another way. */
  recovered: boolean
  /** The position the client asked to resume after. */
  since: StreamPosition
  /** The channel's position now. */
  position: StreamPosition
}

/** One publication on a channel: its data and its stream position. */
export interface ChannelMessage<T> {
  data: T
  epoch: string
  offset: number
}

/**
 * What one presence frame changed (the server coalesces a window's changes into one frame): the
 * users that joined, left or updated their info, each at most once, and the counts when they moved.
 */
export interface PresenceChange {
  joins: PresenceUser[]
  leaves: PresenceUser[]
  updates: PresenceUser[]
  counts?: PresenceCounts
}

export interface ChannelEvents<T> {
  /** Each publication once, in order, across reconnects, with its position (`{ data, epoch, offset }`). */
  publication: ChannelMessage<T>
  state: { oldState: ChannelState; newState: ChannelState; reason: ChannelStateReason }
  subscribed: SubscribeResult
  /** After every resubscribe with `since`. `recovered: false` means a gap. */
  recovery: RecoveryInfo
  /** A presence frame: joins, leaves, updates and counts (`members` and `presenceCounts` already show it). */
  presence: PresenceChange
  /** A subscribe the server refused (the channel is then unsubscribed), or a subscribe timeout. */
  error: SwitchboardError
}

/** `replied`: the error is the server's answer (not the client's own timer or a drop). */
export type SubscribeOutcome =
  | { ok: true; result: SubscribeResult }
  | { ok: false; error: SwitchboardError; replied?: boolean }

export interface PublishOptions {
  timeout?: number
  signal?: AbortSignal
  /** Idempotency key; one is generated when absent, so a retried publish lands once. */
  key?: string
  /**
   * `false`: not kept in the client's outbox (the `outbox` option) — for what is stale after a
   * reload, like a typing notice. It waits in memory while not connected, as without an outbox.
   * Default true.
   */
  durable?: boolean
}

/** What a channel needs from its client. */
export interface ChannelHost {
  isConnected(): boolean
  /** Sends a subscribe; `done` is called synchronously with the reply, before any later frame. */
  sendSubscribe(
    channel: string,
    since: StreamPosition | undefined,
    done: (outcome: SubscribeOutcome) => void,
  ): void
  sendUnsubscribe(channel: string): void
  publish(channel: string, data: unknown, options?: PublishOptions): Promise<PublishResult>
  updatePresence(channel: string, info: unknown, options?: PresenceUpdateOptions): Promise<void>
}

export interface PresenceUpdateOptions {
  timeout?: number
  signal?: AbortSignal
}

/** Delays between subscribes the server refused for now: 0.25 s doubling to 10 s, jittered. */
const RETRY_BACKOFF = createBackoff({ base: 250, max: 10_000 })

export class Channel<T = unknown> extends Emitter<ChannelEvents<T>> {
  readonly name: string
  readonly #host: ChannelHost
  #state: ChannelState = 'unsubscribed'
  /** Whether the application wants this subscription. */
  #wanted = false
  /** Whether the server subscribed this connection to the channel (`sb.subscribe`). */
  #server = false
  /** The position sent in this connection's `resume` URL parameter, until the server answers it. */
  #sent: StreamPosition | undefined
  #position: StreamPosition | undefined
  /** `'members'` presence channels: who is there, by user id, as of the last reply and frames. */
  #members = new Map<string, PresenceUser>()
  /** Presence channels: the counts as of the last reply and frames. */
  #counts: PresenceCounts | undefined
  /** The info given to `updatePresence`, sent again after each resubscribe (a new connection starts from the server's). */
  #presenceInfo: { info: unknown } | undefined
  /** Counts subscribe attempts, so a late reply to an abandoned one is ignored. */
  #generation = 0
  /** Subscribes the server answered `unavailable` in a row, and the timer of the next try. */
  #retries = 0
  #retryTimer: ReturnType<typeof setTimeout> | undefined

  /** Created by `SwitchboardClient.channel(name)`; not meant to be constructed directly. */
  constructor(name: string, host: ChannelHost) {
    super()
    this.name = name
    this.#host = host
  }

  get state(): ChannelState {
    return this.#state
  }

  /** The last position handled: the one sent as `since` on the next subscribe. */
  get position(): StreamPosition | undefined {
    return this.#position ? { ...this.#position } : undefined
  }

  /**
   * Who is in the channel, one entry per user (`{ userId, info?, connections }`; a user with two
   * tabs appears once), from the subscribe reply and the presence frames since. `connections` is
   * as of the reply or the user's latest join or update. Empty on channels without presence and
   * on `'counts'` channels.
   */
  get members(): PresenceUser[] {
    return [...this.#members.values()]
  }

  /** How many connections and users the channel has (any presence mode); undefined without presence. */
  get presenceCounts(): Readonly<PresenceCounts> | undefined {
    return this.#counts
  }

  /**
   * Replaces this client's presence `info` on the channel (a `'members'` channel whose options
   * allow `clientUpdate`); the others see it in the next presence frame's `updates`. Resolves once
   * the server took it; rejects with a SwitchboardError (`forbidden`, `not_subscribed`,
   * `unavailable`, `timeout`). The info is sent again after every resubscribe.
   */
  updatePresence(info: JsonValue, options?: PresenceUpdateOptions): Promise<void> {
    this.#presenceInfo = { info }
    return this.#host.updatePresence(this.name, info, options)
  }

  /** Whether the server subscribed the client to this channel (see the client's `serverSubscribed`). */
  get serverSide(): boolean {
    return this.#server
  }

  /** Subscribes now if connected, else as soon as the client connects. */
  subscribe(): void {
    if (this.#wanted) return
    this.#wanted = true
    this.#setState('subscribing', 'subscribe')
    if (this.#host.isConnected()) this.#sendSubscribe()
  }

  /**
   * Stops the subscription, a server-side one too; the position is kept, so a later `subscribe()`
   * resumes.
   */
  unsubscribe(): void {
    if (!this.#wanted && !this.#server) return
    this.#wanted = false
    this.#server = false
    this.#sent = undefined
    this.#generation++
    clearTimeout(this.#retryTimer)
    if (this.#host.isConnected()) this.#host.sendUnsubscribe(this.name)
    this.#setState('unsubscribed', 'unsubscribe')
  }

  /** Publishes to this channel; resolves with the message's position once the server accepted it. */
  publish(data: T, options?: PublishOptions): Promise<PublishResult> {
    return this.#host.publish(this.name, data, options)
  }

  // ---- called by the client ----------------------------------------------------------------

  /**
   * @internal Before each connection attempt: the position to send in its `resume` parameter (a
   * server-side channel, or a wanted one the server may subscribe too) if `fits` has room for it,
   * remembered as what was sent.
   */
  resumePosition(fits: (name: string, position: StreamPosition) => boolean): StreamPosition | undefined {
    const position = this.#wanted || this.#server ? this.#position : undefined
    this.#sent = position && fits(this.name, position) ? position : undefined
    return this.#sent
  }

  /**
   * @internal The server subscribed this connection (a `subscribed` frame, after any replay).
   * True when the channel was not server-side before.
   */
  handleServerSubscribed(result: SubscribeResult): boolean {
    const fresh = !this.#server
    this.#server = true
    // Resumed from what we sent; or, when we had a position the server did not get, from that
    // (no `recovered` in the frame then: a gap unless nothing was missed).
    const since = this.#sent ?? this.#position
    this.#sent = undefined
    this.#subscribed(result, since)
    return fresh
  }

  /** @internal The server ended the subscription (`sb.unsubscribe`). */
  handleServerUnsubscribed(): void {
    this.#wanted = this.#server = false
    this.#sent = undefined
    this.#generation++
    clearTimeout(this.#retryTimer)
    this.#setState('unsubscribed', 'server_unsubscribe')
  }

  /** @internal The connection is ready: (re)subscribe; a server-side channel waits for the server. */
  handleConnected(): void {
    if (this.#server && !this.#wanted) this.#setState('subscribing', 'resubscribe')
    if (!this.#wanted) return
    // Already 'subscribing' after a drop; 'unsubscribed' after the client was closed and reopened.
    this.#setState('subscribing', 'resubscribe')
    this.#sendSubscribe()
  }

  /** @internal The connection dropped; a wanted channel waits to resubscribe. */
  handleDisconnected(willReconnect: boolean): void {
    this.#generation++
    if (!this.#wanted && !this.#server) return
    if (willReconnect) this.#setState('subscribing', 'disconnected')
    else this.#setState('unsubscribed', 'client_closed')
  }

  /** @internal */
  handleMessage(frame: MessageFrame): void {
    if (!this.#wanted && !this.#server) return
    const last = this.#position
    const { epoch, offset } = frame
    if (last && epoch === last.epoch && offset <= last.offset) return
    this.#position = { epoch, offset }
    this.emit('publication', { data: frame.data as T, epoch, offset })
  }

  /** @internal A presence frame: applied to `members` and `presenceCounts`, then told. */
  handlePresence(frame: PresenceFrame): void {
    if (!this.#wanted && !this.#server) return
    const change: PresenceChange = {
      joins: frame.joins ?? [],
      leaves: frame.leaves ?? [],
      updates: frame.updates ?? [],
    }
    for (const user of change.leaves) this.#members.delete(user.userId)
    for (const user of change.joins) this.#members.set(user.userId, user)
    for (const user of change.updates) this.#members.set(user.userId, user)
    if (frame.counts) this.#counts = change.counts = frame.counts
    this.emit('presence', change)
  }

  #sendSubscribe(): void {
    clearTimeout(this.#retryTimer)
    const generation = ++this.#generation
    const since = this.#position ? { ...this.#position } : undefined
    this.#host.sendSubscribe(this.name, since, (outcome) => {
      if (generation !== this.#generation) return
      if (outcome.ok) this.#subscribed(outcome.result, since)
      else this.#failed(outcome.error, outcome.replied === true)
    })
  }

  #subscribed(result: SubscribeResult, since: StreamPosition | undefined): void {
    this.#retries = 0
    const last = this.#position
    const { epoch, offset } = result
    // Adopt the server's position unless we already handled something later in the same epoch
    // (messages replayed before the reply have moved us there already).
    if (!last || last.epoch !== epoch || last.offset < offset) this.#position = { epoch, offset }
    // By user id: the per-connection lists of servers before user presence collapse to one entry each.
    if (result.members) this.#members = new Map(result.members.map((m) => [m.userId, m]))
    if (result.counts) this.#counts = result.counts
    this.#setState('subscribed', 'subscribed')
    if (this.#presenceInfo) {
      // A new subscription starts from the server's info: put ours back. A failure is the same
      // as the first one's, already told to whoever awaited it.
      this.#host.updatePresence(this.name, this.#presenceInfo.info).catch(() => {})
    }
    this.emit('subscribed', result)
    if (since) {
      // Nothing to recover when the channel has not moved since (a server-side join we did not
      // send a position for, on a quiet channel).
      const recovered = result.recovered ?? (since.epoch === epoch && since.offset === offset)
      this.emit('recovery', { recovered, since, position: { epoch, offset } })
    }
  }

  #failed(error: SwitchboardError, replied: boolean): void {
    const { code } = error
    // A lost connection resubscribes by itself; no reply in time waits for the next connection.
    if (code === ErrorCode.DISCONNECTED) return
    if (
      code === ErrorCode.UNAVAILABLE ||
      code === ErrorCode.RATE_LIMITED ||
      (replied && code === ErrorCode.TIMEOUT)
    ) {
      // The server could not reach its broker (Redis restarting), its broker did not answer in
      // time, or it refused the frame as over its rate limit: try again after a backoff, as long
      // as the subscription is still wanted on this connection.
      const generation = this.#generation
      this.#setState('subscribing', 'retry')
      this.#retryTimer = setTimeout(
        () => {
          if (this.#wanted && generation === this.#generation && this.#host.isConnected())
            this.#sendSubscribe()
        },
        RETRY_BACKOFF(this.#retries++),
      )
    } else if (code !== ErrorCode.TIMEOUT) {
      this.#wanted = false
      this.#setState('unsubscribed', 'subscribe_failed')
    }
    this.emit('error', error)
  }

  #setState(newState: ChannelState, reason: ChannelStateReason): void {
    const oldState = this.#state
    if (oldState === newState) return
    this.#state = newState
    this.emit('state', { oldState, newState, reason })
  }
}
