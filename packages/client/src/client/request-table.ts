/**
 * The request table: the requests, publishes and subscribes waiting for their replies (by id),
 * and the bounded queue of frames made while offline. It decides per frame whether it goes out
 * now, waits for the handshake, or is refused, and what a dropped link does to each request:
 * idempotent ones are resent after the reconnect, the others fail with `disconnected`. A frame is
 * encoded once, when it is made: data JSON cannot carry (a BigInt, a cycle) and a frame over the
 * server's `maxPayload` fail there and then, and are never sent.
 */
import { type ClientFrame, ErrorCode, encodeFrame } from '@switchboard/protocol'
import { createBackoff } from '../util/backoff.js'
import { SwitchboardError } from '../util/errors.js'
import type { ConnectionState } from './client-types.js'
import { type Outcome, PendingRequest } from './pending-request.js'

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
}

/** Delay before resending a frame the server refused as `rate_limited`: 250 ms doubling to 5 s, jittered. */
const RATE_LIMITED_BACKOFF = createBackoff({ base: 250, max: 5_000 })

export class RequestTable {
  readonly #pending = new Map<string, PendingRequest>()
  readonly #options: RequestTableOptions
  #outbox: Outgoing[] = []
  #nextId = 0
  readonly #retries = new WeakMap<PendingRequest, number>()
  /** Requests waiting out a `rate_limited` backoff: neither on the wire nor in the outbox. */
  readonly #backingOff = new Map<PendingRequest, ReturnType<typeof setTimeout>>()
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
      throw new SwitchboardError(ErrorCode.INVALID_PAYLOAD, `the data cannot be sent as JSON: ${String(err)}`)
    }
    this.#checkSize(text)
    return text
  }

  #checkSize(text: string): void {
    const limit = this.maxPayload
    // A UTF-16 code unit is at most 3 bytes of UTF-8: only long texts need counting.
    if (limit === undefined || text.length * 3 <= limit) return
    const bytes = new TextEncoder().encode(text).byteLength
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
  send(text: string, request: PendingRequest | undefined, state: ConnectionState): boolean {
    if (state === 'connected') {
      this.write(text, request)
      return true
    }
    if (state === 'closed') {
      request?.reject(new SwitchboardError(ErrorCode.DISCONNECTED, 'the client is closed'))
      return false
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
   * The server refused the request's frame as `rate_limited`: it was not carried out, so it is
   * sent again after a backoff — a publish keeps its idempotency key — for as long as the
   * request's own timeout allows. False for frames the table does not retry (subscribes, auth:
   * their owners decide).
   */
  retryLater(request: PendingRequest, state: () => ConnectionState): boolean {
    const { type } = request.frame
    if (type !== 'publish' && type !== 'request') return false
    const attempt = this.#retries.get(request) ?? 0
    this.#retries.set(request, attempt + 1)
    request.sent = false
    const timer = setTimeout(() => {
      this.#backingOff.delete(request)
      if (!request.settled) this.send(request.text!, request, state())
    }, RATE_LIMITED_BACKOFF(attempt))
    this.#backingOff.set(request, timer)
    return true
  }

  /** Writes the frame now and marks its request as on the wire. */
  write(text: string, request: PendingRequest | undefined): void {
    this.#options.transport.send(text)
    if (request) {
      request.sent = true
      request.text = text
    }
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
  }

  /**
   * The link closed with `code`. Requests already on the wire: the idempotent ones go back to the
   * front of the queue when a reconnect follows, the others fail. Without a reconnect the whole
   * queue fails too.
   */
  closed(willReconnect: boolean, code: number): void {
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
    }
  }
}
