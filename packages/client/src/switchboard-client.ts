/**
 * SwitchboardClient: the protocol on top of a ReconnectingWebSocket. It owns the connection state
 * machine (one `#setState`, a `state` event with the old state, the new one and a reason), the
 * handshake (hello, then an `auth` frame with a fresh token from `getToken` on every connect,
 * and again whenever the server sends `refresh` because the token is about to expire),
 * heartbeat liveness, requests and publishes waiting for replies, a bounded queue of frames made
 * while offline, and the channels, which it resubscribes after every reconnect.
 */

import type {
  ChannelData,
  ChannelName,
  EventData,
  EventMap,
  EventName,
  ReplyData,
  RequestData,
  RequestName,
  UntypedEventMap,
} from '@switchboard/protocol'
import {
  type ClientFrame,
  CloseCode,
  decodeServerFrame,
  encodeFrame,
  type HelloFrame,
  type JsonValue,
  ProtocolError,
  type PublishResult,
  type ServerFrame,
  type StreamPosition,
  SUBPROTOCOL,
  type SubscribeResult,
  shouldReconnect,
} from '@switchboard/protocol'
import type { Backoff } from './backoff.js'
import { Channel, type ChannelHost, type PublishOptions, type SubscribeOutcome } from './channel.js'
import { PublicEmitter } from './emitter.js'
import { SwitchboardError } from './errors.js'
import type { TransportName } from './fallback.js'
import { type Outcome, PendingRequest } from './pending-request.js'
import { type CloseInfo, ReconnectingWebSocket } from './reconnecting-websocket.js'
import type { WebSocketConstructor } from './websocket-like.js'

export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'closed'

/** Why the connection state changed. */
export type ConnectionStateReason =
  | 'connect'
  | 'connected'
  | 'connection_lost'
  | 'handshake_timeout'
  | 'heartbeat_timeout'
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
}

export interface ClientEvents {
  state: StateChange
  /** Handshake done (hello, and auth when there is a token); channels are being resubscribed. */
  connected: { connectionId: string; heartbeat: number }
  /** A server `error` frame tied to no request, a frame that could not be decoded, a refused token. */
  error: SwitchboardError
}

export interface SwitchboardClientOptions {
  /** WebSocket constructor. Default: the global WebSocket (browser entry), or `ws` (Node entry). */
  WebSocket?: WebSocketConstructor
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

interface Outgoing {
  frame: ClientFrame
  request: PendingRequest | undefined
}

const DEFAULTS = {
  connectTimeout: 10_000,
  requestTimeout: 10_000,
  heartbeatMargin: 5_000,
  maxQueue: 100,
  minUptime: 5_000,
}

export class SwitchboardClient<M extends EventMap = UntypedEventMap> {
  readonly #emitter = new PublicEmitter<ClientEvents>()
  readonly #rws: ReconnectingWebSocket
  readonly #getToken: SwitchboardClientOptions['getToken']
  readonly #requestTimeout: number
  readonly #connectTimeout: number
  readonly #heartbeatMargin: number
  readonly #maxQueue: number
  readonly #events = new PublicEmitter<M['events']>()
  readonly #channels = new Map<string, Channel>()
  readonly #pending = new Map<string, PendingRequest>()
  #outbox: Outgoing[] = []
  #state: ConnectionState = 'disconnected'
  #nextId = 0
  #nextKey = 0
  readonly #keyPrefix = randomPrefix()
  /** Counts transport connections, so async steps of an old one (getToken) are ignored. */
  #connection = 0
  #hello: HelloFrame | undefined
  #lastSeen = 0
  #handshakeTimer: ReturnType<typeof setTimeout> | undefined
  #pingTimer: ReturnType<typeof setInterval> | undefined
  #livenessTimer: ReturnType<typeof setTimeout> | undefined
  /** Why we are dropping the transport ourselves; consumed by the close handler. */
  #dropReason: ConnectionStateReason | undefined

  constructor(url: string | readonly string[], options: SwitchboardClientOptions = {}) {
    this.#getToken = options.getToken
    this.#requestTimeout = options.requestTimeout ?? DEFAULTS.requestTimeout
    this.#connectTimeout = options.connectTimeout ?? DEFAULTS.connectTimeout
    this.#heartbeatMargin = options.heartbeatMargin ?? DEFAULTS.heartbeatMargin
    this.#maxQueue = options.maxQueue ?? DEFAULTS.maxQueue
    this.#rws = new ReconnectingWebSocket(url, {
      protocols: SUBPROTOCOL,
      ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
      ...(options.transports ? { transports: options.transports } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {}),
      maxAttempts: options.maxAttempts ?? Number.POSITIVE_INFINITY,
      minUptime: options.minUptime ?? DEFAULTS.minUptime,
      connectTimeout: this.#connectTimeout,
      // This client queues frames itself, and only once the handshake is done.
      maxQueue: 0,
      startClosed: true,
    })
    this.#rws.on('open', () => this.#onOpen())
    this.#rws.on('message', ({ data }) => this.#onData(data))
    this.#rws.on('close', (info) => this.#onClose(info))
    if (options.autoConnect ?? true) this.connect()
  }

  get state(): ConnectionState {
    return this.#state
  }

  /** Listens to the client's own events (`state`, `connected`, `error`); returns a remover. */
  on<K extends keyof ClientEvents>(event: K, listener: (payload: ClientEvents[K]) => void): () => void {
    return this.#emitter.on(event, listener)
  }

  once<K extends keyof ClientEvents>(event: K, listener: (payload: ClientEvents[K]) => void): () => void {
    return this.#emitter.once(event, listener)
  }

  off<K extends keyof ClientEvents>(event: K, listener: (payload: ClientEvents[K]) => void): void {
    this.#emitter.off(event, listener)
  }

  /** The current connection's id from `hello`, while connected. */
  get connectionId(): string | undefined {
    return this.#state === 'connected' ? this.#hello?.connectionId : undefined
  }

  /** Starts connecting when disconnected or closed; no-op otherwise. */
  connect(): void {
    if (this.#state !== 'disconnected' && this.#state !== 'closed') return
    this.#dropReason = undefined
    this.#setState('connecting', 'connect')
    this.#rws.connect()
  }

  /** Closes for good (until `connect()`): pending and queued requests fail with `disconnected`. */
  close(): void {
    if (this.#state === 'closed') return
    this.#dropReason = 'close'
    this.#rws.close(CloseCode.NORMAL, 'client closed')
    // With no socket (waiting to reconnect) there is no close event: finish here.
    this.#onClose({ code: CloseCode.NORMAL, reason: 'client closed', wasClean: true })
  }

  /** Sends a request and resolves with the handler's reply; rejects with a SwitchboardError. */
  request<E extends RequestName<M>>(
    event: E,
    data: RequestData<M, E>,
    options: RequestOptions = {},
  ): Promise<ReplyData<M, E>> {
    const id = this.#id()
    const frame: ClientFrame = { type: 'request', id, event, ...wireData(data) }
    return this.#send(frame, id, options.timeout, options.signal, options.idempotent ?? false) as Promise<
      ReplyData<M, E>
    >
  }

  /**
   * Publishes to a channel and resolves once the server's broker accepted the message. An
   * idempotency key is generated when none is given, so the client may resend the publish
   * after a reconnect and it still lands once.
   */
  publish<N extends ChannelName<M>>(
    channel: N,
    data: ChannelData<M, N>,
    options: PublishOptions = {},
  ): Promise<PublishResult> {
    const id = this.#id()
    const key = options.key ?? `${this.#keyPrefix}${(++this.#nextKey).toString(36)}`
    const frame: ClientFrame = { type: 'publish', id, channel, data: data as JsonValue, key }
    return this.#send(frame, id, options.timeout, options.signal, true) as Promise<PublishResult>
  }

  /** Fire-and-forget: a request without id, so no reply. False when refused (closed, or queue full). */
  emit<E extends RequestName<M>>(event: E, data: RequestData<M, E>): boolean {
    return this.#enqueueOrSend({ type: 'request', event, ...wireData(data) }, undefined)
  }

  /** Listens to a server `event`; returns a function that removes the listener. */
  onEvent<E extends EventName<M>>(event: E, listener: (data: EventData<M, E>) => void): () => void {
    return this.#events.on(event, listener)
  }

  offEvent<E extends EventName<M>>(event: E, listener: (data: EventData<M, E>) => void): void {
    this.#events.off(event, listener)
  }

  /** The channel of that name (one object per name), subscribed on first use. */
  channel<N extends ChannelName<M>>(name: N): Channel<ChannelData<M, N>> {
    let channel = this.#channels.get(name)
    if (!channel) {
      channel = new Channel(name, this.#host)
      this.#channels.set(name, channel)
      channel.subscribe()
    }
    return channel as Channel<ChannelData<M, N>>
  }

  /** Whether `channel(name)` was called and the channel not removed since. */
  hasChannel(name: string): boolean {
    return this.#channels.has(name)
  }

  /** Unsubscribes and forgets a channel; `channel(name)` later makes a fresh one. */
  removeChannel(name: string): void {
    this.#channels.get(name)?.unsubscribe()
    this.#channels.delete(name)
  }

  // ---- sending -------------------------------------------------------------------------------

  readonly #host: ChannelHost = {
    isConnected: () => this.#state === 'connected',
    sendSubscribe: (channel, since, done) => this.#subscribe(channel, since, done),
    sendUnsubscribe: (channel) => {
      if (this.#state === 'connected') this.#rws.send(encodeFrame({ type: 'unsubscribe', channel }))
    },
    publish: (channel, data, options) => this.publish(channel as ChannelName<M>, data as never, options),
  }

  #subscribe(
    channel: string,
    since: StreamPosition | undefined,
    done: (outcome: SubscribeOutcome) => void,
  ): void {
    const id = this.#id()
    const frame: ClientFrame = since
      ? { type: 'subscribe', id, channel, since }
      : { type: 'subscribe', id, channel }
    const request = this.#track(id, frame, undefined, undefined, false, (outcome) =>
      done(outcome.ok ? { ok: true, result: outcome.data as unknown as SubscribeResult } : outcome),
    )
    // The channel hears of the outcome through `done`; the promise itself has no reader.
    request.promise.catch(noop)
    this.#transmit(frame, request)
  }

  #send(
    frame: ClientFrame,
    id: string,
    timeout: number | undefined,
    signal: AbortSignal | undefined,
    idempotent: boolean,
  ): Promise<unknown> {
    const request = this.#track(id, frame, timeout, signal, idempotent)
    if (!request.settled) this.#enqueueOrSend(frame, request)
    return request.promise
  }

  #track(
    id: string,
    frame: ClientFrame,
    timeout: number | undefined,
    signal: AbortSignal | undefined,
    idempotent: boolean,
    onOutcome?: (outcome: Outcome) => void,
  ): PendingRequest {
    const request = new PendingRequest(
      id,
      frame,
      { timeout: timeout ?? this.#requestTimeout, signal, idempotent },
      (done, outcome) => {
        this.#pending.delete(done.id)
        onOutcome?.(outcome)
      },
    )
    if (!request.settled) this.#pending.set(id, request)
    return request
  }

  #enqueueOrSend(frame: ClientFrame, request: PendingRequest | undefined): boolean {
    if (this.#state === 'connected') {
      this.#transmit(frame, request)
      return true
    }
    if (this.#state === 'closed') {
      request?.reject(new SwitchboardError('disconnected', 'the client is closed'))
      return false
    }
    if (this.#outbox.length >= this.#maxQueue) {
      this.#outbox = this.#outbox.filter((item) => !item.request?.settled)
    }
    if (this.#outbox.length >= this.#maxQueue) {
      request?.reject(new SwitchboardError('limit_exceeded', `offline queue is full (${this.#maxQueue})`))
      return false
    }
    this.#outbox.push({ frame, request })
    return true
  }

  #transmit(frame: ClientFrame, request: PendingRequest | undefined): void {
    this.#rws.send(encodeFrame(frame))
    if (request) request.sent = true
  }

  #id(): string {
    return (++this.#nextId).toString(36)
  }

  // ---- receiving -----------------------------------------------------------------------------

  #onOpen(): void {
    this.#connection++
    this.#lastSeen = Date.now()
    this.#handshakeTimer = setTimeout(() => this.#drop('handshake_timeout'), this.#connectTimeout)
  }

  #onData(data: unknown): void {
    this.#lastSeen = Date.now()
    if (typeof data !== 'string') {
      this.#emitter.emit('error', new SwitchboardError('invalid_frame', 'binary frames are not part of v1'))
      return
    }
    let frame: ServerFrame
    try {
      frame = decodeServerFrame(data)
    } catch (err) {
      // The codec throws nothing but ProtocolError; the fallback only keeps the types honest.
      const code = err instanceof ProtocolError ? err.code : 'invalid_frame'
      this.#emitter.emit(
        'error',
        new SwitchboardError(code, err instanceof Error ? err.message : 'bad frame'),
      )
      return
    }
    this.#onFrame(frame)
  }

  #onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'hello':
        void this.#onHello(frame)
        return
      case 'reply': {
        const request = this.#pending.get(frame.id)
        if (!request) return
        if (frame.ok) request.resolve(frame.data)
        else request.reject(new SwitchboardError(frame.error.code, frame.error.message, frame.error.details))
        return
      }
      case 'message':
        this.#channels.get(frame.channel)?.handleMessage(frame)
        return
      case 'presence':
        this.#channels.get(frame.channel)?.handlePresence(frame.action, frame.member)
        return
      case 'event':
        this.#events.emit(frame.event as EventName<M>, frame.data as EventData<M, EventName<M>>)
        return
      case 'error': {
        const error = new SwitchboardError(frame.code, frame.message, frame.details)
        const request = frame.id === undefined ? undefined : this.#pending.get(frame.id)
        if (request) {
          request.reject(error)
          return
        }
        if (frame.channel !== undefined && frame.code === 'slow_consumer') {
          this.#channels.get(frame.channel)?.handleStreamCut()
        }
        this.#emitter.emit('error', error)
        return
      }
      case 'pong':
        return
      case 'refresh':
        void this.#refresh()
        return
    }
  }

  async #onHello(hello: HelloFrame): Promise<void> {
    const connection = this.#connection
    this.#hello = hello
    this.#startHeartbeat(hello.heartbeat)
    if (this.#getToken) {
      let token: string | null | undefined
      try {
        token = await this.#getToken()
      } catch (err) {
        if (connection !== this.#connection) return
        this.#emitter.emit('error', new SwitchboardError('unauthorized', `getToken failed: ${String(err)}`))
        this.#drop('token_failed')
        return
      }
      if (connection !== this.#connection) return
      if (token !== null && token !== undefined) {
        if (!(await this.#authenticate(token, connection))) return
        if (connection !== this.#connection) return
        this.#onReady(hello)
        return
      }
    }
    if (hello.auth === 'required') {
      // The server wants a token and we have none: fail now, not at its auth timeout.
      this.#authFailed(new SwitchboardError('unauthorized', 'the server requires a token: set getToken'))
      return
    }
    if (connection !== this.#connection) return
    this.#onReady(hello)
  }

  async #authenticate(token: string, connection: number): Promise<boolean> {
    const id = this.#id()
    const frame: ClientFrame = { type: 'auth', id, token }
    const request = this.#track(id, frame, this.#connectTimeout, undefined, false)
    this.#transmit(frame, request)
    try {
      await request.promise
      return true
    } catch (err) {
      if (connection !== this.#connection) return false
      const error = err as SwitchboardError
      if (error.code === 'timeout') {
        this.#drop('handshake_timeout')
      } else if (error.code !== 'disconnected') {
        this.#authFailed(error)
      }
      return false
    }
  }

  /** Authentication failed for good: report it and close (4001 is terminal, no reconnect). */
  #authFailed(error: SwitchboardError): void {
    this.#emitter.emit('error', error)
    this.#dropReason = 'auth_failed'
    this.#rws.close(CloseCode.NORMAL, 'auth failed')
    this.#onClose({ code: CloseCode.AUTH_FAILED, reason: error.message, wasClean: true })
  }

  /**
   * The server's token for this connection is about to expire: send a fresh one from `getToken`.
   * A failure is reported as an `error` event; the server then closes with 4001 at expiry.
   */
  async #refresh(): Promise<void> {
    const connection = this.#connection
    try {
      const token = await this.#getToken?.()
      if (connection !== this.#connection) return
      if (token === null || token === undefined) throw new Error('getToken gave no token')
      const id = this.#id()
      const frame: ClientFrame = { type: 'auth', id, token }
      const request = this.#track(id, frame, this.#requestTimeout, undefined, false)
      this.#transmit(frame, request)
      await request.promise
    } catch (err) {
      if (connection !== this.#connection || (err as SwitchboardError).code === 'disconnected') return
      this.#emitter.emit(
        'error',
        err instanceof SwitchboardError
          ? err
          : new SwitchboardError('unauthorized', `token refresh failed: ${String(err)}`),
      )
    }
  }

  #onReady(hello: HelloFrame): void {
    this.#clearHandshake()
    this.#setState('connected', 'connected')
    this.#emitter.emit('connected', { connectionId: hello.connectionId, heartbeat: hello.heartbeat })
    // A listener may have closed the client already.
    if (this.#state !== 'connected') return
    // Channels first, so a queued publish to a channel comes after its subscribe.
    for (const channel of this.#channels.values()) channel.handleConnected()
    const outbox = this.#outbox
    this.#outbox = []
    for (const item of outbox) if (!item.request?.settled) this.#transmit(item.frame, item.request)
  }

  #onClose(info: CloseInfo): void {
    this.#connection++
    this.#clearHandshake()
    this.#stopHeartbeat()
    const willReconnect = this.#rws.state === 'reconnecting'
    const dropReason = this.#dropReason
    this.#dropReason = undefined
    // Requests already on the wire: resend the idempotent ones after the reconnect, fail the rest.
    const resend: Outgoing[] = []
    for (const request of this.#pending.values()) {
      if (!request.sent) continue
      request.sent = false
      if (willReconnect && request.idempotent) resend.push({ frame: request.frame, request })
      else
        request.reject(
          new SwitchboardError('disconnected', `connection closed (${info.code}) before the reply`),
        )
    }
    this.#outbox = [...resend, ...this.#outbox]
    if (!willReconnect) {
      const outbox = this.#outbox
      this.#outbox = []
      for (const item of outbox)
        item.request?.reject(new SwitchboardError('disconnected', 'the client is closed'))
    }
    for (const channel of this.#channels.values()) channel.handleDisconnected(willReconnect)
    if (willReconnect) {
      const reason = dropReason ?? 'connection_lost'
      this.#setState('reconnecting', reason, info.code)
    } else {
      const terminal = !shouldReconnect(info.code)
      const reason = dropReason ?? (terminal ? 'terminal_close' : 'max_retries')
      this.#setState('closed', reason, info.code)
    }
  }

  /** Drops the transport and reconnects with backoff, recording why. */
  #drop(reason: ConnectionStateReason): void {
    this.#dropReason = reason
    const code = reason === 'heartbeat_timeout' ? CloseCode.HEARTBEAT_TIMEOUT : CloseCode.GOING_AWAY
    this.#rws.reconnect(code, reason)
  }

  // ---- liveness ------------------------------------------------------------------------------

  /**
   * Servers send WebSocket pings, which browsers cannot see; so the client sends a `ping` frame
   * every interval, and any frame at all from the server counts as a sign of life.
   */
  #startHeartbeat(interval: number): void {
    this.#stopHeartbeat()
    if (interval <= 0) return
    const deadline = interval + this.#heartbeatMargin
    this.#pingTimer = setInterval(() => this.#rws.send(encodeFrame({ type: 'ping' })), interval)
    const check = (): void => {
      const silent = Date.now() - this.#lastSeen
      if (silent >= deadline) this.#drop('heartbeat_timeout')
      else this.#livenessTimer = setTimeout(check, deadline - silent)
    }
    this.#livenessTimer = setTimeout(check, deadline)
  }

  #stopHeartbeat(): void {
    if (this.#pingTimer !== undefined) clearInterval(this.#pingTimer)
    if (this.#livenessTimer !== undefined) clearTimeout(this.#livenessTimer)
    this.#pingTimer = undefined
    this.#livenessTimer = undefined
  }

  #clearHandshake(): void {
    if (this.#handshakeTimer !== undefined) clearTimeout(this.#handshakeTimer)
    this.#handshakeTimer = undefined
  }

  #setState(newState: ConnectionState, reason: ConnectionStateReason, closeCode?: number): void {
    const oldState = this.#state
    if (oldState === newState) return
    this.#state = newState
    const change: StateChange = { oldState, newState, reason }
    if (closeCode !== undefined) change.closeCode = closeCode
    this.#emitter.emit('state', change)
  }
}

function noop(): void {}

function wireData(data: unknown): { data?: JsonValue } {
  return data === undefined ? {} : { data: data as JsonValue }
}

function randomPrefix(): string {
  const bytes = new Uint8Array(6)
  globalThis.crypto.getRandomValues(bytes)
  let out = ''
  for (const b of bytes) out += b.toString(36).padStart(2, '0')
  return `${out}-`
}
