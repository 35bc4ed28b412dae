/**
 * What the two HTTP transports (SSE and long-polling) share: the `close` pseudo-frame that tells
 * their clients the close code — a WebSocket has a close frame for that, an HTTP response does
 * not — and the shape the HTTP router sees of a session's transport.
 */
import type { Transport } from './transport.js'

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
