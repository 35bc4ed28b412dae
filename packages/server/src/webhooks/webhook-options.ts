/**
 * The `webhooks` option: the application's HTTP endpoints that get lifecycle events — users
 * coming online and going offline, channels becoming occupied and vacated, connections opening
 * and closing — each signed, at least once, in order (docs/webhooks.md).
 */
import type { LifecycleEventType } from '@switchboard/broker'

export interface WebhookOptions {
  /** The receiver: an `http:` or `https:` URL that answers 2xx once it has taken an event. */
  url: string
  /**
   * The HMAC-SHA256 key of the `Switchboard-Signature` header (`t=<unix seconds>,v1=<hex>` over
   * `t + "." + body`; `verifyWebhook` checks it). At least 16 characters.
   */
  secret: string
  /** The event types sent to it. Default: every type. */
  events?: readonly LifecycleEventType[]
  /** Milliseconds one attempt may take before it counts as failed. Default 5000. */
  timeout?: number
  /** Headers sent with every event (e.g. an extra credential). */
  headers?: Readonly<Record<string, string>>
  /**
   * The name of this receiver's queue in the broker: a receiver keeps its place (what it has
   * acknowledged) under this name across restarts. Default: derived from the URL.
   */
  id?: string
}

/** The `webhooks` option: the receivers, and how delivery is paced. */
export interface WebhooksOptions extends WebhooksTiming {
  receivers: readonly WebhookOptions[]
  /**
   * How long a user (a channel) may be without a connection (a subscriber) before it is
   * `user.offline` (`channel.vacated`), in ms: a page that reloads, or a client that reconnects,
   * within it produces no offline/online pair. Default 5000.
   */
  graceMs?: number
  /** How often each node settles the departures whose grace window ended, in ms. Default min(1000, graceMs / 2). */
  settleMs?: number
}

export interface WebhooksTiming {
  /** How long a node holds a receiver's delivery lease without renewing it. Default 10 s. */
  leaseMs?: number
  /** How often an idle deliverer looks for new events. Default 250 ms. */
  pollMs?: number
  /** The first retry's wait; each next one doubles, up to `maxRetryMs`. Default 500 ms. */
  retryMs?: number
  /** The longest wait between retries. Default 60 s. */
  maxRetryMs?: number
}
