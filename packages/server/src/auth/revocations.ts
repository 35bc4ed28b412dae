/**
 * Token revocation (`sb.revoke`, `POST /api/revoke`): a revocation is stored in the broker for
 * `revocationTtl` — long enough that any token it covers has expired by then — and announced to
 * every node, which closes the connections that hold a covered token (4001 `token revoked`).
 * Each node keeps its own copy (revocation-list.ts): loaded at start, kept by the notifications,
 * and read again from the broker after a resync (a node that lost its link to the others may have
 * missed some), after which the live connections are checked again. A handshake waits for a load
 * in progress, so a node that is just starting or just reconnected checks against the store;
 * a load that fails (the broker is down) leaves the copy as it was and is retried every second.
 */
import type { Broker, Revocation } from '@switchboard/broker'
import type { Credentials, RevocationCheck } from './auth-session.js'
import { RevocationList } from './revocation-list.js'

/** What `sb.revoke` takes: one token by its `jti`, or a user's tokens issued before a time. */
export type RevokeRequest =
  | { jti: string }
  | {
      user: string
      /**
       * Tokens of `user` issued before this time are revoked: a Date, or milliseconds since the
       * epoch. Default: now (every token the user holds).
       */
      issuedBefore?: Date | number
    }

export interface RevokeResult {
  /** When the revocation is forgotten: by then, every token it covers has expired. */
  expiresAt: Date
}

export interface RevocationsOptions {
  /** The guarded broker (failures are `unavailable` or `timeout`). */
  broker: Broker
  /** Closes this node's connections whose credentials `covers` says are revoked (TokenSessions.closeRevoked). */
  closeCovered: (covers: (credentials: Credentials<unknown>) => boolean) => void
  /** How long a revocation is kept, in ms: the longest a token can live. */
  ttlMs: number
  now?: () => number
}

/** The longest `jti` or user name a revocation takes. */
export const MAX_REVOKED_NAME = 1024
const RETRY_MS = 1000

/** The broker's entry for a request; a TypeError for a malformed one. */
export function revocationOf(request: RevokeRequest, now: number, ttlMs: number): Revocation {
  const name = (value: unknown, what: string): string => {
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_REVOKED_NAME) {
      throw new TypeError(`revoke: ${what} must be a string of 1 to ${MAX_REVOKED_NAME} characters`)
    }
    return value
  }
  const r = request as { jti?: unknown; user?: unknown; issuedBefore?: unknown }
  if ((r.jti === undefined) === (r.user === undefined)) {
    throw new TypeError('revoke: give either { jti } or { user, issuedBefore? }')
  }
  if (r.jti !== undefined) return { jti: name(r.jti, 'jti'), expiresAt: now + ttlMs }
  const user = name(r.user, 'user')
  const at = r.issuedBefore instanceof Date ? r.issuedBefore.getTime() : (r.issuedBefore ?? now)
  if (typeof at !== 'number' || !Number.isFinite(at)) {
    throw new TypeError('revoke: issuedBefore must be a valid Date or milliseconds since the epoch')
  }
  const issuedBefore = Math.floor(at)
  return { user, issuedBefore, expiresAt: Math.max(issuedBefore, now) + ttlMs }
}

export class Revocations implements RevocationCheck {
  private readonly list: RevocationList
  private readonly now: () => number
  private loading: Promise<void>
  private retry: NodeJS.Timeout | undefined
  private stopped = false

  constructor(private readonly o: RevocationsOptions) {
    this.now = o.now ?? Date.now
    this.list = new RevocationList(this.now)
    o.broker.revocations.onRevocation((event) => {
      if (event.kind === 'revoked') this.apply(event.revocation)
      else this.reload()
    })
    this.loading = this.load()
  }

  current(): Promise<void> {
    return this.loading
  }

  covers(credentials: Credentials<unknown>): boolean {
    return this.list.covers(credentials)
  }

  /** Stores the revocation for every node and closes this node's covered connections at once. */
  async revoke(request: RevokeRequest): Promise<RevokeResult> {
    const revocation = revocationOf(request, this.now(), this.o.ttlMs)
    await this.o.broker.revocations.add(revocation)
    this.apply(revocation)
    return { expiresAt: new Date(revocation.expiresAt) }
  }

  /** No more retries (the server is closing). */
  stop(): void {
    this.stopped = true
    clearTimeout(this.retry)
  }

  private apply(revocation: Revocation): void {
    this.list.add(revocation)
    this.o.closeCovered((credentials) => this.list.covers(credentials))
  }

  private reload(): void {
    if (this.stopped) return
    clearTimeout(this.retry)
    this.retry = undefined
    this.loading = this.load()
  }

  /** Reads every revocation from the broker, then checks the live connections against them. */
  private async load(): Promise<void> {
    try {
      for (const revocation of await this.o.broker.revocations.list()) this.list.add(revocation)
    } catch {
      // The guarded broker has logged it; the copy stays as it was until a retry succeeds.
      if (!this.stopped) {
        this.retry = setTimeout(() => this.reload(), RETRY_MS)
        this.retry.unref()
      }
      return
    }
    this.list.prune()
    this.o.closeCovered((credentials) => this.list.covers(credentials))
  }
}
