/**
 * Logs a kind of proxy failure without flooding the log: the first one of a kind at once, then
 * at most one line per `everyMs` for that kind, saying how many were left out. A backend that is
 * down during a connection storm costs one line per kind per window, not one per call. Lines are
 * built by the caller from fixed text, the hook's name and its URL's origin and path — never a
 * request body, a forwarded header or a cookie.
 */
import type { Logger } from '../api.js'

export class ReportLimiter {
  private readonly kinds = new Map<string, { next: number; skipped: number }>()

  constructor(
    private readonly log: Logger,
    private readonly everyMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Reports `message` under `kind` (say, "connect unavailable"), unless that kind was reported lately. */
  report(kind: string, message: string): void {
    const at = this.now()
    const seen = this.kinds.get(kind)
    if (seen && at < seen.next) {
      seen.skipped++
      return
    }
    const skipped = seen?.skipped ?? 0
    // The map holds one entry per kind: hooks times failure kinds, a handful.
    this.kinds.set(kind, { next: at + this.everyMs, skipped: 0 })
    this.log.warn(skipped > 0 ? `${message} (and ${skipped} more like it since the last report)` : message)
  }
}
