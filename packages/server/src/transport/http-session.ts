/**
 * What the two HTTP transports (SSE and long-polling) share: the shape the HTTP router sees of a
 * session's transport, and `HttpSession`: how client frames reach the connection, the heartbeat
 * tick, and telling the registry the session is over. Their wire format (paths, session start,
 * the `close` pseudo-frame) is `@switchboard/protocol`'s http-transport module.
 */
import type { ClosingErrorCode } from '@switchboard/protocol'
import type { Transport } from './transport.js'
import { TransportBase } from './transport-base.js'

/** A transport whose client frames arrive by HTTP request (the router calls `receive`). */
export interface HttpSessionTransport extends Transport {
  readonly kind: 'sse' | 'long-polling'
  /** One client frame, as if it came in a WebSocket text message. */
  receive(text: string): void
  /** Ends the session because of what the client sent (see TransportHandlers.fail). */
  fail(code: ClosingErrorCode, message: string, reason?: string): void
}

/** An HTTP session's client side, heartbeat and end; the subclass is how frames leave. */
export abstract class HttpSession extends TransportBase<Buffer> implements HttpSessionTransport {
  abstract override readonly kind: 'sse' | 'long-polling'
  /** Heartbeat ticks since the client last sent anything (see `ping`). */
  protected quiet = 0

  /** `onEnd`: called once the session is closed (the session registry forgets it). */
  constructor(
    maxBufferedBytes: number,
    private readonly onEnd: () => void,
  ) {
    super(maxBufferedBytes, false)
  }

  /** One client frame, from a POST to this session. */
  receive(text: string): void {
    if (this._state === 'closed') return
    this.quiet = 0
    this.handlers?.onActivity()
    this.handlers?.onMessage(text)
  }

  fail(code: ClosingErrorCode, message: string, reason?: string): void {
    this.handlers?.fail(code, message, reason)
  }

  /**
   * The server's heartbeat tick. The client cannot answer it, and its own `ping` frames run on its
   * own clock, so a tick that falls between two of them would look like silence: one quiet tick
   * is forgiven, two in a row let the heartbeat end the session.
   */
  ping(): void {
    if (this._state !== 'open') return
    if (++this.quiet === 1) this.handlers?.onActivity()
    this.keepAlive()
  }

  /** The session is over: the registry and the connection are told, once. */
  protected closed(): void {
    if (this._state === 'closed') return
    this.finish()
    this.onEnd()
  }

  /** What the heartbeat tick sends, if anything, to keep proxies from timing the session out. */
  protected abstract keepAlive(): void
}
