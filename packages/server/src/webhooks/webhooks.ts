/**
 * The `webhooks` option, wired: checks the receivers, runs one deliverer per receiver on this
 * node (webhook-deliverer.ts; the broker's lease picks the one node that sends), and appends the
 * events this node decides to the broker's lifecycle log — in the order it decided them, one
 * append at a time, retried while the broker is unavailable (up to a bound, past which the
 * oldest are dropped with a log line). Only types some receiver wants are appended.
 */
import { createHash, randomBytes } from 'node:crypto'
import {
  type Broker,
  LIFECYCLE_EVENT_TYPES,
  type LifecycleEventInput,
  type LifecycleEventType,
  type LifecycleLog,
} from '@switchboard/broker'
import type { Logger } from '../api.js'
import { ReportLimiter } from '../proxy/report-limiter.js'
import { type Receiver, WebhookDeliverer } from './webhook-deliverer.js'
import type { WebhookOptions, WebhooksTiming } from './webhook-options.js'

/** Appends waiting for the broker, at most; past it the oldest are dropped. */
const MAX_UNWRITTEN = 10_000

function receiverOf(options: WebhookOptions, index: number): Receiver {
  const where = `webhooks[${index}]`
  let url: URL
  try {
    url = new URL(options.url)
  } catch {
    throw new TypeError(`${where}.url is not a URL: "${options.url}"`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`${where}.url must be http: or https:, got ${url.protocol}`)
  }
  if (typeof options.secret !== 'string' || options.secret.length < 16) {
    throw new TypeError(`${where}.secret must be at least 16 characters`)
  }
  for (const type of options.events ?? []) {
    if (!LIFECYCLE_EVENT_TYPES.includes(type)) {
      throw new TypeError(
        `${where}.events: unknown event "${type}" (one of ${LIFECYCLE_EVENT_TYPES.join(', ')})`,
      )
    }
  }
  const timeoutMs = options.timeout ?? 5000
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new TypeError(`${where}.timeout must be positive`)
  const consumer = options.id ?? `hook-${createHash('sha256').update(options.url).digest('hex').slice(0, 16)}`
  return {
    consumer,
    url: options.url,
    secret: options.secret,
    events: options.events ? new Set(options.events) : undefined,
    timeoutMs,
    headers: options.headers ?? {},
  }
}

export class Webhooks {
  private readonly receivers: Receiver[]
  private readonly wanted = new Set<LifecycleEventType>()
  private readonly deliverers: WebhookDeliverer[]
  /** The broker's lifecycle log (a broker without one is refused). */
  readonly lifecycle: LifecycleLog
  private readonly reports: ReportLimiter
  private readonly unwritten: LifecycleEventInput[] = []
  private writing: Promise<void> | undefined
  private stopped = false

  constructor(
    options: readonly WebhookOptions[],
    broker: Broker,
    private readonly log: Logger,
    timing: WebhooksTiming = {},
  ) {
    if (!broker.lifecycle) {
      throw new TypeError(
        'webhooks need a broker with a lifecycle log (MemoryBroker and RedisBroker have one)',
      )
    }
    this.lifecycle = broker.lifecycle
    this.receivers = options.map(receiverOf)
    const ids = this.receivers.map((r) => r.consumer)
    const twice = ids.find((id, i) => ids.indexOf(id) !== i)
    if (twice) throw new TypeError(`webhooks: two receivers share the id "${twice}" (give each its own id)`)
    for (const r of options) for (const type of r.events ?? LIFECYCLE_EVENT_TYPES) this.wanted.add(type)
    this.reports = new ReportLimiter(log)
    const holder = `${broker.nodeId ?? 'node'}.${randomBytes(6).toString('base64url')}`
    const resolved = {
      leaseMs: timing.leaseMs ?? 10_000,
      pollMs: timing.pollMs ?? 250,
      retryMs: timing.retryMs ?? 500,
      maxRetryMs: timing.maxRetryMs ?? 60_000,
    }
    this.deliverers = this.receivers.map(
      (r) => new WebhookDeliverer(this.lifecycle, r, holder, resolved, this.reports),
    )
  }

  /** Registers every receiver's queue (events from now on are kept for it) and starts sending. */
  async start(): Promise<void> {
    for (const r of this.receivers) {
      try {
        await this.lifecycle.register(r.consumer)
      } catch (err) {
        // The deliverer registers it on its first read, once the broker answers.
        this.reports.report('register', `webhooks: could not register ${r.consumer} yet (${String(err)})`)
      }
    }
    for (const d of this.deliverers) d.start()
  }

  /** Whether some receiver wants events of this type (so deciding it is worth the work). */
  wants(type: LifecycleEventType): boolean {
    return this.wanted.has(type)
  }

  /** Appends an event this node decided, after those it decided before. Never throws. */
  record(event: LifecycleEventInput): void {
    if (this.stopped || !this.wanted.has(event.type)) return
    this.unwritten.push(event)
    if (this.unwritten.length > MAX_UNWRITTEN) {
      const lost = this.unwritten.splice(0, this.unwritten.length - MAX_UNWRITTEN)
      this.log.warn(`webhooks: the broker is unavailable; ${lost.length} lifecycle event(s) dropped`)
    }
    this.writing ??= this.write()
  }

  private async write(): Promise<void> {
    let wait = 200
    while (this.unwritten.length > 0) {
      try {
        await this.lifecycle.append(this.unwritten[0]!)
        this.unwritten.shift()
        wait = 200
      } catch (err) {
        if (this.stopped) break
        this.reports.report(
          'append',
          `webhooks: could not append a lifecycle event (${String(err)}); retrying`,
        )
        await new Promise((r) => setTimeout(r, wait).unref())
        wait = Math.min(wait * 2, 5000)
      }
    }
    this.writing = undefined
  }

  /** Writes what is left (for up to `timeoutMs`), then stops sending and gives the leases up. */
  async stop(timeoutMs = 2000): Promise<void> {
    if (this.writing) {
      await Promise.race([this.writing, new Promise((r) => setTimeout(r, timeoutMs).unref())])
    }
    this.stopped = true
    await Promise.all(this.deliverers.map((d) => d.stop()))
  }
}
