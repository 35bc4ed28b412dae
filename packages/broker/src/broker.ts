/**
 * The Broker seam: where published messages go and where they come back from. The server
 * subscribes on the broker only to channels that have local subscribers, with one listener per
 * channel, and fans each event out to its local connections itself. `MemoryBroker` is the embedded
 * single-node implementation; a Redis broker implements the same contract for several nodes.
 */
import type {
  JsonValue,
  PresenceCounts,
  PresenceMember,
  PresenceUser,
  StreamPosition,
} from '@switchboard/protocol'
import type { LifecycleLog } from './lifecycle.js'
import type { BrokerUsersApi } from './users.js'

/** A published message as the broker delivers it: its data and its place in the channel's stream. */
/** Options of `Broker.recent`. */
export interface RecentOptions {
  /** Only messages with an offset below this one (of the current epoch). */
  before?: number
}

export interface BrokerMessage {
  kind: 'message'
  channel: string
  epoch: string
  offset: number
  data: JsonValue
  /** A connection id that must not receive this message (the publisher, for except-sender). */
  except?: string
}

/**
 * What a presence change did, per user: `join` — a user's first connection came (and it was not
 * in its leave grace window); `leave` — its last connection went, and the grace window passed
 * with no other coming back; `update` — its info changed; `count` — a connection came or went
 * without any of these (a second tab, a reconnect inside the grace window).
 */
export type PresenceAction = 'join' | 'leave' | 'update' | 'count'

/** A presence change, as delivered to the channel's listener on every node, in order. */
export interface BrokerPresence {
  kind: 'presence'
  channel: string
  action: PresenceAction
  /**
   * The user concerned, in its state after the change; with `count`, the user whose connection
   * count changed while it stays a member (absent when the count is the channel's only).
   */
  user?: PresenceUser
  /** The channel's counts after the change, across the cluster. */
  counts: PresenceCounts
}

/**
 * The broker lost part of the channel's live stream and could not fill it from history (a Redis
 * restart that lost the data, or a channel without history). Local subscribers must resume with
 * `since`, which tells them `recovered: false` if messages are gone. The in-memory broker never
 * sends it.
 */
export interface BrokerReset {
  kind: 'reset'
  channel: string
}

/** A message or presence change, as delivered to subscribers. */
export type BrokerData = BrokerMessage | BrokerPresence

export type BrokerEvent = BrokerData | BrokerReset

export type BrokerListener = (event: BrokerEvent) => void

/** A channel's history window, as the server resolves it from its channel options. */
export interface ResolvedHistory {
  /** Messages kept. */
  size: number
  /** Milliseconds a message is kept; Infinity when no ttl was given. */
  ttlMs: number
}

export interface PublishOptions {
  except?: string
  /** Idempotency key: a publish retried with the same key on the same channel lands once. */
  key?: string
}

/** What `history` found after a position. */
export interface HistoryResult {
  /** True only if every message after `since` is in `messages` (nothing was trimmed or lost). */
  complete: boolean
  /** The messages after `since`, oldest first. */
  messages: BrokerMessage[]
  /** The channel's current position. */
  position: StreamPosition
}

/** An event for one connection, wherever it lives (`sb.sendTo`). */
export interface RoutedEvent {
  event: string
  data?: JsonValue
}

/**
 * Where a node's routed events go: delivers to the local connection `connectionId` and says
 * whether it was there (and open).
 */
export type RouteHandler = (connectionId: string, routed: RoutedEvent) => boolean

/**
 * A command for every node of the cluster (`control`): a name the receiving side dispatches on,
 * and its arguments. The broker carries it as it is; what it means is the server's business.
 */
export interface ControlCommand {
  type: string
  data?: JsonValue
}

/** One node's answer to a control command. */
export type ControlReply =
  | { ok: true; node?: string; data: JsonValue }
  | { ok: false; node?: string; error: string }

/** What a control command gathered. */
export interface ControlResult {
  /** How many nodes the command reached (with Redis: PUBLISH's count of receivers). */
  reached: number
  /** The answers that came back in time, in arrival order; fewer than `reached` after a timeout. */
  replies: ControlReply[]
}

/**
 * What a node does with a control command: its answer (sent back to the node that asked), or a
 * throw, which answers `{ ok: false }` with the error's message.
 */
export type ControlHandler = (command: ControlCommand) => JsonValue | Promise<JsonValue>

export interface ControlOptions {
  /** How long to wait for the nodes' answers, in milliseconds. Default 5000. */
  timeoutMs?: number
}

/**
 * A revocation as the broker stores it: one token by its id (a JWT's `jti`), or every token of a
 * user issued before a time. Times are milliseconds since the epoch, on the broker's clock.
 * `expiresAt` is when the entry may be forgotten: no token it covers can still be valid by then.
 */
export type Revocation =
  | { jti: string; expiresAt: number }
  | { user: string; issuedBefore: number; expiresAt: number }

/**
 * What a node learns about revocations: one that was added (on any node, this one included), or
 * `resync` when it may have missed some (its link to the other nodes was down): it should read
 * the whole `list()` again.
 */
export type RevocationEvent = { kind: 'revoked'; revocation: Revocation } | { kind: 'resync' }

export type RevocationListener = (event: RevocationEvent) => void

/**
 * Token revocations shared by every node (`sb.revoke`). Entries are merged: one per `jti` (the
 * latest `expiresAt` wins) and one per `user` (the latest `issuedBefore` and `expiresAt` win);
 * an entry whose `expiresAt` has passed is never listed again.
 */
export interface BrokerRevocationsApi {
  /**
   * Stores the revocation and tells every node's listener, this one's included. Resolves once
   * stored; rejects if it was not (or, `BrokerOutcomeUnknownError`, may not have been).
   */
  add(revocation: Revocation): Promise<void>
  /** Every revocation not expired yet, merged as above, in no particular order. */
  list(): Promise<Revocation[]>
  /** Where this node learns of revocations (the server sets it once). */
  onRevocation(listener: RevocationListener): void
}

export interface PresenceRemoveOptions {
  /**
   * Milliseconds a user whose last connection went stays a member (its leave grace window): a
   * connection of that user that comes back meanwhile cancels the leave, so a reconnecting page
   * does not flap. Default 0: the leave is at once.
   */
  graceMs?: number
}

/**
 * Presence, stored per connection and told per user: a user joins with its first connection on
 * the channel (anywhere in the cluster) and leaves with its last (after `graceMs`).
 */
export interface BrokerPresenceApi {
  /** Adds a connection; a `join` if it is its user's first (and the user was not in grace), else `count`. */
  add(channel: string, member: PresenceMember): Promise<void>
  /** Takes a connection out; its user's `leave` comes after `graceMs` if it was the last, else `count`. */
  remove(channel: string, connectionId: string, options?: PresenceRemoveOptions): Promise<void>
  /**
   * Replaces the info of the connection's user (an `update` event). Resolves false if the
   * connection is not a member of the channel.
   */
  update(channel: string, connectionId: string, info: JsonValue): Promise<boolean>
  /** Every connection, one entry each. */
  list(channel: string): Promise<PresenceMember[]>
  /** Every user, one entry each, with its connection count (0 while in its grace window). */
  users(channel: string): Promise<PresenceUser[]>
  /** How many connections and users; users in their grace window count. */
  counts(channel: string): Promise<PresenceCounts>
}

/**
 * What a broker rejects with when an operation was handed over but no answer came back (a
 * command sent to Redis, then its timeout or a dropped connection): it may still take effect —
 * a publish may still land and reach every subscriber. Any other rejection of a broker call means
 * the operation was not applied. The server answers this one `timeout`, every other `unavailable`.
 */
export class BrokerOutcomeUnknownError extends Error {
  override readonly name = 'BrokerOutcomeUnknownError'
  /** A brand that survives duplicated copies of this package (where `instanceof` would not). */
  readonly outcome = 'unknown'
}

/** Whether a broker rejection says the operation may still take effect (see BrokerOutcomeUnknownError). */
export function isOutcomeUnknown(err: unknown): boolean {
  return err instanceof Error && (err as { outcome?: unknown }).outcome === 'unknown'
}

export interface Broker {
  /**
   * Accepts a message; resolves with its position once accepted. Rejects with
   * `BrokerOutcomeUnknownError` if the message was handed over but not confirmed (it may still
   * land; a retry with the same `key` lands once), with any other error if it was not published.
   */
  publish(channel: string, data: JsonValue, options?: PublishOptions): Promise<StreamPosition>
  /** Starts delivering the channel's events to `listener` (one listener per channel per node). */
  subscribe(channel: string, listener: BrokerListener): Promise<void>
  unsubscribe(channel: string): Promise<void>
  /** The channel's current position (offset 0 in a fresh epoch if nothing was published). */
  position(channel: string): Promise<StreamPosition>
  /** The messages after `since`, for recovery. The server's recovery builds on this. */
  history(channel: string, since: StreamPosition): Promise<HistoryResult>
  /**
   * Up to `limit` of the latest retained messages, oldest first, and the current position. With
   * `before`, the latest of those strictly older than that offset (of the current epoch): a page
   * further back, for reading a long history in steps.
   */
  recent(
    channel: string,
    limit: number,
    options?: RecentOptions,
  ): Promise<{ messages: BrokerMessage[]; position: StreamPosition }>
  readonly presence: BrokerPresenceApi
  /** The user index: each user's connections in the whole cluster (users.ts). */
  readonly users: BrokerUsersApi
  /**
   * Which nodes have local subscribers of a channel, as an index of the same shape as `users`
   * (a channel for a user, one entry per node for a connection): what `channel.occupied` and
   * `channel.vacated` are decided on. Optional, like `lifecycle`.
   */
  readonly occupancy?: BrokerUsersApi
  /** Token revocations, shared by every node (`sb.revoke`). */
  readonly revocations: BrokerRevocationsApi
  /**
   * Set by a broker shared by several nodes: this node's connection ids start with `nodeId + '.'`,
   * which is how `route` finds the node that holds a connection.
   */
  readonly nodeId?: string
  /**
   * Hands an event to the node that holds `connectionId`. Resolves true once a node that holds
   * (or held) that id took it, false if none does; rejects if the broker could not take it. At
   * most once: nothing keeps it for a connection that is gone or reconnects.
   */
  route(connectionId: string, routed: RoutedEvent): Promise<boolean>
  /** Where this node's routed events are delivered (the server sets it once). */
  onRoute(handler: RouteHandler): void
  /**
   * Sends a command to every node, this one included, and gathers their answers: resolves once
   * every node it reached has answered, or after `timeoutMs` with the answers so far. Rejects if
   * the broker could not send it. At most once per node: a node that is down, or joins later,
   * never gets it. A node without a handler answers `{ ok: false }`.
   */
  control(command: ControlCommand, options?: ControlOptions): Promise<ControlResult>
  /** What this node does with control commands (the server sets it once). */
  onControl(handler: ControlHandler): void
  /**
   * The durable queue of lifecycle events the webhooks are sent from (lifecycle.ts). Optional: a
   * broker without one cannot serve the `webhooks` option.
   */
  readonly lifecycle?: LifecycleLog
  close(): Promise<void>
}
