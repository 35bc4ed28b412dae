/**
 * A token bucket that may run into debt. A frame takes a token; with none left the frame is
 * refused; every refused frame still deepens the debt, and a debt past the bucket's capacity means
 * the client keeps flooding after being told to slow down, so it is disconnected. A client that
 * only bursts a little over the limit gets a few refusals and recovers as the bucket refills.
 */

export type TakeResult = 'ok' | 'refused' | 'exceeded'

export interface TokenBucketOptions {
  /** Largest burst, in tokens. */
  capacity: number
  /** Tokens added per second. */
  refillPerSecond: number
  /** Clock in milliseconds; injectable for tests. */
  now?: () => number
}

export class TokenBucket {
  private level: number
  private last: number
  private readonly now: () => number

  constructor(private readonly options: TokenBucketOptions) {
    this.now = options.now ?? Date.now
    this.level = options.capacity
    this.last = this.now()
  }

  take(): TakeResult {
    const t = this.now()
    const elapsed = t - this.last
    this.last = t
    this.level = Math.min(this.options.capacity, this.level + (elapsed / 1000) * this.options.refillPerSecond)
    this.level -= 1
    if (this.level >= 0) return 'ok'
    return this.level < -this.options.capacity ? 'exceeded' : 'refused'
  }
}
