/**
 * The public shapes of a Switchboard server: its options, its events, and the `Switchboard`
 * object `createSwitchboard()` returns. Kept apart from the implementation so the API can be read
 * (and documented) in one place.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { StandardSchemaV1 } from '@standard-schema/spec'
import type { Broker } from '@switchboard/broker'
import type {
  ChannelData,
  ChannelName,
  EventData,
  EventMap,
  EventName,
  HandlerData,
  JsonValue,
  PublishResult,
  ReplyData,
  RequestData,
  RequestName,
  SchemaMap,
  SubscribeResult,
  UntypedEventMap,
} from '@switchboard/protocol'
import type { TokenAuth } from './auth/auth-session.js'
import type { RevokeRequest, RevokeResult } from './auth/revocations.js'
import type { ChannelOptionsMap } from './channels/channel-options.js'
import type { Connection, ConnectionData } from './connection/connection.js'
import type { HttpApiOptions } from './http-api/http-api.js'
import type { ProxyOptions } from './proxy/proxy-options.js'
import type { DisconnectUserOptions } from './users/disconnect.js'
import type { WebhooksOptions } from './webhooks/webhook-options.js'

export type { DisconnectUserOptions, HttpApiOptions, RevokeRequest, RevokeResult }
export interface Logger {
  info(message: string): void
  warn(message: string): void
  error(message: string, err?: unknown): void
}

type MaybePromise<T> = T | Promise<T>

export interface SwitchboardOptions<M extends EventMap = UntypedEventMap, D = ConnectionData> {
  /** Attach to this HTTP(S) server instead of creating one; it is not closed by `sb.close()`. */
  server?: Server | HttpsServer
  /** Port of the server created when `server` is not given: default `PORT` from the env, else 8080. */
  port?: number
  /** Host to listen on; default all interfaces. */
  host?: string
  /** The WebSocket endpoint; default `/ws`. */
  path?: string
  /**
   * The HTTP transports for clients that cannot use WebSocket, served under `path` (`/ws/sse`,
   * `/ws/poll`); both on by default. On an app's `server`, the request listeners it has when
   * `createSwitchboard` runs get every other request (and get them back on `close`). See
   * docs/protocol.md.
   */
  transports?: { sse?: boolean; longPolling?: boolean }
  /**
   * On the created server: milliseconds a request's headers may take to arrive (a slow or idle
   * handshake is dropped after it; default 10 000), and a whole request, body included (default
   * 30 000). An application's own `server` keeps its own settings.
   */
  headersTimeout?: number
  requestTimeout?: number
  /** Answers plain HTTP requests on the created server (after `/healthz`); default 404. */
  onRequest?: (req: IncomingMessage, res: ServerResponse) => void
  /** Per-channel options by pattern: history, presence, clientPublish, schema. */
  channels?: ChannelOptionsMap
  /**
   * Validators for requests, server events and channels in one object (see `defineSchemas` and
   * `InferEventMap` in @switchboard/protocol): a request's `data` validator is the default schema
   * of its `handle`, an event's runs in `conn.send`/`sendTo`, a channel pattern's is that
   * pattern's `schema` option. docs/server.md shows it with zod and valibot.
   */
  schemas?: SchemaMap
  /** Default: an in-memory broker configured from `channels`. */
  broker?: Broker
  /** Milliseconds between WebSocket pings; a peer that misses one whole interval is dropped. 0 = off. */
  heartbeat?: number
  /** Largest incoming message in bytes (default 64 KiB); bigger closes with 1009. */
  maxPayload?: number
  /** Unsent bytes per connection before it is cut off as a slow consumer (4100). Default 1 MiB. */
  maxBufferedBytes?: number
  maxSubscriptions?: number
  maxPendingRequests?: number
  /** Token bucket per connection: burst `capacity`, refilled at `refillPerSecond`. */
  rateLimit?: { capacity?: number; refillPerSecond?: number }
  /** Invalid frames tolerated in a burst before closing with 1008 (default 10). */
  maxProtocolErrors?: number
  /** Open connections per remote address; more are refused with HTTP 429. Default unlimited. */
  maxConnectionsPerIp?: number
  /**
   * Open connections per user in the whole cluster (with a shared broker such as Redis, counted
   * and added in one atomic step, so nodes racing cannot pass it). A connection's user is its
   * presence `userId`: `presence(conn)`, else its token's subject, else its id. Default unlimited.
   */
  maxConnectionsPerUser?: number
  /**
   * What a connection past `maxConnectionsPerUser` meets. `refuse` (default): it is closed with
   * 4029 (terminal) before its hello — or, sending its token in an `auth` frame, closed with 4029
   * instead of an answer. `closeOldest`: it is let in, and the user's oldest
   * connection, on whichever node, is closed with 4029.
   */
  maxConnectionsPerUserPolicy?: 'refuse' | 'closeOldest'
  /** Exact `Origin` values allowed to connect; others (and a missing Origin) get 403. */
  allowedOrigins?: readonly string[]
  /** Milliseconds a close handshake may take before the socket is destroyed (default 5000). */
  closeTimeout?: number
  /** Runs on every handshake; its result becomes `conn.data`. Throw to refuse with HTTP 401. */
  authenticate?: (req: IncomingMessage) => MaybePromise<D>
  /** Answers `auth` frames (a token refresh); throw SwitchboardError('unauthorized', …) to refuse. */
  onAuth?: (conn: Connection<M, D>, token: string) => MaybePromise<void>
  /**
   * Token authentication with expiry and refresh (`...jwtAuth({ secret })` sets it): instead of
   * `authenticate`/`onAuth`, which must then be unset. See docs/security.md.
   */
  tokenAuth?: TokenAuth<D>
  /**
   * Milliseconds a token revocation (`sb.revoke`) is kept in the broker: the longest a token can
   * live, so that any token it covers has expired by the time it is forgotten. Kept this long
   * from the revocation (or from its `issuedBefore`, if later). Default 86 400 000 (24 h).
   */
  revocationTtl?: number
  /** Permission checks; returning false answers `forbidden`. */
  authorize?: {
    subscribe?: (conn: Connection<M, D>, channel: string) => MaybePromise<boolean>
    publish?: (conn: Connection<M, D>, channel: string, data: JsonValue) => MaybePromise<boolean>
  }
  /**
   * HTTP endpoints of the application that decide connect, refresh, subscribe and publish, and
   * answer requests (see docs/proxy.md). `connect` replaces `tokenAuth`/`authenticate`/`onAuth`;
   * `subscribe`/`publish` are asked after `authorize`, for the channels their patterns match.
   */
  proxy?: ProxyOptions
  /** Who a connection is on presence channels; default its token's subject (`tokenAuth`), else `{ userId: conn.id }`. */
  presence?: (conn: Connection<M, D>) => { userId: string; info?: JsonValue }
  /** Where the server reports; `false` for silence. Default: console. */
  logger?: Logger | false
  /**
   * The HTTP API for backends (docs/http-api.md): `POST /api/publish`, `/api/subscribe`… with
   * `Authorization: Bearer <key>`, on the main port under `/api/`, or on a listener of its own
   * with `port`. Off unless given.
   */
  httpApi?: HttpApiOptions
  /**
   * Lifecycle events (`user.online`, `channel.vacated`, `connection.close`…) POSTed to the
   * application's receivers, signed, at least once and in order, from a durable queue in the
   * broker — see docs/webhooks.md. Off unless given.
   */
  webhooks?: WebhooksOptions
}

export interface SwitchboardEvents<M extends EventMap, D> {
  connection: (conn: Connection<M, D>, req: IncomingMessage) => void
  disconnect: (conn: Connection<M, D>, info: { code: number; reason: string }) => void
}

export interface ServerAddress {
  host: string
  port: number
  /** The WebSocket URL, e.g. `ws://127.0.0.1:8080/ws`. */
  url: string
  /** With `httpApi`: where it answers, e.g. `http://127.0.0.1:8080/api` (its own port with `httpApi.port`). */
  api?: { port: number; url: string }
}

export interface CloseOptions {
  /** Milliseconds to let clients finish before they are cut off; default 10 000. */
  timeout?: number
  /** Default 1012 (service restart): clients reconnect, to another node if there is one. */
  code?: number
  reason?: string
}

export interface PublishOptionsFor<M extends EventMap, D> {
  /** A connection (or its id) that must not receive this message. */
  except?: Connection<M, D> | string
  /** Idempotency key: a publish retried with the same key lands once. */
  key?: string
}

export interface SwitchboardStats {
  connections: number
  channels: number
  handshakesRefused: number
  disconnects: Record<number, number>
  /** HTTP API calls answered, by method (`unknown` for paths that are none) and HTTP status. */
  apiRequests: Record<string, Record<number, number>>
  /** Messages published through this node: client publishes, `sb.publish`, the HTTP API. */
  messagesIn: number
  /** Message frames handed to this node's subscribers. */
  messagesOut: number
  /** Resubscribes with a position (`since`): those that got every missed message, and those that could not. */
  recoveries: { recovered: number; notRecovered: number }
  /** Broker operations that failed (answered `unavailable` or `timeout`). */
  brokerFailures: number
  /** The event loop's delay, p99 over about the last 5 seconds, in seconds (measured from the first call). */
  eventLoopDelaySeconds: number
}

export interface Switchboard<M extends EventMap = UntypedEventMap, D = ConnectionData> {
  /** The HTTP server, created or given. */
  readonly server: Server | HttpsServer
  readonly broker: Broker
  /** Resolves once the server listens (at once for an attached server that already does). */
  readonly ready: Promise<ServerAddress>
  readonly connections: ReadonlyMap<string, Connection<M, D>>
  /** Adds a listener; returns a function that removes it (as the client's `on` does). */
  on<K extends keyof SwitchboardEvents<M, D>>(event: K, listener: SwitchboardEvents<M, D>[K]): () => void
  off<K extends keyof SwitchboardEvents<M, D>>(event: K, listener: SwitchboardEvents<M, D>[K]): this
  handle<E extends RequestName<M>>(
    event: E,
    handler: (conn: Connection<M, D>, data: HandlerData<M, E>) => MaybePromise<ReplyData<M, E>>,
  ): this
  handle<E extends RequestName<M>, S extends StandardSchemaV1<unknown, RequestData<M, E>>>(
    event: E,
    schema: S,
    handler: (conn: Connection<M, D>, data: StandardSchemaV1.InferOutput<S>) => MaybePromise<ReplyData<M, E>>,
  ): this
  /**
   * Gives a server event a Standard Schema validator: `conn.send` and `sendTo` then send what it
   * gives for their data, and throw a SwitchboardError `invalid_payload` (with the issues) when
   * the data fails it. It must validate synchronously. A TypeError for an invalid name, an event
   * that has one already, or something that is not a validator.
   */
  event<E extends EventName<M>>(event: E, schema: StandardSchemaV1<unknown, EventData<M, E>>): this
  /**
   * Publishes to every subscriber of the channel; resolves with the message's `{ epoch, offset }`
   * once the broker accepted it. `data` is JSON's values plus bytes (`Uint8Array`, `Buffer`,
   * `ArrayBuffer`, which subscribers get as `Uint8Array`). A channel with a `schema` publishes
   * what it gives. Rejects with a SwitchboardError `invalid_payload` for data that fails the
   * schema (with its issues) or that no codec can carry (a BigInt, a cycle, a Map, a class
   * instance…), before the broker takes an offset; with a TypeError for an invalid channel name.
   */
  publish<N extends ChannelName<M>>(
    channel: N,
    data: ChannelData<M, N>,
    options?: PublishOptionsFor<M, D>,
  ): Promise<PublishResult>
  /**
   * Sends an `event` frame to one connection by id, on this node or — with a shared broker such as
   * Redis — on whichever node holds it. Resolves true if the connection (or, remotely, its node)
   * took it, false if no such connection; rejects if the broker is unreachable. At most once: an
   * event for a connection that is reconnecting is lost (use a channel when it must arrive).
   */
  sendTo<E extends EventName<M>>(connectionId: string, event: E, data: EventData<M, E>): Promise<boolean>
  /**
   * Subscribes a connection from the server side (no authorize check). Rejects with a TypeError
   * for an invalid channel name or a connection that is not open on this server.
   */
  subscribe(conn: Connection<M, D>, channel: string): Promise<SubscribeResult>
  /**
   * Unsubscribes a connection from the server side; nothing happens if it is not subscribed.
   * Rejects with a TypeError for a connection that is not open on this server, as `subscribe` does.
   */
  unsubscribe(conn: Connection<M, D>, channel: string): Promise<void>
  /**
   * Closes every connection of `user` on every node (the user as `maxConnectionsPerUser` counts
   * it) and resolves with how many were closed. The default close code is 4004, terminal: the
   * SDK does not reconnect; `reconnect: true` closes with 4103, which the SDK answers by
   * connecting again (with a fresh token from `getToken`) — "log in again". A `code` of your own
   * may be 1000, 1001, 1012, 1013 or 3000–4999. Rejects with a TypeError for another code or a
   * reason over 123 bytes of UTF-8, with a SwitchboardError `unavailable` if the broker could not
   * send the command. With Redis, a node that does not answer within 5 s (`httpApi.commandTimeout`)
   * is not counted. Nothing keeps the user from connecting again: refuse them in the token or
   * `authenticate` for that.
   */
  disconnectUser(user: string, options?: DisconnectUserOptions): Promise<number>
  /**
   * Revokes a token by its id (`{ jti }`, a JWT's `jti` claim), or every token of a user issued
   * before a time (`{ user, issuedBefore? }`: a Date or milliseconds since the epoch, default now;
   * `user` is the token's subject — a JWT's `sub`, the connect hook's `user`). Stored in the
   * broker for `revocationTtl`, on every node: a covered token is refused at the handshake (HTTP
   * 401) and in `auth` frames (`unauthorized`, close 4001), and connections holding one are
   * closed with 4001 `token revoked` (within a second, on every node). Applies to `tokenAuth`
   * (`jwtAuth`, the proxy's connect hook), not to `authenticate`. Resolves once stored, with when
   * it will be forgotten; rejects with a TypeError for a malformed request, a SwitchboardError
   * `unavailable` (or `timeout`: it may still be stored) if the broker could not store it.
   */
  revoke(request: RevokeRequest): Promise<RevokeResult>
  /** Local subscribers of a channel. */
  channelSize(channel: string): number
  stats(): SwitchboardStats
  /** Stops accepting, closes every connection with 1012, waits for them, then force-closes. */
  close(options?: CloseOptions): Promise<void>
}
