/**
 * The Transport seam: what a connection needs from the wire, and nothing more. A connection
 * hands it encoded frames and close requests and hears back about messages, activity and the
 * end of the line; it never knows whether WebSocket, SSE or long-polling carries them.
 *
 * Frames travel as `OutgoingFrame`s: the JSON text, encoded once, plus a per-transport memo so
 * that a message fanned out to ten thousand subscribers is framed once per transport kind and
 * the same bytes are written to every socket.
 */

export class OutgoingFrame {
  private memo: Map<symbol, unknown> | undefined

  constructor(readonly text: string) {}

  /** The transport-specific encoding of this frame, built on first use and shared afterwards. */
  encoded<T>(key: symbol, build: (text: string) => T): T {
    this.memo ??= new Map()
    let value = this.memo.get(key) as T | undefined
    if (value === undefined) {
      value = build(this.text)
      this.memo.set(key, value)
    }
    return value
  }
}

export interface TransportHandlers {
  /** One complete text message from the client. */
  message(text: string): void
  /** A message the transport cannot carry as a frame (e.g. a binary WebSocket message). */
  unsupported(): void
  /** Any sign of life from the peer (a frame, a pong). */
  activity(): void
  /** The transport has flushed everything it had buffered. */
  drain(): void
  /** The transport is gone. `code` is the close code this side sent, or the peer's, or 1006. */
  close(code: number, reason: string): void
}

export interface Transport {
  readonly kind: string
  /** `closing` once a close was started by either side or by the transport itself (slow consumer). */
  readonly state: 'open' | 'closing' | 'closed'
  /** Bytes accepted by `send` and not yet handed to the kernel. */
  readonly bufferedAmount: number
  /** Queues a frame; false if it was dropped because the transport is closing or closed. */
  send(frame: OutgoingFrame): boolean
  /** Writes out what is queued now instead of at the end of the event-loop turn. */
  flush(): void
  /** Flushes, then closes with this code; the peer is cut off if it does not finish in time. */
  close(code: number, reason: string): void
  /** Drops the connection at once (the code is what the close handler reports). */
  terminate(code: number, reason: string): void
  /** A transport-level liveness probe (a WebSocket ping). */
  ping(): void
  setHandlers(handlers: TransportHandlers): void
}
