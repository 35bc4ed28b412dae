/**
 * The publisher of a `switchboard bench` run: one connection publishing at a fixed rate, open loop
 * — each message has a scheduled time and goes out at it (late ones at once, never skipped), its
 * data carrying that time, so latency counts any delay the publisher itself suffered. Every
 * publish has an `id`, and its reply is counted: accepted, refused (by code) or unanswered. A
 * refusal that will not go away (`forbidden`: clients may not publish on the channel) or the loss
 * of the connection stops the run with that error.
 */
import { ErrorCode } from '@switchboard/protocol'
import { BenchError, type Session } from './session.js'
import { type BenchData, clock } from './shared.js'

export interface PublishPlan {
  channel: string
  run: string
  /** Messages per second. */
  rate: number
  /** Seconds. */
  duration: number
  /** Bytes of data per message, padding included. */
  payload: number
}

export interface PublishStats {
  /** Messages the schedule called for. */
  scheduled: number
  sent: number
  /** Accepted by the server (an `ok` reply). */
  published: number
  refused: number
  /** Sent, and no reply by the end (or the connection closed first). */
  unanswered: number
  /** Refusals by error code. */
  errors: Record<string, number>
  /** Clock time the first message was scheduled for. */
  start: number
  /** What stopped the run, if something did. */
  fatal: BenchError | undefined
}

/** Refusals worth going on after: the next publish may well be accepted. */
const TRANSIENT = new Set<string>([
  ErrorCode.UNAVAILABLE,
  ErrorCode.RATE_LIMITED,
  ErrorCode.INTERNAL,
  ErrorCode.LIMIT_EXCEEDED,
])

/** A little lead before the first message, so the schedule does not start late. */
const LEAD_MS = 20

export class Publisher {
  readonly #session: Session
  readonly #plan: PublishPlan
  readonly #pad: string
  readonly #scheduled: number
  #sent = 0
  #published = 0
  #refused = 0
  #pending = 0
  #unanswered = 0
  #start = 0
  #fatal: BenchError | undefined
  readonly #errors: Record<string, number> = {}
  #stop: (() => void) | undefined

  constructor(session: Session, plan: PublishPlan) {
    this.#session = session
    this.#plan = plan
    this.#scheduled = Math.max(1, Math.round(plan.rate * plan.duration))
    // Pad the data to the requested size (a time stamp takes about as many characters each time).
    const bare = JSON.stringify({ t: Math.round(clock() * 1000) / 1000, run: plan.run, pad: '' }).length
    this.#pad = 'x'.repeat(Math.max(0, plan.payload - bare))
  }

  /** Publishes to the schedule; resolves after the last send, or when the run is stopped. */
  async run(): Promise<void> {
    const limit = (await this.#session.hello).limits?.maxPayload
    const size = Buffer.byteLength(JSON.stringify(this.#frame(clock())))
    if (limit !== undefined && size + 16 > limit) {
      this.#fatal = new BenchError(
        ErrorCode.FRAME_TOO_LARGE,
        `a ${size}-byte publish frame is over the server's maxPayload (${limit} bytes): lower --payload`,
      )
      return
    }
    const interval = 1000 / this.#plan.rate
    this.#start = clock() + LEAD_MS
    await new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined
      this.#stop = () => {
        clearTimeout(timer)
        resolve()
      }
      const tick = () => {
        const now = clock()
        while (this.#sent < this.#scheduled && this.#start + this.#sent * interval <= now && !this.#fatal) {
          this.#send(this.#start + this.#sent * interval)
        }
        if (this.#sent >= this.#scheduled || this.#fatal) resolve()
        else timer = setTimeout(tick, Math.max(0, this.#start + this.#sent * interval - clock()))
      }
      timer = setTimeout(tick, LEAD_MS)
    })
  }

  /** Replies still awaited. */
  get pending(): number {
    return this.#pending
  }

  get fatal(): BenchError | undefined {
    return this.#fatal
  }

  stats(): PublishStats {
    return {
      scheduled: this.#scheduled,
      sent: this.#sent,
      published: this.#published,
      refused: this.#refused,
      unanswered: this.#pending + this.#unanswered,
      errors: this.#errors,
      start: this.#start,
      fatal: this.#fatal,
    }
  }

  #frame(t: number): { type: 'publish'; channel: string; data: BenchData } {
    const data = { t: Math.round(t * 1000) / 1000, run: this.#plan.run, pad: this.#pad }
    return { type: 'publish', channel: this.#plan.channel, data }
  }

  #send(t: number): void {
    this.#sent++
    this.#pending++
    void this.#session.call(this.#frame(t)).then((reply) => {
      this.#pending--
      if (reply.ok) {
        this.#published++
        return
      }
      const { code, message } = reply.error
      if (!this.#session.open) {
        // The connection closed under it: unanswered, and the end of the run.
        this.#unanswered++
        this.#fatal ??= new BenchError(code, `the publisher's connection closed: ${message}`)
        this.#stop?.()
        return
      }
      this.#refused++
      this.#errors[code] = (this.#errors[code] ?? 0) + 1
      if (!TRANSIENT.has(code) && !this.#fatal) {
        this.#fatal = new BenchError(code, `publish refused by the server: ${code} (${message})`)
        this.#stop?.()
      }
    })
  }
}
