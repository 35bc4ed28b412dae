/**
 * The Broker contract, revocations: what `sb.revoke` stores is listed until its `expiresAt` and
 * then never again, one entry per token id and per user (the later time winning), and every
 * revocation reaches the node's listener — the server's refusal of revoked tokens rests on these.
 */
import { describe, expect, it } from 'vitest'
import type { Broker, Revocation, RevocationEvent } from '../broker.js'
import type { ContractKit } from './contract-kit.js'

/** The contract's clock starts here (see broker-contract.ts). */
const T0 = 1_000_000
const MINUTE = 60_000

/** Polls `check` every 10 ms until it holds or 2 s passed (pub/sub notifications take a moment). */
async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

const nameOf = (r: Revocation) => ('jti' in r ? r.jti : r.user)

const byKey = (list: Revocation[]) =>
  [...list].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))

export function revocationsContract<B extends Broker>(kit: ContractKit<B>): void {
  const { broker, advance } = kit
  describe('revocations', () => {
    it('lists what was added, and tells this node’s listener of each one', async () => {
      const b = await broker()
      const events: RevocationEvent[] = []
      b.revocations.onRevocation((e) => events.push(e))
      expect(await b.revocations.list()).toEqual([])
      await b.revocations.add({ jti: 'token-1', expiresAt: T0 + MINUTE })
      await b.revocations.add({ user: 'ada', issuedBefore: T0 - 5, expiresAt: T0 + 2 * MINUTE })
      expect(byKey(await b.revocations.list())).toEqual(
        byKey([
          { jti: 'token-1', expiresAt: T0 + MINUTE },
          { user: 'ada', issuedBefore: T0 - 5, expiresAt: T0 + 2 * MINUTE },
        ]),
      )
      await eventually(() => events.length === 2, 'two notifications')
      expect(events).toEqual([
        { kind: 'revoked', revocation: { jti: 'token-1', expiresAt: T0 + MINUTE } },
        { kind: 'revoked', revocation: { user: 'ada', issuedBefore: T0 - 5, expiresAt: T0 + 2 * MINUTE } },
      ])
    })

    it('keeps one entry per token id and per user: the later issuedBefore and expiresAt win', async () => {
      const b = await broker()
      await b.revocations.add({ jti: 'j', expiresAt: T0 + 3 * MINUTE })
      await b.revocations.add({ jti: 'j', expiresAt: T0 + MINUTE })
      await b.revocations.add({ user: 'u', issuedBefore: T0 + 500, expiresAt: T0 + MINUTE })
      await b.revocations.add({ user: 'u', issuedBefore: T0 - 500, expiresAt: T0 + 4 * MINUTE })
      // A name that looks like the other kind's is its own entry.
      await b.revocations.add({ user: 'j', issuedBefore: T0, expiresAt: T0 + MINUTE })
      expect(byKey(await b.revocations.list())).toEqual(
        byKey([
          { jti: 'j', expiresAt: T0 + 3 * MINUTE },
          { user: 'u', issuedBefore: T0 + 500, expiresAt: T0 + 4 * MINUTE },
          { user: 'j', issuedBefore: T0, expiresAt: T0 + MINUTE },
        ]),
      )
    })

    it('forgets each entry at its expiresAt, and stores nothing that had expired already', async () => {
      const b = await broker()
      const events: RevocationEvent[] = []
      b.revocations.onRevocation((e) => events.push(e))
      await b.revocations.add({ jti: 'short', expiresAt: T0 + 1000 })
      await b.revocations.add({ user: 'long', issuedBefore: T0, expiresAt: T0 + 5000 })
      await b.revocations.add({ jti: 'past', expiresAt: T0 })
      await eventually(() => events.length >= 2, 'the notifications')
      advance(999)
      expect((await b.revocations.list()).length).toBe(2)
      advance(1)
      expect(await b.revocations.list()).toEqual([{ user: 'long', issuedBefore: T0, expiresAt: T0 + 5000 }])
      advance(4000)
      expect(await b.revocations.list()).toEqual([])
      // A later add of a forgotten entry starts afresh.
      await b.revocations.add({ jti: 'short', expiresAt: T0 + 9000 })
      expect(await b.revocations.list()).toEqual([{ jti: 'short', expiresAt: T0 + 9000 }])
      await new Promise((resolve) => setTimeout(resolve, 50))
      const names = events.map((e) => (e.kind === 'resync' ? e.kind : nameOf(e.revocation)))
      expect(names).toEqual(['short', 'long', 'short'])
    })

    it('rejects add and list once the broker is closed', async () => {
      const b = await broker()
      await b.close()
      await expect(b.revocations.add({ jti: 'x', expiresAt: T0 + MINUTE })).rejects.toThrow()
      await expect(b.revocations.list()).rejects.toThrow()
    })
  })
}
