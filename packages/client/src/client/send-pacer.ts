/**
 * The client's copy of the server's per-connection rate limit (`hello.limits.rateLimit`): a
 * token bucket kept on this side, so that what goes out in a burst — every channel resubscribing
 * and the offline queue flushed after a (re)connect — leaves no faster than the server takes it,
 * instead of being refused `rate_limited` and retried. It allows itself 90% of the announced
 * burst and rate: the headroom absorbs frames the network delivers bunched together and the frames
 * that do not wait their turn (pings). Without an announced limit (an older server) nothing waits.
 */
import type { HelloLimits } from '@switchboard/protocol'

/** The share of the server's burst and rate this client uses. */
const SHARE = 0.9

export class SendPacer {
  #capacity = Number.POSITIVE_INFINITY
  #level = Number.POSITIVE_INFINITY
  /** Tokens per ms. */
  #refill = 0
  #last = 0

  /** A new connection: a full bucket of the size `hello` announced, or no limit at all. */
  reset(limit: HelloLimits['rateLimit']): void {
    this.#capacity = limit ? limit.capacity * SHARE : Number.POSITIVE_INFINITY
    this.#refill = limit ? (limit.refillPerSecond * SHARE) / 1000 : 0
    this.#level = this.#capacity
    this.#last = Date.now()
  }

  /**
   * Takes a token for one frame: 0 when taken (send it now), else the ms until one is there (send
   * nothing yet). `force` takes one even into debt, for a frame that cannot wait.
   */
  take(force = false): number {
    const now = Date.now()
    this.#level = Math.min(this.#capacity, this.#level + (now - this.#last) * this.#refill)
    this.#last = now
    if (this.#level < 1 && !force) return Math.ceil((1 - this.#level) / this.#refill)
    this.#level--
    return 0
  }
}
