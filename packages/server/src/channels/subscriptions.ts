/**
 * The channel operations of connections: join (with recovery from history), leave, presence
 * membership and a client's publish. Both the connections' own frames and the server's
 * `sb.subscribe` / `sb.unsubscribe` come here, so a subscription made either way is the same
 * thing: held in the hub until its reply's position, counted against `maxSubscriptions`, listed in
 * presence.
 */
import type { Broker, BrokerMessage } from '@switchboard/broker'
import {
  ErrorCode,
  type JsonValue,
  type PresenceMember,
  type PresenceUpdateFrame,
  type PublishFrame,
  type PublishResult,
  parseResume,
  RESUME_PARAM,
  type StreamPosition,
  type SubscribeFrame,
  type SubscribeResult,
} from '@switchboard/protocol'
import type { Logger } from '../api.js'
import type { ClientConnection } from '../connection/connection.js'
import { SwitchboardError } from '../errors.js'
import type { ChannelProxy } from '../proxy/channel-hooks.js'
import type { ChannelHub } from './channel-hub.js'
import type { ChannelRules } from './channel-options.js'
import { publishable } from './publishable.js'

type MaybePromise<T> = T | Promise<T>

export interface SubscriptionsOptions {
  broker: Broker
  hub: ChannelHub
  rules: ChannelRules
  maxSubscriptions: number
  /** The application's permission checks (`authorize`); absent ones allow. */
  authorize:
    | {
        subscribe?: (conn: ClientConnection, channel: string) => MaybePromise<boolean>
        publish?: (conn: ClientConnection, channel: string, data: JsonValue) => MaybePromise<boolean>
      }
    | undefined
  /** The application's HTTP hooks (`proxy.subscribe`, `proxy.publish`), asked after `authorize`. */
  proxy?: ChannelProxy | undefined
  /** Who a connection is in presence. */
  memberOf: (conn: ClientConnection) => PresenceMember
  /** Told of each resubscribe with `since`: whether it recovered (the dashboard's counts). */
  onRecovery?: ((recovered: boolean) => void) | undefined
  log: Logger
}

export class Subscriptions {
  /** Positions from each connection's `resume` URL parameter, until its server-side join uses them. */
  private readonly resumes = new WeakMap<ClientConnection, Map<string, StreamPosition>>()
  /** The tail of each connection's queue of joins and leaves, per channel. */
  private readonly turns = new WeakMap<ClientConnection, Map<string, Promise<void>>>()

  constructor(private readonly o: SubscriptionsOptions) {}

  /** Whether the application lets this connection subscribe (also asked by `$history`, `$presence`). */
  async maySubscribe(conn: ClientConnection, channel: string): Promise<boolean> {
    try {
      await this.grant(conn, channel)
      return true
    } catch (err) {
      if (err instanceof SwitchboardError && err.code === ErrorCode.FORBIDDEN) return false
      throw err
    }
  }

  /** A client's `subscribe` frame: the application's checks, then `join` (with the proxy's presence info). */
  async subscribe(conn: ClientConnection, frame: SubscribeFrame): Promise<SubscribeResult> {
    const { info } = await this.grant(conn, frame.channel)
    return this.join(conn, frame.channel, frame.since, undefined, info)
  }

  /** `authorize.subscribe`, then the proxy's hook; throws `forbidden` (or the hook's `unavailable`). */
  private async grant(conn: ClientConnection, channel: string): Promise<{ info?: JsonValue }> {
    if (!((await this.o.authorize?.subscribe?.(conn, channel)) ?? true)) {
      throw new SwitchboardError(ErrorCode.FORBIDDEN, `may not subscribe to "${channel}"`)
    }
    return (await this.o.proxy?.subscribe(conn, channel)) ?? {}
  }

  /** A client's `unsubscribe` frame, or `sb.unsubscribe`: `not_subscribed` if it is not. */
  async unsubscribe(conn: ClientConnection, channel: string): Promise<void> {
    if (!conn.subscriptions.has(channel)) {
      throw new SwitchboardError(ErrorCode.NOT_SUBSCRIBED, `not subscribed to "${channel}"`)
    }
    await this.leave(conn, channel)
  }

  /**
   * A client's `publish` frame: allowed by the channel's options, valid for its schema (whose
   * output is what is published), allowed by the application, then the broker.
   */
  async publish(conn: ClientConnection, frame: PublishFrame): Promise<PublishResult> {
    const { channel, data } = frame
    if (!this.o.rules.get(channel).clientPublish) {
      throw new SwitchboardError(ErrorCode.FORBIDDEN, `clients may not publish to "${channel}"`)
    }
    let value = await publishable(this.o.rules, channel, data)
    const allowed = this.o.authorize?.publish
    if (allowed && !(await allowed(conn, channel, value))) {
      throw new SwitchboardError(ErrorCode.FORBIDDEN, `may not publish to "${channel}"`)
    }
    // The proxy may replace the data: what it gives passes the channel's checks again.
    const replaced = await this.o.proxy?.publish(conn, channel, value)
    if (replaced && 'data' in replaced) value = await publishable(this.o.rules, channel, replaced.data)
    try {
      return await this.o.broker.publish(channel, value, frame.key === undefined ? {} : { key: frame.key })
    } catch (err) {
      // The guarded broker already logged it and chose the answer (`timeout`: it may still land).
      if (err instanceof SwitchboardError) throw err
      this.o.log.error(`broker refused a publish to "${channel}":`, err)
      throw new SwitchboardError(ErrorCode.UNAVAILABLE, 'the message could not be published; it was not sent')
    }
  }

  /**
   * The connection's URL carried a `resume` parameter (the positions of its server-side
   * subscriptions on its previous connection): kept for `serverJoin`. A malformed one is reported
   * to the client as an `invalid_frame` error and ignored, so those subscriptions start afresh
   * (a client that sent a position and gets a `subscribed` frame without `recovered` knows it
   * was not resumed).
   */
  connected(conn: ClientConnection, url: string | undefined): void {
    const value = url === undefined ? null : new URL(url, 'http://x').searchParams.get(RESUME_PARAM)
    if (value === null) return
    try {
      this.resumes.set(conn, parseResume(value))
    } catch (err) {
      conn.sendFrame({ type: 'error', code: ErrorCode.INVALID_FRAME, message: (err as Error).message })
    }
  }

  /**
   * `sb.subscribe`: a server-side subscription. If the client sent a position for this channel when
   * it connected, the subscription resumes after it (replay, `recovered`), else it starts now. The
   * client is told with a `subscribed` frame, after the replayed messages and before live ones.
   */
  serverJoin(conn: ClientConnection, channel: string): Promise<SubscribeResult> {
    const announce = (result: SubscribeResult) => {
      conn.sendFrame({ type: 'subscribed', channel, ...result })
    }
    // The position is read in this join's turn: a join or leave queued before it drops it.
    return this.inTurn(conn, channel, () =>
      this.joinNow(conn, channel, this.resumes.get(conn)?.get(channel), announce, undefined),
    )
  }

  /** `sb.unsubscribe`: ends a subscription however it was made, and tells the client. */
  async serverLeave(conn: ClientConnection, channel: string): Promise<void> {
    if (!conn.subscriptions.has(channel)) return
    await this.leave(conn, channel)
    conn.sendFrame({ type: 'unsubscribed', channel })
  }

  /**
   * Subscribes (or, with `since`, resubscribes) a connection. The subscriber is held in the hub from
   * the start and released against the position in the reply, so what reaches the client is exactly
   * the stream after that position, whatever arrived meanwhile. Joins and leaves of one connection
   * on one channel run one after another, so a server-side join and the client's own subscribe
   * never interleave their replays and live streams. `announce` is called with the result after
   * the replay and before any live message.
   */
  join(
    conn: ClientConnection,
    channel: string,
    since: StreamPosition | undefined,
    announce?: (result: SubscribeResult) => void,
    info?: JsonValue,
  ): Promise<SubscribeResult> {
    return this.inTurn(conn, channel, () => this.joinNow(conn, channel, since, announce, info))
  }

  /** `closing`: the connection went (not an unsubscribe), so its user's leave waits for the grace window. */
  leave(conn: ClientConnection, channel: string, closing = false): Promise<void> {
    return this.inTurn(conn, channel, () => this.leaveNow(conn, channel, closing))
  }

  /** A closed connection leaves every channel; a failure is logged, never thrown. */
  leaveAll(conn: ClientConnection): void {
    for (const channel of [...conn.subscriptions]) {
      this.leave(conn, channel, true).catch((err) => this.o.log.error(`leaving "${channel}" failed:`, err))
    }
  }

  /**
   * A client's `presence_update` frame: replaces its user's info on a `'members'` channel that
   * allows it (`clientUpdate`). Throws `not_subscribed`, `forbidden`, or the broker's `unavailable`.
   */
  async updatePresence(conn: ClientConnection, frame: PresenceUpdateFrame): Promise<void> {
    const { channel, info } = frame
    const presence = this.o.rules.get(channel).presence
    if (presence?.mode !== 'members' || !presence.clientUpdate) {
      throw new SwitchboardError(ErrorCode.FORBIDDEN, `clients may not update their presence on "${channel}"`)
    }
    const done = await this.inTurn(conn, channel, async () =>
      conn.subscriptions.has(channel) ? this.o.broker.presence.update(channel, conn.id, info) : false,
    )
    if (!done) throw new SwitchboardError(ErrorCode.NOT_SUBSCRIBED, `not subscribed to "${channel}"`)
  }

  private async joinNow(
    conn: ClientConnection,
    channel: string,
    since: StreamPosition | undefined,
    announce: ((result: SubscribeResult) => void) | undefined,
    info: JsonValue | undefined,
  ): Promise<SubscribeResult> {
    const { hub, broker } = this.o
    // The URL's position of this channel is for the first join only: after any join or leave on
    // this connection it is stale, and a later server-side join starts afresh.
    this.resumes.get(conn)?.delete(channel)
    const already = conn.subscriptions.has(channel)
    if (!already) {
      if (conn.subscriptions.size >= this.o.maxSubscriptions) {
        throw new SwitchboardError(
          ErrorCode.LIMIT_EXCEEDED,
          `at most ${this.o.maxSubscriptions} subscriptions per connection`,
        )
      }
      conn.markSubscribed(channel, true)
      try {
        await hub.add(conn, channel, true)
      } catch (err) {
        conn.markSubscribed(channel, false)
        throw err
      }
    } else if (since) {
      hub.hold(conn, channel)
    }
    const presence = this.o.rules.get(channel).presence
    let result: SubscribeResult
    try {
      if (since) {
        result = await this.recover(conn, channel, since)
        this.o.onRecovery?.(result.recovered === true)
      } else if (already) result = { ...(hub.position(channel) ?? (await broker.position(channel))) }
      else result = { ...(await broker.position(channel)) }
      if (presence) {
        if (!already) {
          const member = this.o.memberOf(conn)
          if (info !== undefined) member.info = info
          await broker.presence.add(channel, member)
        }
        if (conn.state === 'closed') {
          await broker.presence.remove(channel, conn.id, { graceMs: presence.graceMs })
        }
        if (presence.mode === 'members') {
          const members = await broker.presence.users(channel)
          result.members = members
          result.counts = {
            connections: members.reduce((n, m) => n + m.connections, 0),
            users: members.length,
          }
        } else {
          result.counts = await broker.presence.counts(channel)
        }
      }
    } catch (err) {
      // A failed subscribe leaves no half-subscription behind, and no subscriber held.
      if (since) hub.release(conn, channel, since)
      if (!already) await this.leaveNow(conn, channel)
      throw err
    }
    announce?.(result)
    hub.release(conn, channel, result)
    return result
  }

  private async leaveNow(conn: ClientConnection, channel: string, closing = false): Promise<void> {
    this.resumes.get(conn)?.delete(channel)
    conn.markSubscribed(channel, false)
    await this.o.hub.remove(conn, channel)
    const presence = this.o.rules.get(channel).presence
    if (presence) {
      await this.o.broker.presence.remove(channel, conn.id, { graceMs: closing ? presence.graceMs : 0 })
    }
  }

  /** Runs `step` after every earlier join or leave of this connection on this channel has settled. */
  private inTurn<T>(conn: ClientConnection, channel: string, step: () => Promise<T>): Promise<T> {
    let turns = this.turns.get(conn)
    if (!turns) {
      turns = new Map()
      this.turns.set(conn, turns)
    }
    const before = turns.get(channel)
    const run = before ? before.then(step, step) : step()
    const settled = run.then(
      () => {},
      () => {},
    )
    turns.set(channel, settled)
    void settled.then(() => {
      if (turns.get(channel) === settled) turns.delete(channel)
    })
    return run
  }

  /**
   * Replays what the subscriber missed after `since`, straight into its send queue, while the hub
   * holds its live events. Recovered only if the broker still had every message after `since`.
   * If `since` is from an older epoch (the history was lost: a restart, a reset), the old epoch's
   * tail is gone — `recovered: false` — but what the new epoch still holds from its start is
   * replayed, so nothing acknowledged since then is lost too. Otherwise nothing is replayed and
   * the client is told so with the current position.
   */
  private async recover(
    conn: ClientConnection,
    channel: string,
    since: StreamPosition,
  ): Promise<SubscribeResult> {
    const { broker } = this.o
    const history = await broker.history(channel, since)
    if (history.complete) {
      const last = this.replay(conn, channel, history.messages, since.offset)
      return { epoch: since.epoch, offset: Math.max(last, history.position.offset), recovered: true }
    }
    const { position } = history
    if (position.epoch !== since.epoch && position.offset > 0) {
      const fresh = await broker.history(channel, { epoch: position.epoch, offset: 0 })
      if (fresh.complete && fresh.position.epoch === position.epoch) {
        const last = this.replay(conn, channel, fresh.messages, 0)
        return { epoch: position.epoch, offset: Math.max(last, fresh.position.offset), recovered: false }
      }
    }
    return { ...position, recovered: false }
  }

  /** Queues replayed messages for the subscriber; the offset of the last one (else `after`). */
  private replay(
    conn: ClientConnection,
    channel: string,
    messages: readonly BrokerMessage[],
    after: number,
  ): number {
    let last = after
    for (const message of messages) {
      conn.sendFrame({
        type: 'message',
        channel,
        epoch: message.epoch,
        offset: message.offset,
        data: message.data,
      })
      last = message.offset
    }
    return last
  }
}
