/**
 * The subscribers of a `switchboard bench` run, as many as one process holds: they connect a few
 * hundred at a time, subscribe to the channel, then count the run's messages — in order or not,
 * by the channel's offsets — and how long each took from its scheduled send time to arrival.
 */
import { Histogram } from './histogram.js'
import { BenchError, openSession, type Session } from './session.js'
import { type ConnectStats, clock, isBenchData, type SubscriberStats, type Target } from './shared.js'

/** Connections being opened at once, per process. */
const CONCURRENCY = 200

const bump = (counts: Record<string, number>, code: string) => {
  counts[code] = (counts[code] ?? 0) + 1
}

export class Subscribers {
  delivered = 0
  readonly #target: Target
  readonly #sessions = new Set<Session>()
  /** Each subscriber's position on the channel: epoch and the offset of its last message. */
  readonly #positions = new WeakMap<Session, { epoch: unknown; offset: number }>()
  readonly #latency = new Histogram()
  readonly #connectLatency = new Histogram()
  readonly #connectErrors: Record<string, number> = {}
  readonly #errors: Record<string, number> = {}
  #failed = 0
  #outOfOrder = 0
  #disconnected = 0
  #lastReceipt = 0

  constructor(target: Target) {
    this.#target = target
  }

  /** Connects and subscribes `count` clients; each gets `timeoutMs` to be subscribed. */
  async connect(count: number, timeoutMs: number): Promise<ConnectStats> {
    let next = 0
    const lane = async () => {
      while (next < count) {
        next++
        await this.#one(timeoutMs)
      }
    }
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, lane))
    return this.#connectStats()
  }

  stats(): SubscriberStats {
    return {
      ...this.#connectStats(),
      delivered: this.delivered,
      outOfOrder: this.#outOfOrder,
      disconnected: this.#disconnected,
      errors: this.#errors,
      latency: this.#latency.toData(),
      lastReceipt: this.#lastReceipt,
    }
  }

  /** Closes every connection (1000); resolves when they are closed. */
  async close(): Promise<void> {
    await Promise.all([...this.#sessions].map((s) => s.close()))
  }

  #connectStats(): ConnectStats {
    return {
      connected: this.#sessions.size,
      failed: this.#failed,
      connectErrors: this.#connectErrors,
      connectLatency: this.#connectLatency.toData(),
    }
  }

  async #one(timeoutMs: number): Promise<void> {
    const { url, token, channel } = this.#target
    const started = clock()
    let session: Session | undefined
    try {
      session = await openSession(url, token, timeoutMs)
      const left = timeoutMs - (clock() - started)
      const opened = session
      const timer = setTimeout(
        () => opened.fail(new BenchError('timeout', `not subscribed within ${timeoutMs} ms`)),
        left,
      )
      this.#track(session)
      const reply = await session.call({ type: 'subscribe', channel }).finally(() => clearTimeout(timer))
      if (!reply.ok) throw new BenchError(reply.error.code, reply.error.message)
      const data = reply.data as { epoch?: unknown; offset?: unknown } | undefined
      this.#start(session, data?.epoch, data?.offset)
      this.#sessions.add(session)
      this.#connectLatency.add(clock() - started)
    } catch (err) {
      session?.fail(err instanceof BenchError ? err : new BenchError('connect_failed', String(err)))
      this.#failed++
      bump(this.#connectErrors, err instanceof BenchError ? err.code : 'connect_failed')
    }
  }

  #start(session: Session, epoch: unknown, offset: unknown): void {
    const position = this.#positions.get(session)
    const base = typeof offset === 'number' ? offset : -1
    // A message may have come before the reply: keep whichever position is further on.
    if (!position || position.epoch !== epoch) this.#positions.set(session, { epoch, offset: base })
    else position.offset = Math.max(position.offset, base)
  }

  #track(session: Session): void {
    const { channel, run } = this.#target
    session.onFrame = (frame, at) => {
      if (frame.type === 'message') {
        if (frame.channel !== channel || typeof frame.offset !== 'number') return
        const position = this.#positions.get(session)
        const ours = isBenchData(frame.data, run)
        if (!position || position.epoch !== frame.epoch) {
          // First message, or a new epoch (the channel's history was reset): start over from it.
          this.#positions.set(session, { epoch: frame.epoch, offset: frame.offset })
        } else if (frame.offset <= position.offset) {
          if (ours) this.#outOfOrder++
          return
        } else position.offset = frame.offset
        if (!ours) return
        this.delivered++
        this.#lastReceipt = at
        this.#latency.add(at - (frame.data as { t: number }).t)
      } else if (frame.type === 'error') bump(this.#errors, frame.code ?? 'error')
    }
    session.onClose = (code, _reason, byUs) => {
      if (byUs) return
      if (this.#sessions.has(session)) {
        this.#disconnected++
        bump(this.#errors, `close_${code}`)
      }
    }
  }
}
