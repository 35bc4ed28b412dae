/**
 * One receiver's deliverer on one node. Every node runs one per receiver, but only the node that
 * holds the receiver's lease in the broker sends: it reads the receiver's events from the
 * lifecycle log in order, POSTs each (signed) until the receiver answers 2xx — retrying with a
 * doubling wait, renewing its lease meanwhile — and only then acknowledges it and goes on. So a
 * receiver gets its events in log order, each at least once: a node that dies mid-way leaves its
 * unacknowledged events to the next lease holder, which sends them again first. A receiver that
 * is down holds its own queue back (in order) and no other receiver's.
 */
import type { LifecycleEvent, LifecycleLog } from '@switchboard/broker'
import type { ReportLimiter } from '../proxy/report-limiter.js'
import { SIGNATURE_HEADER, signWebhook } from './webhook-signature.js'

/** A receiver with its defaults resolved. */
export interface Receiver {
  /** Its queue's name in the lifecycle log. */
  consumer: string
  url: string
  secret: string
  /** The types it gets; undefined: all. */
  events: ReadonlySet<string> | undefined
  timeoutMs: number
  headers: Readonly<Record<string, string>>
}

export interface DeliveryTiming {
  leaseMs: number
  pollMs: number
  retryMs: number
  maxRetryMs: number
}

/** How many events a deliverer takes from the log at once. */
const BATCH = 32

export class WebhookDeliverer {
  private stopped = false
  private wake: (() => void) | undefined
  private running: Promise<void> | undefined

  constructor(
    private readonly log: LifecycleLog,
    private readonly receiver: Receiver,
    /** Who this node is, as a lease holder. */
    private readonly holder: string,
    private readonly timing: DeliveryTiming,
    private readonly reports: ReportLimiter,
  ) {}

  start(): void {
    this.running ??= this.run()
  }

  /** Stops sending (an attempt in flight is abandoned) and gives the lease up. */
  async stop(): Promise<void> {
    this.stopped = true
    this.wake?.()
    await this.running
    await this.log.release(this.receiver.consumer, this.holder).catch(() => {})
  }

  private async run(): Promise<void> {
    const { consumer } = this.receiver
    while (!this.stopped) {
      try {
        if (!(await this.log.lease(consumer, this.holder, this.timing.leaseMs))) {
          await this.sleep(this.timing.leaseMs / 3)
          continue
        }
        const events = await this.log.read(consumer, BATCH)
        if (events.length === 0) {
          await this.sleep(this.timing.pollMs)
          continue
        }
        for (const event of events) {
          if (!(await this.deliver(event))) break
          await this.log.ack(consumer, event.id)
        }
      } catch (err) {
        this.report('broker', `webhooks: the lifecycle log failed (${messageOf(err)}); retrying`)
        await this.sleep(this.timing.retryMs)
      }
    }
  }

  /** Sends until the receiver takes it: true; false if this node stopped or lost the lease. */
  private async deliver(event: LifecycleEvent): Promise<boolean> {
    const { events } = this.receiver
    if (events && !events.has(event.type)) return true
    const body = JSON.stringify(event)
    let wait = this.timing.retryMs
    for (let attempt = 1; !this.stopped; attempt++) {
      const failure = await this.post(event, body, attempt)
      if (failure === undefined) return true
      this.report('receiver', `webhooks: ${this.where()} ${failure}; retrying (event ${event.id})`)
      if (!(await this.holdFor(wait))) return false
      wait = Math.min(wait * 2, this.timing.maxRetryMs)
    }
    return false
  }

  /** One attempt: undefined if the receiver took it, else why not. */
  private async post(event: LifecycleEvent, body: string, attempt: number): Promise<string | undefined> {
    const { url, secret, timeoutMs, headers } = this.receiver
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'user-agent': 'switchboard-webhooks',
          'switchboard-event': event.type,
          'switchboard-event-id': event.id,
          'switchboard-attempt': String(attempt),
          [SIGNATURE_HEADER]: signWebhook(secret, body, Math.floor(Date.now() / 1000)),
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      })
      await res.body?.cancel().catch(() => {})
      return res.status >= 200 && res.status < 300 ? undefined : `answered ${res.status}`
    } catch (err) {
      return err instanceof Error && err.name === 'TimeoutError'
        ? `did not answer within ${timeoutMs} ms`
        : `could not be reached (${messageOf(err)})`
    }
  }

  /** Waits `ms`, renewing the lease on the way: false if it was lost (or this node stopped). */
  private async holdFor(ms: number): Promise<boolean> {
    const step = this.timing.leaseMs / 3
    for (let left = ms; left > 0 && !this.stopped; left -= step) {
      await this.sleep(Math.min(step, left))
      try {
        if (!(await this.log.lease(this.receiver.consumer, this.holder, this.timing.leaseMs))) return false
      } catch (err) {
        this.report('broker', `webhooks: the lifecycle log failed (${messageOf(err)}); retrying`)
        return false
      }
    }
    return !this.stopped
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.wake = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      timer.unref()
      this.wake = done
    })
  }

  /** The receiver as logs show it: origin and path, never a query (it may hold a credential). */
  private where(): string {
    const url = new URL(this.receiver.url)
    return `${url.origin}${url.pathname}`
  }

  private report(kind: string, message: string): void {
    this.reports.report(`${this.receiver.consumer} ${kind}`, message)
  }
}

function messageOf(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : ''
    return `${err.message}${cause}`
  }
  return String(err)
}
