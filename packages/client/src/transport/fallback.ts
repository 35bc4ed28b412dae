/**
 * Transport fallback: a WebSocketConstructor whose sockets try each transport in turn — WebSocket,
 * then SSE, then long-polling, or whatever order is given — until one opens. A transport that is
 * absent (no WebSocket in this runtime), fails before it opens (a proxy refusing the upgrade) or
 * does not open within its share of the connect timeout (a proxy holding it) gives way to the
 * next; to the ReconnectingWebSocket above it is all one connection attempt.
 *
 * What opened is remembered by the constructor, so reconnects start with it and do not pay for
 * the blocked WebSocket again; after `retryAfter` ms they start from the first transport again,
 * in case the network changed.
 */

import { CloseCode } from '@switchboard/protocol'
import { CLOSED, CONNECTING } from './http-socket.js'
import { LongPollSocket } from './long-poll-socket.js'
import { SseSocket } from './sse-socket.js'
import { closeQuietly, type WebSocketConstructor, type WebSocketLike } from './websocket-like.js'

/** The transports a Switchboard client can use, as named in the `transports` option. */
export type TransportName = 'websocket' | 'sse' | 'long-polling'

type CloseEvent = { code: number; reason: string; wasClean?: boolean }

export interface FallbackOptions {
  /**
   * Time one connection attempt may take, in ms, shared equally by the transports this runtime
   * has: each gets its share to open before the next is tried.
   */
  connectTimeout: number
  /** After this long (ms) since the last open, a new socket starts again with the first transport. Default 60 000. */
  retryAfter?: number
}

export function fallbackWebSocket(
  transports: readonly TransportName[],
  WebSocket: WebSocketConstructor | undefined,
  { connectTimeout, retryAfter = 60_000 }: FallbackOptions,
): WebSocketConstructor {
  const ctors = transports.flatMap((name) => {
    const ctor = name === 'websocket' ? WebSocket : name === 'sse' ? SseSocket : LongPollSocket
    return ctor ? [ctor] : []
  })
  if (ctors.length === 0) throw new TypeError('no transport available: pass options.WebSocket')
  const attemptTimeout = connectTimeout / ctors.length
  /** Index of the transport that opened last, and when. */
  let preferred = 0
  let openedAt = 0

  return class FallbackSocket implements WebSocketLike {
    onopen: ((event: unknown) => void) | null = null
    onmessage: ((event: { data: unknown }) => void) | null = null
    onclose: ((event: CloseEvent) => void) | null = null
    onerror: ((event: unknown) => void) | null = null
    #socket: WebSocketLike | undefined
    #open = false
    #closed = false
    #timer: ReturnType<typeof setTimeout> | undefined

    constructor(url: string, protocols?: string | string[]) {
      this.#try(preferred > 0 && Date.now() - openedAt >= retryAfter ? 0 : preferred, url, protocols)
    }

    get readyState(): number {
      return this.#open ? this.#socket!.readyState : this.#closed ? CLOSED : CONNECTING
    }

    get protocol(): string {
      return this.#open ? this.#socket!.protocol : ''
    }

    send(data: string | ArrayBufferLike | ArrayBufferView): void {
      this.#socket?.send(data)
    }

    close(code?: number, reason?: string): void {
      if (this.#open) {
        this.#socket!.close(code, reason)
        return
      }
      // Still trying: stop at the current transport; its close event ends this socket.
      this.#closed = true
      clearTimeout(this.#timer)
      closeQuietly(this.#socket)
    }

    #try(index: number, url: string, protocols: string | string[] | undefined): void {
      let socket: WebSocketLike | undefined
      const next = (event: CloseEvent = { code: CloseCode.ABNORMAL, reason: '', wasClean: false }): void => {
        clearTimeout(this.#timer)
        if (socket) {
          socket.onopen = socket.onmessage = socket.onclose = null
          closeQuietly(socket)
        }
        if (index + 1 < ctors.length && !this.#closed) {
          this.#try(index + 1, url, protocols)
        } else {
          this.#closed = true
          this.onclose?.(event)
        }
      }
      try {
        socket = new ctors[index]!(url, protocols)
      } catch {
        // Deferred like a failed WebSocket's close event, so the caller has its handlers set.
        setTimeout(next)
        return
      }
      this.#socket = socket
      this.#timer = setTimeout(next, attemptTimeout)
      socket.onerror = (event) => {
        if (this.#open) this.onerror?.(event)
      }
      socket.onopen = (event) => {
        clearTimeout(this.#timer)
        this.#open = true
        preferred = index
        openedAt = Date.now()
        this.onopen?.(event)
      }
      socket.onmessage = (event) => this.onmessage?.(event)
      socket.onclose = (event) => {
        if (this.#open) this.onclose?.(event)
        else next(event)
      }
    }
  }
}
