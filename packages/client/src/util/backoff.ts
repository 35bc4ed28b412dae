/**
 * Reconnect delays: capped exponential backoff with full jitter (AWS "Exponential Backoff And
 * Jitter"). Full jitter spreads a crowd of clients that lost the same server over the whole
 * window instead of bringing them back in synchronised waves. The random source is injectable so
 * tests can pin the delays.
 */

export interface BackoffOptions {
  /** Delay cap of the first retry, in ms. Default 500. */
  base?: number
  /** Largest delay, in ms. Default 30 000. */
  max?: number
  /** A number in [0, 1). Default Math.random. */
  random?: () => number
}

/** `(attempt) => ms` where attempt counts from 0. */
export type Backoff = (attempt: number) => number

/** Delay for `attempt` = random × min(max, base × 2^attempt). */
export function createBackoff(options: BackoffOptions = {}): Backoff {
  const { base = 500, max = 30_000, random = Math.random } = options
  return (attempt) => {
    // 2 ** 1100 is Infinity; min() keeps it at the cap, so large attempt counts are safe.
    const cap = Math.min(max, base * 2 ** Math.max(0, attempt))
    return Math.floor(random() * cap)
  }
}
