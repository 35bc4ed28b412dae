/**
 * What one node counts for the operations dashboard and the metrics, beyond what the registry and
 * admission already keep: messages published through this node and delivered to its subscribers,
 * recoveries (recovered or not), broker failures — plain integers bumped where the event happens,
 * nothing allocated on the message path — and, read when asked, the event-loop delay (p99 of a
 * `monitorEventLoopDelay` histogram started on the first read), memory and uptime.
 *
 * `RateClock` is a coarse clock for per-channel publish rates: an unref'd timer advances a window
 * number every 5 s, so the hub counts a channel's messages per window with one comparison and no
 * clock read per message.
 */
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks'

export class NodeCounters {
  /** Messages published through this node (client publishes, `sb.publish`, the HTTP API). */
  messagesIn = 0
  /** Message frames handed to this node's subscribers. */
  messagesOut = 0
  /** Resubscribes with `since` that got every missed message back… */
  recovered = 0
  /** …and those that could not (`recovered: false`). */
  notRecovered = 0
  /** Broker operations that failed (answered `unavailable` or `timeout`). */
  brokerFailures = 0
}

/** Event-loop delay in milliseconds: the p99 over windows of about 5 s. */
export class EventLoopDelay {
  private histogram: IntervalHistogram | undefined
  private windowStart = 0
  private last = 0

  read(now = Date.now()): number {
    if (!this.histogram) {
      this.histogram = monitorEventLoopDelay({ resolution: 20 })
      this.histogram.enable()
      this.windowStart = now
    }
    const h = this.histogram
    // The histogram counts from its last reset: report the window that just ended, so one slow
    // turn shows for about 5 s, not forever and not for one read only.
    const current = h.count > 0 ? h.percentile(99) / 1e6 : 0
    if (now - this.windowStart >= 5000) {
      this.last = current
      h.reset()
      this.windowStart = now
    }
    return Math.max(current, this.last)
  }

  stop(): void {
    this.histogram?.disable()
  }
}

/** The length of a per-channel rate window, in milliseconds. */
export const RATE_WINDOW_MS = 5000

/** A window number that moves every RATE_WINDOW_MS, without a clock read by those who count. */
export class RateClock {
  window = 0
  private timer: NodeJS.Timeout | undefined

  start(): void {
    this.timer ??= setInterval(() => this.window++, RATE_WINDOW_MS).unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }
}

/** A channel's message count in the current window and the one before. */
export interface ChannelRate {
  window: number
  current: number
  previous: number
}

export const newChannelRate = (clock: RateClock): ChannelRate => ({
  window: clock.window,
  current: 0,
  previous: 0,
})

/** Counts one message in the rate's current window. */
export function countMessage(rate: ChannelRate, clock: RateClock): void {
  if (rate.window !== clock.window) {
    rate.previous = rate.window === clock.window - 1 ? rate.current : 0
    rate.current = 0
    rate.window = clock.window
  }
  rate.current++
}

/** Messages per second over the last complete window. */
export function perSecond(rate: ChannelRate | undefined, clock: RateClock): number {
  if (!rate) return 0
  const last =
    rate.window === clock.window ? rate.previous : rate.window === clock.window - 1 ? rate.current : 0
  return last / (RATE_WINDOW_MS / 1000)
}
