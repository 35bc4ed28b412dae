/**
 * Token revocations in memory (MemoryBroker's `revocations`), and the merge rule every broker
 * applies: one entry per token id and one per user, the later `issuedBefore` and `expiresAt`
 * winning. Entries past their `expiresAt` are dropped when read and swept by the broker's timer.
 */
import type { BrokerRevocationsApi, Revocation, RevocationListener } from './broker.js'

/** The entry a revocation merges into: `j\n<jti>` or `u\n<user>` (a newline is in neither kind's name). */
export function revocationKey(revocation: Revocation): string {
  return 'jti' in revocation ? `j\n${revocation.jti}` : `u\n${revocation.user}`
}

/** `next` merged into `stored` (the same key): the later `issuedBefore` and `expiresAt` win. */
export function mergeRevocation(stored: Revocation | undefined, next: Revocation): Revocation {
  if (!stored) return { ...next }
  const expiresAt = Math.max(stored.expiresAt, next.expiresAt)
  if ('jti' in next) return { jti: next.jti, expiresAt }
  const issuedBefore = 'issuedBefore' in stored ? stored.issuedBefore : next.issuedBefore
  return { user: next.user, issuedBefore: Math.max(issuedBefore, next.issuedBefore), expiresAt }
}

export class MemoryRevocations implements BrokerRevocationsApi {
  private readonly entries = new Map<string, Revocation>()
  private listener: RevocationListener | undefined

  constructor(
    private readonly now: () => number,
    private readonly isClosed: () => boolean,
  ) {}

  async add(revocation: Revocation): Promise<void> {
    if (this.isClosed()) throw new Error('broker is closed')
    if (revocation.expiresAt <= this.now()) return
    const key = revocationKey(revocation)
    this.entries.set(key, mergeRevocation(this.entries.get(key), revocation))
    this.listener?.({ kind: 'revoked', revocation: { ...revocation } })
  }

  async list(): Promise<Revocation[]> {
    if (this.isClosed()) throw new Error('broker is closed')
    this.sweep()
    return [...this.entries.values()].map((r) => ({ ...r }))
  }

  onRevocation(listener: RevocationListener): void {
    this.listener = listener
  }

  /** Forgets the entries whose `expiresAt` has passed; how many went. */
  sweep(): number {
    const now = this.now()
    let gone = 0
    for (const [key, revocation] of this.entries) {
      if (revocation.expiresAt > now) continue
      this.entries.delete(key)
      gone++
    }
    return gone
  }

  /** How many entries are held (expired ones included until swept). */
  get size(): number {
    return this.entries.size
  }

  clear(): void {
    this.entries.clear()
  }
}
