/**
 * A tab's socket on a shared connection: a WebSocketLike whose frames go through a link to the
 * connection multiplexer (in this page, in the leader tab, or in a SharedWorker) instead of a
 * network socket of its own. To the ReconnectingWebSocket above it, it is a socket like any
 * other: it opens when the shared connection has its `hello`, and closes with the real
 * connection's code — or a reconnect code (1012) when the tab holding the connection goes away.
 * Events are always dispatched on a later microtask, as a WebSocket's are after its constructor.
 */
import { ReadyState, type WebSocketConstructor, type WebSocketLike } from '../transport/websocket-like.js'
import type { LinkEnd, LinkOpener } from './share-messages.js'

export class VirtualSocket implements WebSocketLike {
  readyState: number = ReadyState.CONNECTING
  protocol = ''
  binaryType?: string
  onopen: ((event: unknown) => void) | null = null
  onmessage: ((event: { data: unknown }) => void) | null = null
  onclose: ((event: { code: number; reason: string; wasClean?: boolean }) => void) | null = null
  onerror: ((event: unknown) => void) | null = null
  readonly #end: LinkEnd

  constructor(url: string, opener: LinkOpener) {
    this.#end = opener.open(url, {
      opened: (protocol) =>
        queueMicrotask(() => {
          if (this.readyState !== ReadyState.CONNECTING) return
          this.readyState = ReadyState.OPEN
          this.protocol = protocol
          this.onopen?.({})
        }),
      message: (data) =>
        queueMicrotask(() => {
          if (this.readyState === ReadyState.OPEN) this.onmessage?.({ data })
        }),
      closed: (code, reason) => queueMicrotask(() => this.#closed(code, reason, false)),
    })
  }

  /** Sends one frame's JSON text (a shared connection carries text only). */
  send(data: string | ArrayBufferLike | ArrayBufferView | Blob): void {
    if (typeof data !== 'string') throw new TypeError('a shared connection carries text frames only')
    if (this.readyState === ReadyState.OPEN) this.#end.send(data)
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState === ReadyState.CLOSING || this.readyState === ReadyState.CLOSED) return
    this.readyState = ReadyState.CLOSING
    this.#end.close(code, reason)
    queueMicrotask(() => this.#closed(code, reason, true))
  }

  #closed(code: number, reason: string, wasClean: boolean): void {
    if (this.readyState === ReadyState.CLOSED) return
    this.readyState = ReadyState.CLOSED
    this.onclose?.({ code, reason, wasClean })
  }
}

/** The WebSocket constructor whose sockets are links opened by `opener`. */
export function virtualSocketClass(opener: LinkOpener): WebSocketConstructor {
  return class extends VirtualSocket {
    constructor(url: string) {
      super(url, opener)
    }
  }
}
