/**
 * The request table: the requests, publishes and subscribes waiting for their replies (by id),
 * and the bounded queue of frames made while offline. It decides per frame whether it goes out
 * now, waits for the handshake, or is refused, and what a dropped link does to each request:
 * idempotent ones are resent after the reconnect, the others fail with `disconnected`. A frame is
 * encoded once, when it is made: data JSON cannot carry (a BigInt, a cycle) and a frame over the
 * server's `maxPayload` fail there and then, and are never sent. What is written goes out no faster
 * than the server's announced rate (`SendPacer`); a refusal that says "not done, try again" is
 * sent again after a backoff (`retryable`); and `drain` lets `close()` wait for the answers.
 */
import {
  type ClientFrame,
  ErrorCode,
  encodeFrame,
  type HelloLimits,
  type ReplyFrame,
} from '@switchboard/protocol'
import { createBackoff } from '../util/backoff.js'
import { SwitchboardError } from '../util/errors.js'
import type { ConnectionState } from './client-types.js'
import { type Outcome, PendingRequest } from './pending-request.js'
import { SendPacer } from './send-pacer.js'

/** A frame that wants a reply: it carries the id the reply will carry. */
export type IdFrame = ClientFrame & { id: string }

interface Outgoing {
  text: string
  request: PendingRequest | undefined
}

export interface RequestTableOptions {
  /** Default timeout of a request, in ms. */
  requestTimeout: number
  /** Frames kept while offline; more are refused. */
  maxQueue: number
  /** Where encoded frames are written. */
  transport: { send(text: string): unknown }
  /**
   * The bytes a frame (given as its JSON text) takes on the current connection when that carries
   * another codec (MessagePack); undefined on a JSON connection, where the text's UTF-8 counts.
   */
  wireSize?: (text: string) => number | undefined
}

/** Delay before resending a frame the server refused for now: 250 ms doubling to 5 s, jittered. */
const RETRY_BACKOFF = createBackoff({ base: 250, max: 5_000 })

/**
 * Whether a refusal from the server means the frame was not carried out (or, `timeout` for a
 * publish, that its outcome is unknown — a resend with its idempotency key lands once), so the
 * table sends it again: a publish after `rate_limited`, `unavailable` or `timeout`; a request
 * after `rate_limited`, or `unavailable` when it is idempotent. Subscribes are their channel's.
 */
function retryable(request: PendingRequest, code: string): boolean {
  const { type } = request.frame
  if (code === ErrorCode.RATE_LIMITED) return type === 'publish' || type === 'request'
  if (code === ErrorCode.UNAVAILABLE) return type === 'publish' || (type === 'request' && request.idempotent)
  return code === ErrorCode.TIMEOUT && type === 'publish'
}

export class RequestTable {
  readonly #pending = new Map<string, PendingRequest>()
  readonly #options: RequestTableOptions
  #outbox: Outgoing[] = []
  #nextId = 0
  readonly #retries = new WeakMap<PendingRequest, number>()
  /** Requests waiting out a retry backoff: neither on the wire nor in the outbox. */
  readonly #backingOff = new Map<PendingRequest, ReturnType<typeof setTimeout>>()
  readonly #pacer = new SendPacer()
  /** Frames written while the pacer had no token: they leave in order as tokens come. */
  #paced: Outgoing[] = []
  #pacing: ReturnType<typeof setTimeout> | undefined
  /** Set by `drain`: new frames are refused; called once nothing is left to wait for. */
  #closing = false
  #drained: (() => void) | undefined
  #draining: Promise<void> | undefined
  /** The server's largest message in bytes, from `hello`; unknown before the first one. */
  maxPayload: number | undefined

  constructor(options: RequestTableOptions) {
    this.#options = options
  }

  /** A fresh frame id, unique among this client's requests. */
  nextId(): string {
    return (++this.#nextId).toString(36)
  }

  /** The request waiting for a reply with this id, if any. */
  get(id: string): PendingRequest | undefined {
    return this.#pending.get(id)
  }

  /** Registers a request until it settles; `onOutcome` hears how it ended, synchronously. */
  track(
    frame: IdFrame,
    timeout: number | undefined,
    signal: AbortSignal | undefined,
    idempotent: boolean,
    onOutcome?: (outcome: Outcome) => void,
  ): PendingRequest {
    const request = new PendingRequest(
      frame,
      { timeout: timeout ?? this.#options.requestTimeout, signal, idempotent },
      (outcome) => {
        this.#pending.delete(frame.id)
        onOutcome?.(outcome)
        this.#checkDrained()
      },
    )
    if (!request.settled) this.#pending.set(frame.id, request)
    return request
  }

  /** Tracks a request and sends or queues it (see `send`); the promise of its reply. */
  request(
    frame: IdFrame,
    state: ConnectionState,
    { timeout, signal }: { timeout?: number | undefined; signal?: AbortSignal | undefined },
    idempotent: boolean,
  ): Promise<unknown> {
    let text: string
    try {
      text = this.encode(frame)
    } catch (err) {
      return Promise.reject(err)
    }
    const request = this.track(frame, timeout, signal, idempotent)
    if (!request.settled) this.send(text, request, state)
    return request.promise
  }

  /**
   * The frame as it goes on the wire. Throws a SwitchboardError (`invalid_payload`) for data JSON
   * cannot carry, and (`frame_too_large`) for a frame over the server's `maxPayload`.
   */
  encode(frame: ClientFrame): string {
    let text: string
    try {
      text = encodeFrame(frame)
    } catch (err) {
      // The codec says what it refused (invalid_payload, with the path); anything else is still that.
      if (err instanceof SwitchboardError) throw err
      throw new SwitchboardError(ErrorCode.INVALID_PAYLOAD, `the data cannot be sent: ${String(err)}`)
    }
    this.#checkSize(text)
    return text
  }

  #checkSize(text: string): void {
    const limit = this.maxPayload
    // A UTF-16 code unit is at most 3 bytes of UTF-8, and a JSON character at most 3 bytes of
    // MessagePack (`0.5` is a 9-byte float64): only long texts need counting.
    if (limit === undefined || text.length * 3 <= limit) return
    const bytes = this.#options.wireSize?.(text) ?? new TextEncoder().encode(text).byteLength
    if (bytes > limit) {
      throw new SwitchboardError(
        ErrorCode.FRAME_TOO_LARGE,
        `a ${bytes}-byte frame is over the server's maxPayload (${limit} bytes)`,
      )
    }
  }

  /**
   * Sends the frame when connected, queues it while (re)connecting, refuses it when closed or when
   * the queue is full (the request, if any, is rejected). False when refused.
   */
  send(text: string, request: PendingRequest | undefined, state: ConnectionState, retry = false): boolean {
    if (state === 'closed' || (this.#closing && !retry)) {
      request?.reject(new SwitchboardError(ErrorCode.DISCONNECTED, 'the client is closed'))
      return false
    }
    if (state === 'connected') {
      this.write(text, request)
      return true
    }
    const { maxQueue } = this.#options
    if (this.#outbox.length >= maxQueue) {
      this.#outbox = this.#outbox.filter((item) => !item.request?.settled)
    }
    if (this.#outbox.length >= maxQueue) {
      request?.reject(new SwitchboardError(ErrorCode.LIMIT_EXCEEDED, `offline queue is full (${maxQueue})`))
      return false
    }
    this.#outbox.push({ text, request })
    return true
  }

  /**
   * A reply: settles its request — or, for a refusal `retryable` says to try again, sends the
   * very same frame (a publish keeps its idempotency key) after a backoff, for as long as the
   * request's own timeout allows.
   */
  reply(frame: ReplyFrame, state: () => ConnectionState): void {
    const request = this.#pending.get(frame.id)
    if (!request) return
    if (frame.ok) {
      request.resolve(frame.data)
      return
    }
    const { code, message, details } = frame.error
    if (!retryable(request, code)) {
      request.reject(new SwitchboardError(code, message, details), true)
      return
    }
    const attempt = this.#retries.get(request) ?? 0
    this.#retries.set(request, attempt + 1)
    request.sent = false
    const timer = setTimeout(() => {
      this.#backingOff.delete(request)
      if (!request.settled) this.send(request.text!, request, state(), true)
    }, RETRY_BACKOFF(attempt))
    this.#backingOff.set(request, timer)
  }

  /** The rate limit of a new connection, from its `hello` (none: frames are not paced). */
  limit(rate: HelloLimits['rateLimit']): void {
    this.#pacer.reset(rate)
  }

  /**
   * Writes the frame — now, or after the frames already waiting for the pacer — and marks its
   * request as on the wire. `paced: false` (a ping) goes at once, its token taken even into debt.
   */
  write(text: string, request: PendingRequest | undefined, paced = true): void {
    if (request) {
      request.sent = true
      request.text = text
    }
    if (!paced) this.#pacer.take(true)
    else if (this.#paced.length > 0 || this.#pacer.take() > 0) {
      this.#paced.push({ text, request })
      this.#pace()
      return
    }
    this.#options.transport.send(text)
  }

  /** Sends the waiting frames as tokens allow (skipping what settled meanwhile), then waits for more. */
  #pace(): void {
    if (this.#pacing !== undefined) return
    const paced = this.#paced
    while (paced.length > 0) {
      if (paced[0]!.request?.settled) {
        paced.shift()
        continue
      }
      const wait = this.#pacer.take()
      if (wait > 0) {
        this.#pacing = setTimeout(() => {
          this.#pacing = undefined
          this.#pace()
        }, wait)
        return
      }
      this.#options.transport.send(paced.shift()!.text)
    }
    this.#checkDrained()
  }

  /**
   * `close()` is waiting: refuses new frames from now on, and resolves once no publish or request
   * waits for its answer and no frame waits to be sent (what the caller still waits on), or after
   * `timeout` ms. Undefined when there is nothing to wait for.
   */
  drain(timeout: number): Promise<void> | undefined {
    this.#closing = true
    if (this.#draining || this.#idle()) return this.#draining
    this.#draining = new Promise((resolve) => {
      const timer = setTimeout(() => this.#drained?.(), timeout)
      this.#drained = () => {
        this.#drained = this.#draining = undefined
        clearTimeout(timer)
        resolve()
      }
    })
    return this.#draining
  }

  #idle(): boolean {
    const waiting = (item: Outgoing) => !item.request?.settled
    if (this.#outbox.some(waiting) || this.#paced.some(waiting)) return false
    for (const request of this.#pending.values()) {
      if (request.frame.type === 'publish' || request.frame.type === 'request') return false
    }
    return true
  }

  #checkDrained(): void {
    if (this.#drained && this.#idle()) this.#drained()
  }

  /**
   * The handshake is done: sends what was queued, in order, but what settled meanwhile — and
   * fails, unsent, what the server's `maxPayload` (known now) does not take.
   */
  ready(): void {
    const outbox = this.#outbox
    this.#outbox = []
    for (const item of outbox) {
      if (item.request?.settled) continue
      try {
        this.#checkSize(item.text)
      } catch (err) {
        item.request?.reject(err as SwitchboardError)
        continue
      }
      this.write(item.text, item.request)
    }
    this.#checkDrained()
  }

  /**
   * The link closed with `code`. Requests already on the wire: the idempotent ones go back to the
   * front of the queue when a reconnect follows, the others fail. Without a reconnect the whole
   * queue fails too.
   */
  closed(willReconnect: boolean, code: number): void {
    // What waited for the pacer is on this connection's account: its requests count as sent.
    this.#paced = []
    clearTimeout(this.#pacing)
    this.#pacing = undefined
    const resend: Outgoing[] = []
    for (const request of this.#pending.values()) {
      if (!request.sent) continue
      request.sent = false
      if (willReconnect && request.idempotent) resend.push({ text: request.text!, request })
      else
        request.reject(
          new SwitchboardError(ErrorCode.DISCONNECTED, `connection closed (${code}) before the reply`),
        )
    }
    this.#outbox = [...resend, ...this.#outbox]
    if (!willReconnect) {
      const waiting = [...this.#outbox.map((item) => item.request), ...this.#backingOff.keys()]
      for (const timer of this.#backingOff.values()) clearTimeout(timer)
      this.#backingOff.clear()
      this.#outbox = []
      for (const request of waiting)
        request?.reject(new SwitchboardError(ErrorCode.DISCONNECTED, 'the client is closed'))
      this.#closing = false
      this.#drained?.()
    }
  }
}
