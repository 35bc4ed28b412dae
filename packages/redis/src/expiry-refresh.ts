/**
 * When a publish moves its channel's key expiries. A PEXPIRE on every publish is one more Redis
 * command per message for a deadline that moves by milliseconds. Instead a node asks the publish
 * script to refresh a channel's expiries at most once per half a slack window, and the keys get
 * `ttl + slack`: a refresh at t keeps them until t + ttl + slack, and the node refreshes again
 * before t + slack / 2, so the keys still live at least `ttl` after the last publish (and at most
 * `ttl + slack` after it). Keys a publish creates get their expiry at once, whatever this says.
 * Real (monotonic) time, not the broker's injectable clock: Redis expires keys by real time.
 */

/** The slack of a ttl: a tenth of it, at most a minute. */
export function expirySlackMs(ttlMs: number): number {
  return Math.min(Math.ceil(ttlMs / 10), 60_000)
}

/** The longest slack: entries older than this are due anyway, and are dropped. */
const MAX_SLACK_MS = 60_000

export class ExpiryRefresh {
  /** Channel → when this node last refreshed its expiries (performance.now() ms). */
  private readonly refreshed = new Map<string, number>()
  private pruned = performance.now()

  /** Whether this publish of `channel` must refresh its expiries; if so, counts it as done now. */
  due(channel: string, slackMs: number): boolean {
    const now = performance.now()
    if (now - this.pruned > MAX_SLACK_MS) this.prune(now)
    const last = this.refreshed.get(channel)
    if (last !== undefined && now - last < slackMs / 2) return false
    this.refreshed.set(channel, now)
    return true
  }

  /** Forgets the channels whose refresh is due anyway: the map holds only recent publishers. */
  private prune(now: number): void {
    this.pruned = now
    for (const [channel, at] of this.refreshed) if (now - at >= MAX_SLACK_MS) this.refreshed.delete(channel)
  }
}
