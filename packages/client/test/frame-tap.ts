/**
 * A WebSocketLike that wraps another (the `ws` WebSocket, an SseSocket…) and keeps every text
 * frame the client received and sent, so a test can count what the real server answered — the
 * `rate_limited` refusals the client retries on its own, say — without reaching into the client.
 */
import type { WebSocketConstructor, WebSocketLike } from '@switchboard/client'

export interface FrameTap {
  /** The constructor to give as the client's `WebSocket` option. */
  WebSocket: WebSocketConstructor
  /** Every text frame received, in order, over every connection. */
  received: string[]
  /** Every text frame sent, in order, over every connection. */
  sent: string[]
  /** Sockets opened so far. */
  opened: () => number
}

/** Wraps `Inner`; the frames of every socket it makes go into `received`. */
export function frameTap(Inner: WebSocketConstructor): FrameTap {
  const received: string[] = []
  const sent: string[] = []
  let opened = 0
  class Tapped implements WebSocketLike {
    readonly #inner: WebSocketLike
    onopen: ((event: unknown) => void) | null = null
    onmessage: ((event: { data: unknown }) => void) | null = null
    onclose: ((event: { code: number; reason: string; wasClean?: boolean }) => void) | null = null
    onerror: ((event: unknown) => void) | null = null

    constructor(url: string, protocols?: string | string[]) {
      const inner = new Inner(url, protocols)
      this.#inner = inner
      inner.onopen = (event) => {
        opened++
        this.onopen?.(event)
      }
      inner.onmessage = (event) => {
        if (typeof event.data === 'string') received.push(event.data)
        else received.push(String(event.data))
        this.onmessage?.(event)
      }
      inner.onclose = (event) => this.onclose?.(event)
      inner.onerror = (event) => this.onerror?.(event)
    }

    get readyState(): number {
      return this.#inner.readyState
    }

    get protocol(): string {
      return this.#inner.protocol
    }

    send(data: string | ArrayBufferLike | ArrayBufferView): void {
      if (typeof data === 'string') sent.push(data)
      this.#inner.send(data)
    }

    close(code?: number, reason?: string): void {
      this.#inner.close(code, reason)
    }
  }
  return { WebSocket: Tapped, received, sent, opened: () => opened }
}

/** How many of the received frames carry this error code (in a reply or an error frame). */
export function countCode(received: readonly string[], code: string): number {
  return received.filter((text) => text.includes(`"code":"${code}"`)).length
}
