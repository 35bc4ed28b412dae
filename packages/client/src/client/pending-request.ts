/**
 * One request waiting for its reply: the frame with its id, a deadline that runs from the call
 * (queue time included), an optional AbortSignal, and a promise settled exactly once. It knows
 * nothing of sockets; the client decides when to send it and what to do when the link drops.
 */
import { type ClientFrame, ErrorCode, type JsonValue } from '@switchboard/protocol'
import { SwitchboardError } from '../util/errors.js'

export interface PendingOptions {
  /** ms until the promise rejects with `timeout`. */
  timeout: number
  signal?: AbortSignal | undefined
  /** Safe to send again after a reconnect (the server applies it at most once, or it has no effect). */
  idempotent: boolean
}

/** How a request ended, reported synchronously to the owner (the promise settles a microtask later). */
export type Outcome =
  | { ok: true; data: JsonValue | undefined }
  /** `replied`: the error is the server's answer (not the client's own timer, a drop, an abort). */
  | { ok: false; error: SwitchboardError; replied?: boolean }

export class PendingRequest {
  readonly frame: ClientFrame
  readonly idempotent: boolean
  readonly promise: Promise<JsonValue | undefined>
  /** Whether the frame went out on the current connection. */
  sent = false
  /** The frame as it went on the wire (set when written), so a resend does not encode it again. */
  text: string | undefined
  #settled = false
  #resolve!: (value: JsonValue | undefined) => void
  #reject!: (error: SwitchboardError) => void
  #timer: ReturnType<typeof setTimeout> | undefined
  readonly #signal: AbortSignal | undefined
  readonly #onSettle: (outcome: Outcome) => void

  constructor(frame: ClientFrame, options: PendingOptions, onSettle: (outcome: Outcome) => void) {
    this.frame = frame
    this.idempotent = options.idempotent
    this.#onSettle = onSettle
    this.#signal = options.signal
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    if (this.#signal?.aborted) {
      this.reject(new SwitchboardError(ErrorCode.CANCELLED, 'the request was aborted before it was sent'))
      return
    }
    this.#signal?.addEventListener('abort', this.#onAbort)
    this.#timer = setTimeout(() => {
      this.reject(new SwitchboardError(ErrorCode.TIMEOUT, `no reply within ${options.timeout} ms`))
    }, options.timeout)
  }

  get settled(): boolean {
    return this.#settled
  }

  resolve(data: JsonValue | undefined): void {
    if (this.#finish({ ok: true, data })) this.#resolve(data)
  }

  /** Fails the request; `replied` when `error` is the server's answer. */
  reject(error: SwitchboardError, replied = false): void {
    if (this.#finish({ ok: false, error, replied })) this.#reject(error)
  }

  readonly #onAbort = (): void => {
    this.reject(new SwitchboardError(ErrorCode.CANCELLED, 'the request was aborted'))
  }

  #finish(outcome: Outcome): boolean {
    if (this.#settled) return false
    this.#settled = true
    clearTimeout(this.#timer)
    this.#signal?.removeEventListener('abort', this.#onAbort)
    this.#onSettle(outcome)
    return true
  }
}
