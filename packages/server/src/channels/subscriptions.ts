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
  type PublishFrame,
  type PublishResult,
  type StreamPosition,
  type SubscribeFrame,
  type SubscribeResult,
} from '@switchboard/protocol'
import type { Logger } from '../api.js'
import type { ClientConnection } from '../connection/connection.js'
import { SwitchboardError } from '../errors.js'
import type { ChannelHub } from './channel-hub.js'
import type { ChannelRules } from './channel-options.js'

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
  /** Who a connection is in presence. */
  memberOf: (conn: ClientConnection) => PresenceMember
  log: Logger
}

export class Subscriptions {
  constructor(private readonly o: SubscriptionsOptions) {}

  /** Whether the application lets this connection subscribe (also asked by `$history`, `$presence`). */
  async maySubscribe(conn: ClientConnection, channel: string): Promise<boolean> {
    return (await this.o.authorize?.subscribe?.(conn, channel)) ?? true
  }

  /** A client's `subscribe` frame: the application's check, then `join`. */
  async subscribe(conn: ClientConnection, frame: SubscribeFrame): Promise<SubscribeResult> {
    if (!(await this.maySubscribe(conn, frame.channel))) {
      throw new SwitchboardError(ErrorCode.FORBIDDEN, `may not subscribe to "${frame.channel}"`)
    }
    return this.join(conn, frame.channel, frame.since)
  }

  /** A client's `unsubscribe` frame, or `sb.unsubscribe`: `not_subscribed` if it is not. */
  async unsubscribe(conn: ClientConnection, channel: string): Promise<void> {
    if (!conn.subscriptions.has(channel)) {
      throw new SwitchboardError(ErrorCode.NOT_SUBSCRIBED, `not subscribed to "${channel}"`)
    }
    await this.leave(conn, channel)
  }

  /** A client's `publish` frame: allowed by the channel's options and the application, then the broker. */
  async publish(conn: ClientConnection, frame: PublishFrame): Promise<PublishResult> {
    const { channel, data } = frame
    if (!this.o.rules.get(channel).clientPublish) {
      throw new SwitchboardError(ErrorCode.FORBIDDEN, `clients may not publish to "${channel}"`)
    }
    const allowed = this.o.authorize?.publish
    if (allowed && !(await allowed(conn, channel, data))) {
      throw new SwitchboardError(ErrorCode.FORBIDDEN, `may not publish to "${channel}"`)
    }
    try {
      return await this.o.broker.publish(channel, data, frame.key === undefined ? {} : { key: frame.key })
    } catch (err) {
      this.o.log.error(`broker refused a publish to "${channel}":`, err)
      throw new SwitchboardError(ErrorCode.UNAVAILABLE, 'the message could not be published; it was not sent')
    }
  }

  /**
   * Subscribes (or, with `since`, resubscribes) a connection. The subscriber is held in the hub from
   * the start and released against the position in the reply, so what reaches the client is exactly
   * the stream after that position, whatever arrived meanwhile.
   */
  async join(
    conn: ClientConnection,
    channel: string,
    since: StreamPosition | undefined,
  ): Promise<SubscribeResult> {
    const { hub, broker } = this.o
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
    let result: SubscribeResult
    try {
      result = since ? await this.recover(conn, channel, since) : { ...(await broker.position(channel)) }
    } catch (err) {
      // A failed subscribe leaves no half-subscription behind, and no subscriber held.
      if (since) hub.release(conn, channel, since)
      if (!already) await this.leave(conn, channel)
      throw err
    }
    hub.release(conn, channel, result)
    if (this.o.rules.get(channel).presence) {
      if (!already) await broker.presence.add(channel, this.o.memberOf(conn))
      if (conn.state === 'closed') await broker.presence.remove(channel, conn.id)
      result.members = await broker.presence.list(channel)
    }
    return result
  }

  async leave(conn: ClientConnection, channel: string): Promise<void> {
    conn.markSubscribed(channel, false)
    await this.o.hub.remove(conn, channel)
    if (this.o.rules.get(channel).presence) await this.o.broker.presence.remove(channel, conn.id)
  }

  /** A closed connection leaves every channel; a failure is logged, never thrown. */
  leaveAll(conn: ClientConnection): void {
    for (const channel of [...conn.subscriptions]) {
      this.leave(conn, channel).catch((err) => this.o.log.error(`leaving "${channel}" failed:`, err))
    }
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
