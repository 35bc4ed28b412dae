/**
 * This node's copy of the cluster's token revocations: loaded from the broker at start and after
 * every resync, and kept current by the broker's notifications, so checking a token is a lookup
 * here — no round trip. A token is revoked if its id (`jti`) is, or if its subject's tokens
 * issued before a time are and it was issued before then (a token without an issue time counts
 * as issued before any). Entries past their `expiresAt` no longer count and are dropped as the
 * list is read.
 */
import type { Revocation } from '@switchboard/broker'
import type { Credentials } from './auth-session.js'

interface UserEntry {
  issuedBefore: number
  expiresAt: number
}

export class RevocationList {
  /** jti → expiresAt (ms). */
  private readonly tokens = new Map<string, number>()
  private readonly users = new Map<string, UserEntry>()

  constructor(private readonly now: () => number) {}

  /** Merges a revocation in (the later `issuedBefore` and `expiresAt` win, as in the broker). */
  add(revocation: Revocation): void {
    if ('jti' in revocation) {
      const had = this.tokens.get(revocation.jti) ?? 0
      this.tokens.set(revocation.jti, Math.max(had, revocation.expiresAt))
      return
    }
    const had = this.users.get(revocation.user)
    this.users.set(revocation.user, {
      issuedBefore: Math.max(had?.issuedBefore ?? Number.NEGATIVE_INFINITY, revocation.issuedBefore),
      expiresAt: Math.max(had?.expiresAt ?? 0, revocation.expiresAt),
    })
  }

  /** Whether a revocation not yet expired covers these credentials. */
  covers(credentials: Credentials<unknown>): boolean {
    const now = this.now()
    const { tokenId, subject, issuedAt } = credentials
    if (tokenId !== undefined) {
      const until = this.tokens.get(tokenId)
      if (until !== undefined) {
        if (until > now) return true
        this.tokens.delete(tokenId)
      }
    }
    if (subject !== undefined) {
      const entry = this.users.get(subject)
      if (entry !== undefined) {
        if (entry.expiresAt <= now) this.users.delete(subject)
        else if (issuedAt === undefined || issuedAt < entry.issuedBefore) return true
      }
    }
    return false
  }

  /** Drops the expired entries; how many are left. */
  prune(): number {
    const now = this.now()
    for (const [jti, until] of this.tokens) if (until <= now) this.tokens.delete(jti)
    for (const [user, entry] of this.users) if (entry.expiresAt <= now) this.users.delete(user)
    return this.tokens.size + this.users.size
  }
}
