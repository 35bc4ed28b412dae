/**
 * What the two HTTP transports (SSE and long-polling) share: the `close` pseudo-frame that tells
 * their clients the close code — a WebSocket has a close frame for that, an HTTP response does
 * not — the shape the HTTP router sees of a session's transport, and `HttpSession`, the state
 * both keep and the way client frames reach the connection.
 */
import { CloseCode } from '@switchboard/protocol'
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

/**
 * The state and the client side of an HTTP session, its heartbeat and how it ends; the subclass
 * is how frames leave.
 */
export abstract class HttpSession implements HttpSessionTransport {
  abstract readonly kind: 'sse' | 'long-polling'
  protected _state: 'open' | 'closing' | 'closed' = 'open'
  protected handlers: TransportHandlers | undefined
  /** Heartbeat ticks since the client last sent anything (see `ping`). */
  protected quiet = 0
  /** Set when the server closes the session; the client then hears this code. */
  protected closeCode: number | undefined
  protected closeReason = ''

  /** `onEnd`: called once the session is closed (the session registry forgets it). */
  constructor(private readonly onEnd: () => void) {}

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

  /** Drops the session without a close event (a dead peer). */
  terminate(code: number, reason: string): void {
    if (this._state === 'closed') return
    if (this._state === 'open') {
      this.closeCode = code
      this.closeReason = reason
    }
    this._state = 'closing'
    this.dropQueue()
    this.cut()
  }

  /** The session is over: the registry and the connection are told, once. */
  protected closed(): void {
    if (this._state === 'closed') return
    this._state = 'closed'
    this.release()
    this.onEnd()
    this.handlers?.onClose(this.closeCode ?? CloseCode.ABNORMAL, this.closeReason)
  }

  abstract get bufferedAmount(): number
  abstract send(frame: OutgoingFrame, now?: boolean): boolean
  abstract flush(): void
  abstract close(code: number, reason: string): void
  /** What the heartbeat tick sends, if anything, to keep proxies from timing the session out. */
  protected abstract keepAlive(): void
  protected abstract dropQueue(): void
  /** Cuts the HTTP side at once; `closed` follows, now or when the response reports it. */
  protected abstract cut(): void
  /** Frees what the session holds (timers, queue) as it closes. */
  protected abstract release(): void
}
