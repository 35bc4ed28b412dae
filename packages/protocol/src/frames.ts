/**
 * The v1 wire frames as TypeScript types: a discriminated union on `type`, split by direction.
 * These types are the contract between server, client and any third-party implementation;
 * docs/protocol.md describes the same frames for people holding a raw WebSocket.
 */

import type { DataValue } from './data.js'

/**
 * The type of every `data` field: JSON's values plus bytes (see DataValue in data.ts). The old
 * name, kept while the code moves to `DataValue`.
 */
export type JsonValue = DataValue

/** A position in a channel's stream: the epoch names one history, the offset counts within it. */
export interface StreamPosition {
  epoch: string
  offset: number
}

/**
 * One connection on a channel with presence: who the server says it is (`presence(conn)`). The
 * broker stores presence per connection; what clients see is per user (PresenceUser).
 */
export interface PresenceMember {
  userId: string
  connectionId: string
  info?: JsonValue
}

/**
 * A member of a channel with `presence: 'members'`: one user, however many connections it has
 * there. `info` is its first connection's, or the latest `presence_update`; `connections` is how
 * many of its connections are subscribed (0 while it is in its leave grace window, or in a leave).
 */
export interface PresenceUser {
  userId: string
  info?: JsonValue
  connections: number
}

/** How many connections and distinct users a presence channel has, across the cluster. */
export interface PresenceCounts {
  connections: number
  users: number
}

/** The body of a failed reply or of an `error` frame. `code` is one of ERROR_CODES (see codes.ts). */
export interface ErrorBody {
  code: string
  message: string
  details?: JsonValue
}

// ---- client → server -------------------------------------------------------------------------

export interface SubscribeFrame {
  type: 'subscribe'
  id: string
  channel: string
  /** Resume after this position: the server replays what came later, then goes live. */
  since?: StreamPosition
}

export interface UnsubscribeFrame {
  type: 'unsubscribe'
  id?: string
  channel: string
}

export interface PublishFrame {
  type: 'publish'
  /** With an id the server acknowledges with a reply once the broker accepted the message. */
  id?: string
  channel: string
  data: JsonValue
  /** Idempotency key: a retried publish with the same key on the same channel lands once. */
  key?: string
}

export interface RequestFrame {
  type: 'request'
  /** Without an id the request is fire-and-forget: no reply is sent. */
  id?: string
  event: string
  data?: JsonValue
}

export interface AuthFrame {
  type: 'auth'
  id: string
  token: string
}

export interface PingFrame {
  type: 'ping'
  id?: string
}

/**
 * Replaces the sender's presence `info` on a channel with `presence: 'members'` it is subscribed
 * to (where the channel allows client updates); the others see it in an `updates` entry of the
 * next presence frame. With an id the server replies once the broker took it.
 */
export interface PresenceUpdateFrame {
  type: 'presence_update'
  id?: string
  channel: string
  info: JsonValue
}

export type ClientFrame =
  | SubscribeFrame
  | UnsubscribeFrame
  | PublishFrame
  | RequestFrame
  | AuthFrame
  | PingFrame
  | PresenceUpdateFrame

// ---- server → client -------------------------------------------------------------------------

/** The limits a server announces in `hello`. */
export interface HelloLimits {
  /** Largest frame the server takes, in bytes of UTF-8; a bigger one closes with 1009. */
  maxPayload: number
  /** Channels one connection may be subscribed to at once. */
  maxSubscriptions: number
  /**
   * The per-connection token bucket every client frame takes one token from: a burst of
   * `capacity` frames, refilled at `refillPerSecond` frames a second; a frame over it is refused
   * `rate_limited`. Absent from older servers (and from a server without a finite limit).
   */
  rateLimit?: { capacity: number; refillPerSecond: number }
}

export interface HelloFrame {
  type: 'hello'
  version: number
  connectionId: string
  /** Milliseconds between server heartbeats; a client that hears nothing for longer may reconnect. */
  heartbeat: number
  limits: HelloLimits
  /**
   * `required`: the server needs a token in an `auth` frame before anything but `auth` and `ping`
   * (token auth, and none came with the handshake). Absent otherwise.
   */
  auth?: 'required'
}

export interface MessageFrame {
  type: 'message'
  channel: string
  epoch: string
  offset: number
  data: JsonValue
}

export interface EventFrame {
  type: 'event'
  event: string
  data?: JsonValue
}

export interface ReplyOkFrame {
  type: 'reply'
  id: string
  ok: true
  data?: JsonValue
}

export interface ReplyErrorFrame {
  type: 'reply'
  id: string
  ok: false
  error: ErrorBody
}

export type ReplyFrame = ReplyOkFrame | ReplyErrorFrame

/**
 * What changed on a presence channel during one coalescing window (`presence.window`, 100 ms by
 * default), as one frame per subscriber: the users that joined, left, or changed their info (each
 * user at most once, in its latest state), and the channel's counts when they changed. Channels
 * with `presence: 'counts'` carry `counts` only. Empty lists are left out.
 */
export interface PresenceFrame {
  type: 'presence'
  channel: string
  joins?: PresenceUser[]
  leaves?: PresenceUser[]
  updates?: PresenceUser[]
  counts?: PresenceCounts
}

export interface ErrorFrame {
  type: 'error'
  code: string
  message: string
  /** The id of the client frame this error is about, when it had one. */
  id?: string
  /** The channel this error is about, when it concerns one (for example a cut live stream). */
  channel?: string
  details?: JsonValue
}

export interface PongFrame {
  type: 'pong'
  id?: string
}

/**
 * The connection's token is about to expire: the server asks for a fresh one. The client answers
 * with an `auth` frame; without one the connection is closed with 4001 when `expiresIn` has passed.
 */
export interface RefreshFrame {
  type: 'refresh'
  /** Milliseconds until the current token expires (relative, so clock skew does not matter). */
  expiresIn: number
}

/**
 * The server subscribed this connection to a channel (`sb.subscribe`), or resumed such a
 * subscription after a reconnect. Sent after any replayed messages and before live ones, so a
 * client sees the channel's stream from `{ epoch, offset }` on. `recovered` is present when the
 * client had sent a position for the channel in the `resume` query parameter of its connection
 * URL (see RESUME_PARAM): true only if every message after it was replayed.
 */
export interface SubscribedFrame extends SubscribeResult {
  type: 'subscribed'
  channel: string
}

/** The server ended a server-side subscription (`sb.unsubscribe`); nothing more comes on it. */
export interface UnsubscribedFrame {
  type: 'unsubscribed'
  channel: string
}

export type ServerFrame =
  | HelloFrame
  | MessageFrame
  | SubscribedFrame
  | UnsubscribedFrame
  | EventFrame
  | ReplyFrame
  | PresenceFrame
  | ErrorFrame
  | PongFrame
  | RefreshFrame

export type Frame = ClientFrame | ServerFrame
export type FrameType = Frame['type']

export const CLIENT_FRAME_TYPES = [
  'subscribe',
  'unsubscribe',
  'publish',
  'request',
  'auth',
  'ping',
  'presence_update',
] as const
export const SERVER_FRAME_TYPES = [
  'hello',
  'message',
  'subscribed',
  'unsubscribed',
  'event',
  'reply',
  'presence',
  'error',
  'pong',
  'refresh',
] as const

/** What a successful `subscribe` reply carries in `data`. */
export interface SubscribeResult {
  /** The channel's current position; the client remembers it to resume from later. */
  epoch: string
  offset: number
  /** Present when the subscribe frame carried `since`: true only if every missed message was replayed. */
  recovered?: boolean
  /** Present on channels with `presence: 'members'`: who is there now, one entry per user. */
  members?: PresenceUser[]
  /** Present on presence channels (either mode): the channel's counts now. */
  counts?: PresenceCounts
}

/** What a successful acknowledged `publish` reply carries in `data`. */
export interface PublishResult {
  epoch: string
  offset: number
}
