/**
 * What the two HTTP transports (SSE and long-polling) share: the `close` pseudo-frame that tells
 * their clients the close code — a WebSocket has a close frame for that, an HTTP response does
 * not — the shape the HTTP router sees of a session's transport, and `HttpSession`, the state
 * both keep and the way client frames reach the connection.
 */
import type { OutgoingFrame, Transport, TransportHandlers } from './transport.js'

/**
 * `{"type":"close","code":…,"reason":…}`: the last frame a session sends, on these transports
 * only. It is not a protocol frame; the client's transport turns it into the socket's close event.
 */
export function closeFrameText(code: number, reason: string): string {
  return JSON.stringify({ type: 'close', code, reason })
}

/** A transport whose client frames arrive by HTTP request (the router calls `receive`). */
export interface HttpSessionTransport extends Transport {
  readonly kind: 'sse' | 'long-polling'
  /** One client frame, as if it came in a WebSocket text message. */
  receive(text: string): void
}

/** The state and the client side of an HTTP session; the subclass is how frames leave. */
export abstract class HttpSession implements HttpSessionTransport {
  abstract readonly kind: 'sse' | 'long-polling'
  protected _state: 'open' | 'closing' | 'closed' = 'open'
  protected handlers: TransportHandlers | undefined
  /** Heartbeat ticks since the client last sent anything (see the subclasses' `ping`). */
  protected quiet = 0
  /** Set when the server closes the session; the client then hears this code. */
  protected closeCode: number | undefined
  protected closeReason = ''

  get state(): 'open' | 'closing' | 'closed' {
    return this._state
  }

  setHandlers(handlers: TransportHandlers): void {
    this.handlers = handlers
  }

  /** One client frame, from a POST to this session. */
  receive(text: string): void {
    if (this._state === 'closed') return
    this.quiet = 0
    this.handlers?.onActivity()
    this.handlers?.onMessage(text)
  }

  abstract get bufferedAmount(): number
  abstract send(frame: OutgoingFrame, now?: boolean): boolean
  abstract flush(): void
  abstract close(code: number, reason: string): void
  abstract terminate(code: number, reason: string): void
  abstract ping(): void
}
