/**
 * The long-polling transport: the client keeps one GET waiting; it is answered as soon as frames
 * are queued (at the end of the event-loop turn, so a burst goes in one answer) or, empty, after
 * `holdMs`. The answer is a JSON array with one frame per line. Client frames arrive as POSTs that
 * the HTTP router hands to `receive`.
 *
 * Between polls frames wait in a queue bounded like a socket's send buffer, in bytes of UTF-8 (past
 * `maxBufferedBytes`: slow consumer, 4100). A session that no GET polls for `idleMs` is gone —
 * closed as a dropped connection (1006). A close is delivered as a final `close` pseudo-frame in
 * the next answer, and the session is forgotten once that answer is written (or after `idleMs`).
 */
import type { ServerResponse } from 'node:http'
import { CloseCode, encodeCloseFrame, PollAnswer } from '@switchboard/protocol'
import { HttpSession } from './http-session.js'
import type { OutgoingFrame } from './transport.js'

/** A frame's UTF-8 bytes, built once per frame and shared by every long-polling subscriber. */
const POLL_FRAME = Symbol('poll-frame')
const toBytes = (text: string): Buffer => Buffer.from(text, 'utf8')
const frameBytes = (frame: OutgoingFrame): Buffer => toBytes(frame.text)
const OPEN = Buffer.from(PollAnswer.OPEN)
const SEPARATOR = Buffer.from(PollAnswer.SEPARATOR)
const CLOSE = Buffer.from(PollAnswer.CLOSE)
/** How long after its last poll a client with a queue past the bound still counts as collecting it. */
const POLL_GRACE_MS = 2_000

/** A poll answer (protocol's PollAnswer) from frames held as bytes. */
function joinAnswer(frames: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [OPEN]
  for (const [i, frame] of frames.entries()) {
    if (i > 0) parts.push(SEPARATOR)
    parts.push(frame)
  }
  parts.push(CLOSE)
  return Buffer.concat(parts)
}

export interface LongPollTransportOptions {
  /** Largest number of queued bytes before the client is cut off as a slow consumer. */
  maxBufferedBytes: number
  /** How long a GET waits for frames before it is answered with an empty batch. */
  holdMs: number
  /** How long the session lives with no GET waiting before it counts as dropped. */
  idleMs: number
  /** Called once the transport is closed (the session registry forgets it). */
  onEnd: () => void
}

/** Headers of a poll answer (CORS included), chosen by the router per request. */
export type PollHeaders = Record<string, string>

export class LongPollTransport extends HttpSession {
  readonly kind = 'long-polling' as const
  private waiting: { res: ServerResponse; headers: PollHeaders } | undefined
  /** When the last poll came (the session's opening counts as one). */
  private lastPoll = Date.now()
  private holdTimer: NodeJS.Timeout | undefined
  private idleTimer: NodeJS.Timeout | undefined

  constructor(private readonly options: LongPollTransportOptions) {
    super(options.maxBufferedBytes, options.onEnd)
    this.startIdle()
  }

  /** A GET for this session: answered now if frames wait, else held until some come or `holdMs`. */
  poll(res: ServerResponse, headers: PollHeaders): void {
    // One poll at a time: an older one still waiting (its client gave up on it) gets an empty answer.
    if (this.waiting) this.answer([])
    clearTimeout(this.idleTimer)
    this.waiting = { res, headers }
    res.on('close', () => {
      if (this.waiting?.res !== res) return
      // The client went away before its answer: what was queued stays for its next poll.
      this.waiting = undefined
      clearTimeout(this.holdTimer)
      this.startIdle()
    })
    this.quiet = 0
    this.lastPoll = Date.now()
    this.handlers?.onActivity()
    if (this.queue.length > 0) this.flush()
    else this.holdTimer = setTimeout(() => this.answer([]), this.options.holdMs)
  }

  send(frame: OutgoingFrame, now = false): boolean {
    if (this._state !== 'open') return false
    const bytes = frame.encoded(POLL_FRAME, frameBytes)
    this.queue.push(bytes)
    // Each frame also costs its separator in the answer.
    return this.queued(bytes.length + SEPARATOR.length, now)
  }

  flush(): void {
    if (!this.waiting || this.queue.length === 0) return
    const frames = this.queue.slice()
    this.dropQueue()
    this.answer(frames)
  }

  close(code: number, reason: string): void {
    if (this._state !== 'open') return
    this.end(code, reason)
  }

  /** Frames wait for a poll: nothing to flush without one. */
  protected override wantsFlush(): boolean {
    return this.waiting !== undefined && this.queue.length > 0
  }

  /** An answer is written whole when it is written; what waits is in the queue. */
  protected unsent(): number {
    return 0
  }

  /**
   * Frames wait here for the next poll, and that poll takes them all: a client that keeps polling
   * is never behind, however much arrives between two polls (a replay past the bound, say). So a
   * long-polling client is slow when its queue is past the bound and it has not polled for a
   * while — or when the queue passes four times the bound, whatever it does.
   */
  protected override overBound(): boolean {
    if (this.queuedBytes <= this.maxBufferedBytes) return false
    return (
      this.queuedBytes > 4 * this.maxBufferedBytes ||
      (this.waiting === undefined && Date.now() - this.lastPoll > POLL_GRACE_MS)
    )
  }

  /** Nothing to send: a held poll is answered within `holdMs` anyway. */
  protected keepAlive(): void {}

  protected cut(): void {
    this.waiting?.res.destroy()
    this.closed()
  }

  protected closeSlow(code: number, reason: string): void {
    this.end(code, reason)
  }

  /** Queues the close pseudo-frame after what is queued; the session ends once it is delivered. */
  private end(code: number, reason: string): void {
    this.closing(code, reason)
    this.queue.push(toBytes(encodeCloseFrame(code, reason)))
    this.flush()
  }

  /** Writes one answer: a JSON array, one frame per line (so a reader may split on newlines). */
  private answer(frames: Buffer[]): void {
    const waiting = this.waiting
    if (!waiting) return
    this.waiting = undefined
    clearTimeout(this.holdTimer)
    const body = frames.length === 0 ? PollAnswer.EMPTY : joinAnswer(frames)
    waiting.res.writeHead(200, { ...waiting.headers, 'content-type': 'application/json; charset=utf-8' })
    waiting.res.end(body)
    if (this._state === 'closing' && this.queue.length === 0) this.closed()
    else this.startIdle()
  }

  private startIdle(): void {
    clearTimeout(this.idleTimer)
    if (this._state === 'closed') return
    this.idleTimer = setTimeout(() => {
      if (this._state === 'open') this.terminate(CloseCode.ABNORMAL, 'no poll')
      else this.closed()
    }, this.options.idleMs)
    this.idleTimer.unref()
  }

  protected release(): void {
    clearTimeout(this.holdTimer)
    clearTimeout(this.idleTimer)
    this.waiting = undefined
  }
}
