/**
 * The slice of the WebSocket API the client needs. The browser's WebSocket, Node 22's global one
 * and the `ws` package all fit it; so do test fakes. Each entry point supplies its own default
 * constructor, which keeps Node built-ins out of the browser bundle.
 */
import { CloseCode } from '@switchboard/protocol'

export interface WebSocketLike {
  readonly readyState: number
  readonly protocol: string
  /** How binary messages arrive: `'blob'` (browsers' default) or `'arraybuffer'`; `ws` also has `'nodebuffer'`. */
  binaryType?: string
  send(data: string | ArrayBufferLike | ArrayBufferView | Blob): void
  close(code?: number, reason?: string): void
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: { code: number; reason: string; wasClean?: boolean }) => void) | null
  onerror: ((event: unknown) => void) | null
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike

/** readyState values, as in the WebSocket standard. */
export const ReadyState = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const

/** The global WebSocket, when the runtime has one (browsers, Deno, Bun, Node ≥ 22). */
export function globalWebSocket(): WebSocketConstructor | undefined {
  const ctor = (globalThis as { WebSocket?: unknown }).WebSocket
  return typeof ctor === 'function' ? (ctor as WebSocketConstructor) : undefined
}

/**
 * Closes without throwing: some runtimes throw on a socket that is still connecting or already
 * closed, and `close()` itself only takes 1000 and 3000–4999 (any other code closes without one).
 */
export function closeQuietly(socket: WebSocketLike | undefined, code?: number, reason?: string): void {
  try {
    if (code === CloseCode.NORMAL || (code !== undefined && code >= 3000 && code <= 4999))
      socket?.close(code, reason)
    else socket?.close()
  } catch {
    // Already closing or closed: nothing left to do.
  }
}
