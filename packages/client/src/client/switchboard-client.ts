/**
 * SwitchboardClient: the protocol on top of a ReconnectingWebSocket. It owns the connection state
 * machine (one `#setState`, a `state` event with the old state, the new one and a reason), the
 * dispatch of each decoded frame to whatever it concerns, and the channels, which it resubscribes
 * after every reconnect. Delegated: the request table (requests and publishes waiting for replies,
 * the offline queue) and the connection keeper (handshake, auth, token refresh, heartbeat).
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
  CloseCode,
  type HelloFrame,
  type JsonValue,
  type PublishResult,
  type ServerFrame,
  shouldReconnect,
} from '@switchboard/protocol'
import type { Channel, PublishOptions } from '../channel/channel.js'
import type { CloseInfo, ReconnectingWebSocket } from '../transport/reconnecting-websocket.js'
import { PublicEmitter } from '../util/emitter.js'
import { SwitchboardError } from '../util/errors.js'
import { BlobOrder } from '../util/read-blobs.js'
import { ChannelTable } from './channel-table.js'
import { clientSocket, wireTransport } from './client-socket.js'
import type {
  ClientCodec,
  ClientEvents,
  ClientOutbox,
  CloseOptions,
  ConnectionState,
  ConnectionStateReason,
  RequestOptions,
  StateChange,
  SwitchboardClientOptions,
} from './client-types.js'
import { ConnectionKeeper } from './connection-keeper.js'
import { decodeMessage } from './decode-message.js'
import { randomPrefix, wireData } from './frame-parts.js'
import { watchNetwork } from './network-watch.js'
import { OutboxLink } from './outbox-link.js'
import { RequestTable } from './request-table.js'
import { ServerEvents } from './server-events.js'

export class SwitchboardClient<M extends EventMap = UntypedEventMap> {
  readonly #emitter = new PublicEmitter<ClientEvents>()
  readonly #rws: ReconnectingWebSocket
  readonly #events = new ServerEvents<M>()
  readonly #channels: ChannelTable
  readonly #requests: RequestTable
  readonly #keeper: ConnectionKeeper
  readonly #codec: ClientCodec | undefined
  readonly #outbox: OutboxLink
  /** Publishes and requests whose data holds a Blob wait for it to be read, in call order. */
  readonly #blobs = new BlobOrder()
  #state: ConnectionState = 'disconnected'
  #nextKey = 0
  readonly #keyPrefix = randomPrefix()
  #hello: HelloFrame | undefined
  /** Why we are dropping the transport ourselves; consumed by the close handler. */
  #dropReason: ConnectionStateReason | undefined
  /** The close this client reports when it closes on its own account (4001 after a failed auth). */
  #ownClose: CloseInfo | undefined
  /** Stops watching the browser's online/offline events (watched from connect() until closed). */
  #unwatchNetwork: (() => void) | undefined

  constructor(url: string | readonly string[], options: SwitchboardClientOptions = {}) {
    // The defaults are the ones documented on SwitchboardClientOptions.
    const connectTimeout = options.connectTimeout ?? 10_000
    const { rws, codec } = clientSocket(url, options, connectTimeout, () => this.#channels.resumeQuery())
    this.#codec = codec
    this.#rws = rws
    const requests = new RequestTable({
      requestTimeout: options.requestTimeout ?? 10_000,
      maxQueue: options.maxQueue ?? 100,
      ...wireTransport(rws, codec),
    })
    this.#requests = requests
    this.#channels = new ChannelTable(
      requests,
      () => this.#state === 'connected',
      (channel, data, options) => this.publish(channel as ChannelName<M>, data as never, options),
      (channel, info, options = {}) =>
        this.#blobs.send(info, (value) => {
          const frame = {
            type: 'presence_update',
            id: this.#requests.nextId(),
            channel,
            info: value as JsonValue,
          } as const
          // Idempotent: the same info again is the same state, so a resend after a reconnect is safe.
          return this.#requests.request(frame, this.#state, options, true).then(() => undefined)
        }),
    )
    this.#keeper = new ConnectionKeeper(
      {
        requests,
        error: (err) => this.#emitter.emit('error', err),
        drop: (reason) => this.#drop(reason),
        authFailed: (err) => this.#authFailed(err),
        ready: (hello) => this.#onReady(hello),
      },
      {
        getToken: options.getToken,
        heartbeatMargin: options.heartbeatMargin ?? 5_000,
        connectTimeout,
      },
    )
    this.#outbox = new OutboxLink(options.outbox, {
      urls: typeof url === 'string' ? [url] : url,
      send: (frame, timeout) =>
        requests.request({ ...frame, id: requests.nextId() }, this.#state, { timeout }, true),
    })
    this.#rws.on('open', ({ elapsed }) => this.#keeper.opened(elapsed))
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

  /** Listens to the next one of these events only; returns a remover. */
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
    this.#outbox.claimed()
    this.#unwatchNetwork ??= watchNetwork({
      offline: () => this.#state === 'connected' && this.#drop('offline'),
      online: () => this.#rws.retryNow(),
    })
    this.#dropReason = undefined
    this.#setState('connecting', 'connect')
    this.#rws.connect()
  }

  /**
   * Closes for good (until `connect()`); resolves once closed. Unless `flush: false`, it first
   * waits up to `timeout` ms (5 000) for the publishes and requests in flight or queued to be
   * answered — over the current connection, or the next one if it is (re)connecting — taking no new
   * ones meanwhile. What is still pending then fails with `disconnected`. With nothing to wait
   * for (or `flush: false`) the client is closed when this returns.
   */
  close(options: CloseOptions = {}): Promise<void> {
    const waiting =
      options.flush === false || this.#state === 'closed' || this.#state === 'disconnected'
        ? undefined
        : this.#requests.drain(options.timeout ?? 5_000)
    if (!waiting) {
      this.#closeNow()
      return Promise.resolve()
    }
    return waiting.then(() => this.#closeNow())
  }

  #closeNow(): void {
    if (this.#state === 'closed') return
    this.#dropReason = 'close'
    this.#rws.close(CloseCode.NORMAL, 'client closed')
    // With no socket (waiting to reconnect) there is no close event: finish here.
    if (this.state !== 'closed')
      this.#onClose({ code: CloseCode.NORMAL, reason: 'client closed', wasClean: true })
  }

  /** Sends a request and resolves with the handler's reply; rejects with a SwitchboardError. */
  request<E extends RequestName<M>>(
    event: E,
    data: RequestData<M, E>,
    options: RequestOptions = {},
  ): Promise<ReplyData<M, E>> {
    return this.#blobs.send(data, (value) => {
      const frame = { type: 'request', id: this.#requests.nextId(), event, ...wireData(value) } as const
      const idempotent = options.idempotent ?? false
      if (idempotent && this.#outbox.keeps(this.#state)) {
        return this.#outbox.keep(frame, () => this.#requests.encode(frame), options) as Promise<
          ReplyData<M, E>
        >
      }
      return this.#requests.request(frame, this.#state, options, idempotent) as Promise<ReplyData<M, E>>
    })
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
    return this.#blobs.send(data, (value) => {
      const id = this.#requests.nextId()
      const key = options.key ?? `${this.#keyPrefix}${(++this.#nextKey).toString(36)}`
      const frame = { type: 'publish', id, channel, data: value as JsonValue, key } as const
      if (options.durable !== false && this.#outbox.keeps(this.#state)) {
        return this.#outbox.keep(frame, () => this.#requests.encode(frame), options) as Promise<PublishResult>
      }
      return this.#requests.request(frame, this.#state, options, true) as Promise<PublishResult>
    })
  }

  /** The outbox (the `outbox` option), if any: what it keeps, its events. */
  get outbox(): ClientOutbox | undefined {
    return this.#outbox.claimed()
  }

  /** Fire-and-forget: a request without id, so no reply. False when refused (closed, or queue full). */
  emit<E extends RequestName<M>>(event: E, data: RequestData<M, E>): boolean {
    const text = this.#requests.encode({ type: 'request', event, ...wireData(data) })
    return this.#requests.send(text, undefined, this.#state)
  }

  /** Listens to a server `event`; returns a function that removes the listener. */
  onEvent<E extends EventName<M>>(event: E, listener: (data: EventData<M, E>) => void): () => void {
    return this.#events.byName.on(event, listener)
  }

  offEvent<E extends EventName<M>>(event: E, listener: (data: EventData<M, E>) => void): void {
    this.#events.byName.off(event, listener)
  }

  /**
   * Listens to every server `event`, whatever its name (after the listeners of that name), as
   * `(event, data)`; returns a function that removes the listener. For tools and logging.
   */
  onAnyEvent(listener: (event: EventName<M>, data: EventData<M, EventName<M>>) => void): () => void {
    return this.#events.onAny(listener)
  }

  /** The channel of that name (one object per name), subscribed on first use. */
  channel<N extends ChannelName<M>>(name: N): Channel<ChannelData<M, N>> {
    return this.#channels.get(name, true) as Channel<ChannelData<M, N>>
  }

  /** Whether `channel(name)` was called (or the server subscribed it) and it was not removed since. */
  hasChannel(name: string): boolean {
    return this.#channels.has(name)
  }

  /** Unsubscribes and forgets a channel; `channel(name)` later makes a fresh one. */
  removeChannel(name: string): void {
    this.#channels.remove(name)
  }

  // ---- receiving -----------------------------------------------------------------------------

  #onData(data: unknown): void {
    this.#keeper.seen()
    const frame = decodeMessage(data, this.#codec)
    if (frame instanceof SwitchboardError) this.#emitter.emit('error', frame)
    else this.#onFrame(frame)
  }

  #onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'hello':
        this.#hello = frame
        void this.#keeper.hello(frame)
        return
      case 'reply':
        this.#requests.reply(frame, () => this.#state)
        return
      case 'message':
        this.#channels.message(frame)
        return
      case 'presence':
        this.#channels.presence(frame)
        return
      case 'subscribed': {
        // Announced once it is subscribed and before any publication, so the app's listeners
        // see the first one.
        const fresh = this.#channels.serverSubscribed(frame)
        if (fresh) this.#emitter.emit('serverSubscribed', fresh)
        return
      }
      case 'unsubscribed': {
        const ended = this.#channels.serverUnsubscribed(frame.channel)
        if (ended) this.#emitter.emit('serverUnsubscribed', ended)
        return
      }
      case 'event':
        this.#events.emit(frame.event, frame.data)
        return
      case 'error': {
        const error = new SwitchboardError(frame.code, frame.message, frame.details)
        const request = frame.id === undefined ? undefined : this.#requests.get(frame.id)
        if (request) {
          request.reject(error)
          return
        }
        this.#emitter.emit('error', error)
        return
      }
      case 'pong':
        return
      case 'refresh':
        void this.#keeper.refresh()
        return
    }
  }

  /** Authentication failed for good: report it and close (4001 is terminal, no reconnect). */
  #authFailed(error: SwitchboardError): void {
    this.#emitter.emit('error', error)
    this.#dropReason = 'auth_failed'
    // The socket closes with 1000 (nothing is wrong with the wire), but the client ends because
    // of the auth error: it reports 4001, as a server refusing the token would.
    const info = { code: CloseCode.AUTH_FAILED, reason: error.message, wasClean: true }
    this.#ownClose = info
    this.#rws.close(CloseCode.NORMAL, 'auth failed')
    // With no socket (waiting to reconnect) there is no close event: finish here.
    if (this.state !== 'closed') this.#onClose(info)
  }

  #onReady(hello: HelloFrame): void {
    this.#requests.maxPayload = hello.limits?.maxPayload
    this.#setState('connected', 'connected')
    this.#emitter.emit('connected', { connectionId: hello.connectionId, heartbeat: hello.heartbeat })
    // A listener may have closed the client already.
    if (this.#state !== 'connected') return
    // Channels first, so a queued publish to a channel comes after its subscribe.
    this.#channels.connected()
    this.#requests.ready()
    this.#outbox.connected()
  }

  #onClose(closed: CloseInfo): void {
    const info = this.#ownClose ?? closed
    this.#ownClose = undefined
    this.#keeper.closed()
    const willReconnect = this.#rws.state === 'reconnecting'
    const dropReason = this.#dropReason
    this.#dropReason = undefined
    this.#requests.closed(willReconnect, info.code)
    this.#channels.disconnected(willReconnect)
    if (willReconnect) {
      const reason = dropReason ?? 'connection_lost'
      this.#setState('reconnecting', reason, info)
    } else {
      const terminal = !shouldReconnect(info.code)
      const reason = dropReason ?? (terminal ? 'terminal_close' : 'max_retries')
      this.#outbox.closed()
      this.#unwatchNetwork?.()
      this.#unwatchNetwork = undefined
      this.#setState('closed', reason, info)
    }
  }

  /** Drops the transport and reconnects with backoff, recording why. */
  #drop(reason: ConnectionStateReason): void {
    this.#dropReason = reason
    // Offline or silent, the connection is dead (a shared connection is dropped for every tab).
    const dead = reason === 'heartbeat_timeout' || reason === 'offline'
    const code = dead ? CloseCode.HEARTBEAT_TIMEOUT : CloseCode.GOING_AWAY
    this.#rws.reconnect(code, reason)
  }

  #setState(newState: ConnectionState, reason: ConnectionStateReason, closed?: CloseInfo): void {
    const oldState = this.#state
    if (oldState === newState) return
    this.#state = newState
    const change: StateChange = { oldState, newState, reason }
    if (closed !== undefined) change.closeCode = closed.code
    if (closed?.reason) change.closeReason = closed.reason
    this.#emitter.emit('state', change)
  }
}
