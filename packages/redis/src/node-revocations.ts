/**
 * Token revocations on Redis (`broker.revocations`): a hash of entries and a sorted set of their
 * expiry, written by one script that also PUBLISHes the revocation to every node, so a
 * revocation is stored and announced in one atomic step. Every node listens on that channel.
 * A notification missed while the pub/sub connection was down cannot be replayed: after every
 * reconnect the node subscribes again and tells its listener `resync`, which reads the whole list
 * (`list()`) from the store.
 */
import {
  BrokerOutcomeUnknownError,
  type BrokerRevocationsApi,
  type Revocation,
  type RevocationListener,
  revocationKey,
} from '@switchboard/broker'
import { ReplyError } from 'ioredis'
import type { Commands } from './connections.js'
import type { Keys } from './keys.js'
import type { PubSub } from './pubsub.js'
import { REVOCATIONS, REVOKE } from './scripts.js'
import { parse } from './wire.js'

export class NodeRevocations implements BrokerRevocationsApi {
  private listener: RevocationListener | undefined
  private readonly channel: string
  private started = false
  private stopped = false

  constructor(
    private readonly redis: Commands,
    private readonly sub: PubSub,
    private readonly keys: Keys,
    private readonly now: () => number,
  ) {
    this.channel = keys.revoked()
    sub.onMessage((name, payload) => {
      if (name === this.channel) this.onMessage(payload)
    })
    sub.onResubscribed(() => {
      if (this.started && !this.stopped) void this.resync()
    })
  }

  /** Listens for revocations (once both connections are up). */
  async start(): Promise<void> {
    await this.sub.subscribe(this.channel)
    this.started = true
  }

  stop(): void {
    this.stopped = true
  }

  onRevocation(listener: RevocationListener): void {
    this.listener = listener
  }

  async add(revocation: Revocation): Promise<void> {
    if (this.stopped) throw new Error('broker is closed')
    const issuedBefore = 'issuedBefore' in revocation ? String(Math.floor(revocation.issuedBefore)) : ''
    const expiresAt = Math.floor(revocation.expiresAt)
    const note =
      'jti' in revocation
        ? { jti: revocation.jti, expiresAt }
        : { user: revocation.user, issuedBefore: Number(issuedBefore), expiresAt }
    await REVOKE.of(this.keys.publishCommand)
      .run(
        this.redis,
        [this.keys.revocations(), this.keys.revocationExpiry()],
        [
          Math.floor(this.now()),
          revocationKey(revocation),
          issuedBefore,
          expiresAt,
          this.channel,
          JSON.stringify(note),
        ],
      )
      .catch((err: unknown) => {
        if (err instanceof ReplyError) throw err
        if (err instanceof Error && err.message.includes("Stream isn't writeable")) throw err
        const reason = err instanceof Error ? err.message : String(err)
        throw new BrokerOutcomeUnknownError(`revocation sent to Redis but not confirmed (${reason})`, {
          cause: err,
        })
      })
  }

  async list(): Promise<Revocation[]> {
    if (this.stopped) throw new Error('broker is closed')
    const flat = (await REVOCATIONS.run(
      this.redis,
      [this.keys.revocations(), this.keys.revocationExpiry()],
      [Math.floor(this.now())],
    )) as string[]
    const out: Revocation[] = []
    for (let i = 0; i + 2 < flat.length; i += 3) {
      const entry = flat[i]!
      const expiresAt = Number(flat[i + 2])
      const name = entry.slice(2)
      if (entry.startsWith('j\n')) out.push({ jti: name, expiresAt })
      else if (entry.startsWith('u\n')) out.push({ user: name, issuedBefore: Number(flat[i + 1]), expiresAt })
    }
    return out
  }

  /** Subscribed again (ioredis does it too; this waits for it), then the listener reads the list. */
  private async resync(): Promise<void> {
    try {
      await this.sub.subscribe(this.channel)
    } catch {
      return // the connection dropped again: its next `ready` comes back here
    }
    this.listener?.({ kind: 'resync' })
  }

  private onMessage(payload: string): void {
    const revocation = readRevocation(parse(payload))
    if (revocation) this.listener?.({ kind: 'revoked', revocation })
  }
}

/** A notification's revocation, checked field by field; undefined for anything else. */
function readRevocation(value: unknown): Revocation | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const v = value as Record<string, unknown>
  if (typeof v.expiresAt !== 'number') return undefined
  if (typeof v.jti === 'string') return { jti: v.jti, expiresAt: v.expiresAt }
  if (typeof v.user === 'string' && typeof v.issuedBefore === 'number') {
    return { user: v.user, issuedBefore: v.issuedBefore, expiresAt: v.expiresAt }
  }
  return undefined
}
