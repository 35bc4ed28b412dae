/**
 * The public types of SwitchboardClient: its connection states and why they change, its events,
 * and its options. Apart from the class so the modules that run the client can share them.
 */

import type { ClientFrame, JsonValue, ServerFrame } from '@switchboard/protocol'
import type { Channel } from '../channel/channel.js'
import type { TransportName } from '../transport/fallback.js'
import type { WebSocketConstructor } from '../transport/websocket-like.js'
import type { Backoff } from '../util/backoff.js'
import type { SwitchboardError } from '../util/errors.js'

export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'closed'

/** Why the connection state changed. */
export type ConnectionStateReason =
  | 'connect'
  | 'connected'
  | 'connection_lost'
  | 'handshake_timeout'
  | 'heartbeat_timeout'
  | 'offline'
  | 'token_failed'
  | 'auth_failed'
  | 'terminal_close'
  | 'max_retries'
  | 'close'

export interface StateChange {
  oldState: ConnectionState
  newState: ConnectionState
  reason: ConnectionStateReason
  /** The WebSocket close code, when a close caused the change. */
  closeCode?: number
  /** The close's reason text, when the close had one (`banned`, `token revoked`). */
  closeReason?: string
}

export interface ClientEvents {
  state: StateChange
  /** Handshake done (hello, and auth when there is a token); channels are being resubscribed. */
  connected: { connectionId: string; heartbeat: number }
  /** A server `error` frame tied to no request, a frame that could not be decoded, a refused token. */
  error: SwitchboardError
  /**
   * The server subscribed this client to a channel (`sb.subscribe`): the `Channel` to listen on,
   * emitted before its first publication. Not emitted again when the server resubscribes it after
   * a reconnect (the same object resumes).
   */
  serverSubscribed: Channel
  /** The server ended a server-side subscription (`sb.unsubscribe`); the channel is now unsubscribed. */
  serverUnsubscribed: Channel
}

/**
 * A codec for WebSocket connections besides JSON: MessagePack is `msgpack` from
 * `@switchboard/client/msgpack`. Its subprotocol is offered before `switchboard.v1`; a server
 * that does not speak it answers JSON, and the HTTP transports always carry JSON.
 */
export interface ClientCodec {
  readonly subprotocol: string
  /** One frame as one binary message; throws a SwitchboardError `invalid_payload` for data it cannot carry. */
  encode(frame: ClientFrame): Uint8Array
  /** One binary message as a server frame; throws a ProtocolError for anything else. */
  decode(data: Uint8Array): ServerFrame
}

export interface SwitchboardClientOptions {
  /** WebSocket constructor. Default: the global WebSocket (browser entry), or `ws` (Node entry). */
  WebSocket?: WebSocketConstructor
  /** A binary codec for WebSocket connections (`msgpack` from `@switchboard/client/msgpack`). Default: JSON only. */
  codec?: ClientCodec
  /**
   * Transports to try in order, e.g. `['websocket', 'sse', 'long-polling']`: the fallback for
   * networks that block WebSocket (see ReconnectingWebSocketOptions). Default `['websocket']`.
   */
  transports?: readonly TransportName[]
  /**
   * Called on every connect and reconnect; its token is sent in an `auth` frame right after
   * `hello`, before anything else. Return null/undefined to connect anonymously. A throw or a
   * rejection counts as a failed attempt (reconnect with backoff). Also called when the server
   * sends `refresh` (the token is about to expire): the fresh token goes in another `auth` frame.
   */
  getToken?: () => string | null | undefined | Promise<string | null | undefined>
  /** `(attempt) => ms`. Default: full jitter, 500 ms doubling to 30 s. */
  backoff?: Backoff
  /** Reconnect attempts in a row before giving up (state 'closed', reason max_retries). Default Infinity. */
  maxAttempts?: number
  /** A connection must stay up this long before the attempt count resets, in ms. Default 5 000. */
  minUptime?: number
  /** Time allowed from socket creation to the end of the handshake, in ms. Default 10 000. */
  connectTimeout?: number
  /** Default request and publish timeout, in ms. Default 10 000. */
  requestTimeout?: number
  /** Silence allowed beyond hello.heartbeat before the connection is deemed dead, in ms. Default 5 000. */
  heartbeatMargin?: number
  /** Frames kept while offline (requests, publishes, emits); more are refused. Default 100. */
  maxQueue?: number
  /** Connect from the constructor. Default true. */
  autoConnect?: boolean
  /**
   * Share one connection with the other tabs of this origin that use the same server URLs:
   * `shareConnection()` from `@switchboard/client/share`. `false` (or absent): this client has its
   * own connection. A shared connection speaks JSON (`codec` is not used).
   */
  share?: ConnectionShare | false
  /**
   * Keep every publish and idempotent request, until the server has answered it, in a durable
   * queue that outlives the page: `indexedDbOutbox()` from `@switchboard/client/outbox`. Absent:
   * what is made while not connected waits in memory (`maxQueue`).
   */
  outbox?: ClientOutbox
}

/** What a share gets to build this tab's sockets: the client's URLs, and how it would connect alone. */
export interface ShareTarget {
  urls: readonly string[]
  WebSocket?: WebSocketConstructor | undefined
  transports?: readonly TransportName[] | undefined
}

/** How tabs share one connection (made by `shareConnection()` in `@switchboard/client/share`). */
export interface ConnectionShare {
  /**
   * A WebSocket constructor whose sockets are this tab's links to the shared connection, or
   * undefined where this runtime cannot share (the client then connects on its own).
   */
  socket(target: ShareTarget): WebSocketConstructor | undefined
}

/** A frame an outbox keeps: a publish (with its idempotency key) or an idempotent request, without an id. */
export type OutboxFrame =
  | { type: 'publish'; channel: string; data: JsonValue; key: string }
  | { type: 'request'; event: string; data?: JsonValue }

/** How an outbox sends: the client's request table, a fresh id per attempt. */
export interface OutboxSender {
  /** The client's server URLs: an outbox's default scope. */
  readonly urls: readonly string[]
  /** Sends now (or queues until the handshake is done); resolves with the reply's data. */
  send(frame: OutboxFrame, timeout: number | undefined): Promise<unknown>
}

/** One kept frame. */
export interface OutboxEntry {
  /** Unique among the outbox's entries. */
  readonly id: string
  /** The publish (with its idempotency `key`) or the idempotent request, as it will be sent. */
  readonly frame: OutboxFrame
  /** Its size on the wire, in bytes (JSON). */
  readonly bytes: number
  /** When it was made, in ms since the epoch. */
  readonly createdAt: number
  /** Whether this page sends it (it made it, or took it over from a page that is gone). */
  readonly mine: boolean
}

/** Why an entry left the outbox without being sent. */
export type OutboxDropReason = 'count' | 'bytes' | 'expired' | 'refused'

export interface OutboxEvents {
  /** What the outbox holds changed (an entry kept, sent, dropped; or changed by another tab). */
  change: readonly OutboxEntry[]
  /** An entry was answered: `result` is the reply's data (a publish's `{ epoch, offset }`). */
  sent: { entry: OutboxEntry; result: unknown }
  /**
   * An entry will never be sent: over `maxEntries` (`count`) or `maxBytes` (`bytes`) when made,
   * older than `maxAge` (`expired`), or refused by the server (`refused`, with its error).
   */
  dropped: { entry: OutboxEntry; reason: OutboxDropReason; error?: SwitchboardError }
}

/** A durable queue of frames made offline (made by `indexedDbOutbox()` in `@switchboard/client/outbox`). */
export interface ClientOutbox {
  /** What waits to be sent, oldest first. */
  entries(): OutboxEntry[]
  /** Listens to `change`, `sent` or `dropped`; returns a remover. */
  on<K extends keyof OutboxEvents>(event: K, listener: (payload: OutboxEvents[K]) => void): () => void
  /** Called once by the client it is given to. Throws if it was given to another client already. */
  attach(sender: OutboxSender): void
  /**
   * Keeps a frame made while not connected, `bytes` its size on the wire; settles with its
   * outcome once sent and answered (a refusal rejects with the server's SwitchboardError).
   */
  enqueue(
    frame: OutboxFrame,
    bytes: number,
    options: { timeout?: number; signal?: AbortSignal },
  ): Promise<unknown>
  /** The connection is ready: what is kept is sent. */
  connected(): void
  /** The client closed: callers waiting on kept frames get `disconnected`; the frames stay kept. */
  closed(): void
}

export interface RequestOptions {
  /** ms; default `requestTimeout`. Runs from the call, time spent queued offline included. */
  timeout?: number
  signal?: AbortSignal
  /**
   * Resend after a reconnect instead of failing with `disconnected`. Only for requests the server
   * can safely see twice.
   */
  idempotent?: boolean
}

export interface CloseOptions {
  /**
   * Wait for the answers first: the publishes and requests in flight or queued (and queued emits)
   * are sent and answered — or fail — before the socket closes. Default true. While waiting, the
   * client takes no new request, publish or emit (they fail with `disconnected`).
   */
  flush?: boolean
  /** The longest wait for them, in ms; what is left then fails with `disconnected`. Default 5 000. */
  timeout?: number
}
