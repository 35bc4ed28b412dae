/**
 * Liveness by WebSocket ping. One timer for the whole server (not one per connection): each tick
 * pings every connection that answered since the previous tick and ends those that did not, so a
 * dead peer is found within two intervals. Any frame or pong from a peer counts as an answer.
 */

export interface HeartbeatTarget {
  ping(): void
  /** Called when the peer missed a whole interval. */
  timedOut(): void
}

export class Heartbeat {
  private readonly alive = new Map<HeartbeatTarget, boolean>()
  private readonly timer: NodeJS.Timeout | undefined

  constructor(readonly intervalMs: number) {
    if (intervalMs > 0) {
      this.timer = setInterval(() => this.tick(), intervalMs)
      this.timer.unref()
    }
  }

  add(target: HeartbeatTarget): void {
    this.alive.set(target, true)
  }

  delete(target: HeartbeatTarget): void {
    this.alive.delete(target)
  }

  /** The peer showed a sign of life. */
  seen(target: HeartbeatTarget): void {
    if (this.alive.has(target)) this.alive.set(target, true)
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.alive.clear()
  }

  private tick(): void {
    for (const [target, alive] of this.alive) {
      if (!alive) {
        this.alive.delete(target)
        target.timedOut()
      } else {
        this.alive.set(target, false)
        target.ping()
      }
    }
  }
}
