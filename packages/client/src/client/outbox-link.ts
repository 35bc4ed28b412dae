/**
 * A client's link to its outbox (the `outbox` option): the outbox is attached on first use —
 * connecting, a kept frame, `client.outbox` — so a client made and dropped unused (React's
 * StrictMode makes one) never claims it. Every publish and idempotent request goes through it
 * (sized as it would go on the wire), connected or not: a connection that looks alive may be dead
 * until the heartbeat says so, and what was sent on it must still survive a reload.
 */
import type {
  ClientOutbox,
  ConnectionState,
  OutboxFrame,
  OutboxSender,
  RequestOptions,
} from './client-types.js'

export class OutboxLink {
  #sender: OutboxSender | undefined

  constructor(
    private readonly outbox: ClientOutbox | undefined,
    sender: OutboxSender,
  ) {
    this.#sender = sender
  }

  /** The outbox, attached to this client the first time it is asked for. */
  claimed(): ClientOutbox | undefined {
    if (this.#sender) {
      this.outbox?.attach(this.#sender)
      this.#sender = undefined
    }
    return this.outbox
  }

  /** Whether a publish or idempotent request made in `state` goes to the outbox (a closed client refuses it). */
  keeps(state: ConnectionState): boolean {
    return this.outbox !== undefined && state !== 'closed'
  }

  /** Keeps a frame (its id dropped: the outbox gives it one when it sends it); `text` is its wire form. */
  keep(frame: OutboxFrame & { id?: string }, text: () => string, options: RequestOptions): Promise<unknown> {
    let bytes: number
    try {
      bytes = new TextEncoder().encode(text()).byteLength
    } catch (err) {
      return Promise.reject(err)
    }
    const { id: _, ...kept } = frame
    return this.claimed()!.enqueue(kept as OutboxFrame, bytes, options)
  }

  connected(): void {
    this.outbox?.connected()
  }

  closed(): void {
    this.outbox?.closed()
  }
}
