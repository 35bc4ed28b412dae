/**
 * One client connection: its identity and user data, its subscriptions, its rate limit and
 * abuse count, and its requests in flight. It reads frames from a Transport it knows nothing
 * about, decides what each frame may do, and asks the server (its ConnectionHost) to do it.
 *
 * Channel operations (subscribe, unsubscribe, publish) from one connection run one after the
 * other, so a client that subscribes and then publishes sees its own message; requests run
 * concurrently, bounded by maxPendingRequests, so one slow handler does not block the rest.
 */

import type { EventData, EventMap, EventName, UntypedEventMap } from '@switchboard/protocol'
import {
  type ClientFrame,
  CloseCode,
  type ClosingErrorCode,
  closeFor,
  decodeClientFrame,
  type ErrorBody,
  ErrorCode,
  isValidEventName,
  type JsonValue,
  type PresenceUpdateFrame,
  ProtocolError,
  type PublishFrame,
  type PublishResult,
  type ServerFrame,
  type SubscribeFrame,
  type SubscribeResult,
} from '@switchboard/protocol'
import { msgpackCodec } from '@switchboard/protocol/msgpack'
import { errorBody } from '../errors.js'
import type { HandlerResult } from '../requests/handlers.js'
import {
  type OutgoingBatch,
  OutgoingFrame,
  type Transport,
  type TransportHandlers,
} from '../transport/transport.js'
import { TokenBucket } from './rate-limit.js'

export type ConnectionState = 'open' | 'closing' | 'closed'

/** The default type of `conn.data`: whatever `authenticate` returned, or an empty object. */
export type ConnectionData = Record<string, unknown>

/** A client connection as the application sees it. */
export interface Connection<M extends EventMap = UntypedEventMap, D = ConnectionData> {
  /** Random and unique; the client learns it from `hello`. */
  readonly id: string
  /** Application data: what `authenticate` returned; free to change. */
  data: D
  readonly remoteAddress: string | undefined
  readonly state: ConnectionState
  readonly subscriptions: ReadonlySet<string>
  /** Bytes queued for this client and not yet handed to the kernel. */
  readonly bufferedAmount: number
  /** Sends an `event` frame to this client only; false if the connection is closing. */
  send<E extends EventName<M>>(event: E, data: EventData<M, E>): boolean
  /** Closes the connection after what is already queued (1000 by default). */
  close(code?: number, reason?: string): void
}

export interface ConnectionLimits {
  maxSubscriptions: number
  maxPendingRequests: number
  rateLimit: { capacity: number; refillPerSecond: number }
  /** Invalid frames tolerated in a burst (refilling one per 10 s); the next one closes the connection (1008). */
  maxProtocolErrors: number
}

/** What a connection needs from the server. Methods throw SwitchboardError to refuse. */
export interface ConnectionHost {
  readonly limits: ConnectionLimits
  subscribe(conn: ClientConnection, frame: SubscribeFrame): Promise<SubscribeResult>
  unsubscribe(conn: ClientConnection, channel: string): Promise<void>
  publish(conn: ClientConnection, frame: PublishFrame): Promise<PublishResult>
  /** A `presence_update` frame: the sender's new presence info on a channel. */
  updatePresence(conn: ClientConnection, frame: PresenceUpdateFrame): Promise<void>
  request(
    conn: ClientConnection,
    event: string,
    data: JsonValue | undefined,
  ): HandlerResult | Promise<HandlerResult>
  auth(conn: ClientConnection, token: string): Promise<JsonValue | undefined>
  /** Whether the connection may do more than `auth` and `ping` (with token auth: once it has one). */
  mayAct(conn: ClientConnection): boolean
  activity(conn: ClientConnection): void
  closed(conn: ClientConnection, code: number, reason: string): void
  /** The data to send for a server event: validated by the event's schema, when it has one (throws `invalid_payload`). */
  eventData(event: string, data: unknown): unknown
  /** A handler's reply held data no codec can carry (the error says what): logged, answered `internal`. */
  unsendableReply(conn: ClientConnection, err: unknown): void
}

const NO_SUBSCRIPTIONS: ReadonlySet<string> = new Set()

export class ClientConnection implements Connection<EventMap, unknown>, TransportHandlers {
  private _state: ConnectionState = 'open'
  // Made when first needed: most connections are idle most of the time, and per-connection memory
  // is what a server with many of them pays for.
  private subs: Set<string> | undefined
  /** Made on the first frame: a bucket made then is full, as it would have refilled meanwhile. */
  private rate: TokenBucket | undefined
  /** Made on the first protocol error: most connections never need one. */
  private abuse: TokenBucket | undefined
  private pending = 0
  private chain: Promise<void> | undefined
  /** When it opened, in milliseconds since the epoch. */
  readonly openedAt = Date.now()

  constructor(
    readonly id: string,
    public data: unknown,
    readonly remoteAddress: string,
    private readonly transport: Transport,
    private readonly host: ConnectionHost,
  ) {
    transport.setHandlers(this)
  }

  get state(): ConnectionState {
    // The transport may have started closing on its own (a slow consumer, a protocol error).
    return this._state === 'open' && this.transport.state !== 'open' ? 'closing' : this._state
  }

  get subscriptions(): ReadonlySet<string> {
    return this.subs ?? NO_SUBSCRIPTIONS
  }

  get bufferedAmount(): number {
    return this.transport.bufferedAmount
  }

  get transportKind(): string {
    return this.transport.kind
  }

  /** Whether the connection speaks MessagePack (`switchboard.v1.msgpack`) rather than JSON. */
  get packed(): boolean {
    return this.transport.packed === true
  }

  send(event: string, data: unknown): boolean {
    if (!isValidEventName(event)) throw new TypeError(`invalid event name "${event}"`)
    return this.sendEvent(event, this.host.eventData(event, data))
  }

  /** @internal An `event` frame of data already validated (an event routed from another node). */
  sendEvent(event: string, data: unknown): boolean {
    const frame: ServerFrame =
      data === undefined ? { type: 'event', event } : { type: 'event', event, data: data as JsonValue }
    return this.sendFrame(frame)
  }

  close(code: number = CloseCode.NORMAL, reason = ''): void {
    if (this._state !== 'open') return
    this._state = 'closing'
    this.transport.close(code, reason)
  }

  /**
   * Ends the connection because of an error: an `error` frame with its code, then the close the
   * error table gives that code (e.g. `frame_too_large` → 1009).
   */
  fail(code: ClosingErrorCode, message: string, reason = message): void {
    if (this._state !== 'open') return
    this.sendError({ code, message })
    this.close(closeFor(code), reason)
  }

  /** Drops the connection without a close handshake (a dead peer). */
  terminate(code: number, reason: string): void {
    if (this._state === 'closed') return
    this._state = 'closing'
    this.transport.terminate(code, reason)
  }

  ping(): void {
    this.transport.ping()
  }

  /** The heartbeat found no sign of life for a whole interval. */
  timedOut(): void {
    this.terminate(CloseCode.HEARTBEAT_TIMEOUT, 'heartbeat timeout')
  }

  /** Queues one encoded frame (shared by many connections on a fan-out). */
  sendEncoded(frame: OutgoingFrame, now = false): boolean {
    return this._state === 'open' && this.transport.send(frame, now)
  }

  /** Whether the transport takes channel batches (else the hub sends each frame on its own). */
  get takesBatches(): boolean {
    return this.transport.sendBatch !== undefined
  }

  /** Queues a channel's batch (see OutgoingBatch); only for a transport that takes batches. */
  sendBatch(batch: OutgoingBatch): boolean {
    return this._state === 'open' && this.transport.sendBatch!(batch)
  }

  /** Queues one frame; throws a SwitchboardError `invalid_payload` for data no codec can carry. */
  sendFrame(frame: ServerFrame, now = false): boolean {
    return this.sendEncoded(OutgoingFrame.of(frame), now)
  }

  /** For the server's own bookkeeping of what this connection is subscribed to. */
  markSubscribed(channel: string, subscribed: boolean): void {
    if (!subscribed) this.subs?.delete(channel)
    else if (this.subs) this.subs.add(channel)
    else this.subs = new Set([channel])
  }

  // ---- TransportHandlers: what the transport tells this connection ---------------------------

  /** @internal */
  onUnsupported(): void {
    this.close(CloseCode.UNSUPPORTED_DATA, 'text and binary messages: only the kind of the subprotocol')
  }

  /** @internal */
  onActivity(): void {
    this.host.activity(this)
  }

  /** @internal */
  onMessage(data: string | Uint8Array): void {
    if (this.state !== 'open') return
    let frame: ClientFrame
    try {
      frame =
        typeof data === 'string'
          ? decodeClientFrame(data)
          : (msgpackCodec.decode(data, 'client') as ClientFrame)
    } catch (err) {
      const e =
        err instanceof ProtocolError ? err : new ProtocolError(ErrorCode.INVALID_FRAME, 'unreadable frame')
      this.sendError({ code: e.code, message: e.message }, e.frameId)
      // n tokens: n invalid frames in a burst are answered, the (n+1)th also ends the connection,
      // with the close the error table gives its code (1008 for every code the codec throws).
      this.abuse ??= new TokenBucket({
        capacity: this.host.limits.maxProtocolErrors,
        refillPerSecond: 0.1,
      })
      if (this.abuse.take() !== 'ok') {
        this.close(closeFor(e.code) ?? CloseCode.POLICY_VIOLATION, 'too many invalid frames')
      }
      return
    }
    this.rate ??= new TokenBucket(this.host.limits.rateLimit)
    const verdict = this.rate.take()
    if (verdict === 'exceeded') {
      this.close(closeFor(ErrorCode.RATE_LIMITED), 'rate limit exceeded')
      return
    }
    if (verdict === 'refused') {
      this.refuse(frame, { code: ErrorCode.RATE_LIMITED, message: 'too many frames; slow down' })
      return
    }
    if (frame.type !== 'auth' && frame.type !== 'ping' && !this.host.mayAct(this)) {
      this.refuse(frame, {
        code: ErrorCode.UNAUTHORIZED,
        message: 'not authenticated: send an auth frame first',
      })
      return
    }
    this.dispatch(frame)
  }

  private dispatch(frame: ClientFrame): void {
    switch (frame.type) {
      case 'ping':
        this.sendFrame(frame.id === undefined ? { type: 'pong' } : { type: 'pong', id: frame.id })
        return
      case 'subscribe':
        this.serial(frame, () => this.host.subscribe(this, frame))
        return
      case 'unsubscribe':
        this.serial(frame, () => this.host.unsubscribe(this, frame.channel).then(() => undefined))
        return
      case 'publish':
        this.serial(frame, () => this.host.publish(this, frame))
        return
      case 'presence_update':
        this.serial(frame, () => this.host.updatePresence(this, frame).then(() => undefined))
        return
      case 'request':
        this.request(frame.id, frame.event, frame.data)
        return
      case 'auth':
        this.run(frame, () => this.host.auth(this, frame.token))
        return
    }
  }

  private request(id: string | undefined, event: string, data: JsonValue | undefined): void {
    if (this.pending >= this.host.limits.maxPendingRequests) {
      const error = { code: ErrorCode.LIMIT_EXCEEDED, message: 'too many requests waiting for a reply' }
      if (id !== undefined) this.sendReply(id, { ok: false, error })
      else this.sendError(error)
      return
    }
    this.pending++
    const result = this.host.request(this, event, data)
    if (result instanceof Promise) void result.then((r) => this.answer(id, r))
    else this.answer(id, result)
  }

  private answer(id: string | undefined, result: HandlerResult): void {
    this.pending--
    // A reply is what its client waits on: it goes out now, with whatever else is queued,
    // rather than after the rest of this turn's work.
    if (id !== undefined) this.sendReply(id, result, true)
    else if (!result.ok) this.sendError(result.error)
  }

  /** Runs a channel operation after the previous ones of this connection. */
  private serial(
    frame: ClientFrame & { id?: string },
    op: () => Promise<JsonValue | object | undefined>,
  ): void {
    // A publish that arrived before the close is still carried out: its reply cannot be delivered,
    // but whether it lands must not depend on how long the operations queued before it took. A
    // subscribe on a connection that is gone would only be undone again, so it is dropped.
    const next = () => (this._state === 'open' || frame.type === 'publish' ? this.run(frame, op) : undefined)
    this.chain = this.chain ? this.chain.then(next) : Promise.resolve().then(next)
  }

  private async run(
    frame: ClientFrame & { id?: string },
    op: () => Promise<JsonValue | object | undefined>,
  ): Promise<void> {
    let result: HandlerResult
    try {
      result = { ok: true, data: (await op()) as JsonValue | undefined }
    } catch (err) {
      result = { ok: false, error: errorBody(err) }
    }
    if (frame.id !== undefined) this.sendReply(frame.id, result)
    else if (!result.ok)
      this.sendError(result.error, undefined, 'channel' in frame ? frame.channel : undefined)
  }

  private refuse(frame: ClientFrame & { id?: string }, error: ErrorBody): void {
    if (frame.id !== undefined) this.sendReply(frame.id, { ok: false, error })
    else this.sendError(error, undefined, 'channel' in frame ? frame.channel : undefined)
  }

  private sendReply(id: string, result: HandlerResult, now = false): void {
    if (!result.ok) {
      this.sendFrame({ type: 'reply', id, ok: false, error: result.error }, now)
      return
    }
    let frame: OutgoingFrame
    try {
      frame = OutgoingFrame.of(
        result.data === undefined
          ? { type: 'reply', id, ok: true }
          : { type: 'reply', id, ok: true, data: result.data },
      )
    } catch (err) {
      // The handler returned something no codec can carry (a BigInt, a cycle, a Map): a bug of
      // the application's, logged by the host, answered as internal.
      this.host.unsendableReply(this, err)
      this.sendFrame({ type: 'reply', id, ok: false, error: errorBody(undefined) }, now)
      return
    }
    this.sendEncoded(frame, now)
  }

  private sendError(error: ErrorBody, id?: string, channel?: string): void {
    const frame: ServerFrame = { type: 'error', code: error.code, message: error.message }
    if (id !== undefined) frame.id = id
    if (channel !== undefined) frame.channel = channel
    if (error.details !== undefined) frame.details = error.details
    this.sendFrame(frame)
  }

  /** @internal */
  onClose(code: number, reason: string): void {
    this._state = 'closed'
    this.host.closed(this, code, reason)
  }
}
