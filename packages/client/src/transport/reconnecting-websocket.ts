/**
 * ReconnectingWebSocket: a WebSocket that comes back. It keeps the shape of the classic tutorial
 * wrapper (`send`, `on`/`off`, `close`, `state`) and fixes what that wrapper gets wrong: delays
 * are capped exponential backoff with full jitter; the attempt count resets only after a
 * connection stayed up for `minUptime`, so a server that accepts and drops at once cannot cause a
 * tight loop; the offline send queue is bounded; a terminal close code (see `shouldReconnect` in
 * the protocol) or a normal close stops reconnecting. It speaks to any WebSocket server and knows
 * nothing of the Switchboard protocol.
 */
import { CloseCode, shouldReconnect } from '@switchboard/protocol'
import { type Backoff, createBackoff } from '../util/backoff.js'
import { Emitter } from '../util/emitter.js'
import { noop } from '../util/noop.js'
import { fallbackWebSocket, type TransportName } from './fallback.js'
import {
  closeQuietly,
  globalWebSocket,
  ReadyState,
  type WebSocketConstructor,
  type WebSocketLike,
} from './websocket-like.js'

export type ReconnectingState = 'connecting' | 'open' | 'reconnecting' | 'closed'

/** What `send` takes: text, or binary data as the WebSocket sends it (a Blob, an ArrayBuffer, a typed array). */
export type SendData = string | ArrayBufferLike | ArrayBufferView | Blob

export interface ReconnectingWebSocketOptions {
  protocols?: string | string[]
  /** WebSocket constructor. Default: the entry point's (global WebSocket, or `ws` in Node). */
  WebSocket?: WebSocketConstructor
  /**
   * Transports to try, in order, on each attempt, e.g. `['websocket', 'sse', 'long-polling']`:
   * when a WebSocket cannot open (blocked, or absent) the next is tried, and what worked is
   * used first on reconnects (WebSocket is tried again a minute later). `sse` and
   * `long-polling` are a Switchboard server's HTTP transports. Default `['websocket']`.
   */
  transports?: readonly TransportName[]
  /** `(attempt) => ms`. Default: full jitter, 500 ms doubling to 30 s. */
  backoff?: Backoff
  /** Reconnect attempts in a row before giving up with `maxRetriesReached`. Default 10. */
  maxAttempts?: number
  /** How long a connection must stay open before the attempt count resets, in ms. Default 5 000. */
  minUptime?: number
  /** An attempt that has not opened within this time is abandoned, in ms. Default 10 000. */
  connectTimeout?: number
  /** Sends kept while offline; further sends are refused (return false). Default 100. */
  maxQueue?: number
  /** Do not connect from the constructor; call `connect()`. Default false. */
  startClosed?: boolean
  /**
   * Called before each attempt: a query string (`name=value`, already encoded, or '') appended to
   * that attempt's URL. For state that changes between connections, such as resume positions.
   */
  query?: () => string
  /**
   * How binary messages are handed to `message` listeners, set on every socket: `'blob'` or
   * `'arraybuffer'`, as `WebSocket.binaryType`. Default: the socket's own (a browser's is
   * `'blob'`).
   */
  binaryType?: 'blob' | 'arraybuffer'
}

export interface CloseInfo {
  code: number
  reason: string
  wasClean: boolean
}

export interface ReconnectingWebSocketEvents {
  /** `elapsed`: milliseconds from creating the socket to its opening. */
  open: { url: string; elapsed: number }
  message: { data: unknown }
  close: CloseInfo
  /** A reconnect is scheduled: `attempt` counts from 1, `delay` is the wait in ms. */
  reconnecting: { attempt: number; delay: number; url: string }
  maxRetriesReached: { attempts: number }
  error: { url: string }
  state: { oldState: ReconnectingState; newState: ReconnectingState }
}

export class ReconnectingWebSocket extends Emitter<ReconnectingWebSocketEvents> {
  readonly #urls: readonly string[]
  readonly #protocols: string | string[] | undefined
  readonly #WebSocket: WebSocketConstructor
  readonly #backoff: Backoff
  readonly #maxAttempts: number
  readonly #minUptime: number
  readonly #connectTimeout: number
  readonly #query: (() => string) | undefined
  readonly #binaryType: 'blob' | 'arraybuffer' | undefined
  readonly #maxQueue: number
  #socket: WebSocketLike | undefined
  #state: ReconnectingState = 'closed'
  #attempts = 0
  #urlIndex = 0
  #openedAt: number | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  #queue: SendData[] = []

  constructor(url: string | readonly string[], options: ReconnectingWebSocketOptions = {}) {
    super()
    this.#urls = typeof url === 'string' ? [url] : [...url]
    if (this.#urls.length === 0) throw new TypeError('ReconnectingWebSocket needs at least one URL')
    this.#connectTimeout = options.connectTimeout ?? 10_000
    const ctor = options.WebSocket ?? globalWebSocket()
    const transports = options.transports ?? ['websocket']
    const only = transports.length === 1 && transports[0] === 'websocket'
    if (!ctor && only) throw new TypeError('no WebSocket implementation: pass options.WebSocket')
    this.#WebSocket = only
      ? ctor!
      : fallbackWebSocket(transports, ctor, { connectTimeout: this.#connectTimeout })
    this.#protocols = options.protocols
    this.#query = options.query
    this.#binaryType = options.binaryType
    this.#backoff = options.backoff ?? createBackoff()
    this.#maxAttempts = options.maxAttempts ?? 10
    this.#minUptime = options.minUptime ?? 5_000
    this.#maxQueue = options.maxQueue ?? 100
    if (!options.startClosed) this.connect()
  }

  get state(): ReconnectingState {
    return this.#state
  }

  /** The underlying socket's readyState (CLOSED when there is none), as WebSocket has it. */
  get readyState(): number {
    return this.#socket?.readyState ?? ReadyState.CLOSED
  }

  /** The URL of the current or next attempt. */
  get url(): string {
    return this.#urls[this.#urlIndex % this.#urls.length]!
  }

  /** The negotiated subprotocol of the open socket ('' otherwise). */
  get protocol(): string {
    return this.#state === 'open' ? (this.#socket?.protocol ?? '') : ''
  }

  /** Messages waiting for the connection. */
  get queued(): number {
    return this.#queue.length
  }

  /** Starts connecting after `close()`, a terminal close or `maxRetriesReached`. No-op otherwise. */
  connect(): void {
    if (this.#state !== 'closed') return
    this.#attempts = 0
    this.#setState('connecting')
    this.#openSocket()
  }

  /**
   * Sends now when open; otherwise queues (flushed in order on open) and returns true, or returns
   * false when the queue is full or the wrapper is closed.
   */
  send(data: SendData): boolean {
    if (this.#state === 'open' && this.#socket?.readyState === ReadyState.OPEN) {
      this.#socket.send(data)
      return true
    }
    if (this.#state === 'closed' || this.#queue.length >= this.#maxQueue) return false
    this.#queue.push(data)
    return true
  }

  /** Closes for good: no reconnect until `connect()`. Queued sends are dropped. */
  close(code: number = CloseCode.NORMAL, reason = ''): void {
    this.#clearTimer()
    this.#queue = []
    const socket = this.#socket
    if (this.#state === 'closed') return
    this.#setState('closed')
    if (!socket) return
    this.#detach(socket)
    closeQuietly(socket, code, reason)
    this.emit('close', { code, reason, wasClean: true })
  }

  /**
   * Drops the current connection and reconnects with backoff, as if it had closed with `code`.
   * For liveness checks: a dead TCP connection can take minutes to report its own close.
   */
  reconnect(code: number = CloseCode.GOING_AWAY, reason = ''): void {
    const socket = this.#socket
    if (this.#state === 'closed' || !socket) return
    this.#detach(socket)
    closeQuietly(socket, code, reason)
    this.#handleClose({ code, reason, wasClean: false })
  }

  /** While waiting to reconnect: tries now instead of waiting out the backoff (the network is back). */
  retryNow(): void {
    if (this.#state === 'reconnecting' && !this.#socket) this.#openSocket()
  }

  #openSocket(): void {
    this.#clearTimer()
    const extra = this.#query?.()
    const url = extra ? `${this.url}${this.url.includes('?') ? '&' : '?'}${extra}` : this.url
    let socket: WebSocketLike
    try {
      socket = new this.#WebSocket(url, this.#protocols)
    } catch {
      // An invalid URL or a refused constructor: try the next URL after a backoff.
      this.emit('error', { url })
      this.#handleClose({ code: CloseCode.ABNORMAL, reason: 'could not create socket', wasClean: false })
      return
    }
    if (this.#binaryType) socket.binaryType = this.#binaryType
    this.#socket = socket
    this.#openedAt = undefined
    const createdAt = Date.now()
    this.#timer = setTimeout(() => {
      this.reconnect(CloseCode.ABNORMAL, 'connect timeout')
    }, this.#connectTimeout)
    socket.onopen = () => {
      this.#clearTimer()
      this.#openedAt = Date.now()
      this.#setState('open')
      const queue = this.#queue
      this.#queue = []
      for (const data of queue) socket.send(data)
      this.emit('open', { url, elapsed: this.#openedAt - createdAt })
    }
    socket.onmessage = (event) => {
      if (this.#socket === socket) this.emit('message', { data: event.data })
    }
    socket.onerror = () => {
      if (this.#socket === socket) this.emit('error', { url })
    }
    socket.onclose = (event) => {
      if (this.#socket !== socket) return
      this.#detach(socket)
      this.#handleClose({ code: event.code, reason: event.reason, wasClean: event.wasClean ?? false })
    }
  }

  /** Decides what follows a close, sets the state, then tells listeners. */
  #handleClose(info: CloseInfo): void {
    this.#clearTimer()
    this.#socket = undefined
    if (this.#openedAt !== undefined && Date.now() - this.#openedAt >= this.#minUptime) this.#attempts = 0
    this.#openedAt = undefined
    const terminal = !shouldReconnect(info.code)
    const exhausted = !terminal && this.#attempts >= this.#maxAttempts
    if (terminal || exhausted) {
      this.#queue = []
      this.#setState('closed')
      this.emit('close', info)
      if (exhausted) this.emit('maxRetriesReached', { attempts: this.#attempts })
      return
    }
    const delay = this.#backoff(this.#attempts)
    this.#attempts++
    this.#urlIndex++
    this.#setState('reconnecting')
    this.emit('close', info)
    // A listener may have called close() or connect(): then this reconnect is no longer ours.
    if (this.#state !== 'reconnecting' || this.#socket) return
    this.emit('reconnecting', { attempt: this.#attempts, delay, url: this.url })
    if (this.#state !== 'reconnecting' || this.#socket) return
    this.#timer = setTimeout(() => this.#openSocket(), delay)
  }

  #detach(socket: WebSocketLike): void {
    if (this.#socket === socket) this.#socket = undefined
    socket.onopen = null
    socket.onmessage = null
    socket.onclose = null
    // Keep an error listener: `ws` throws on an 'error' event nobody listens to.
    socket.onerror = noop
  }

  #clearTimer(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #setState(newState: ReconnectingState): void {
    const oldState = this.#state
    if (oldState === newState) return
    this.#state = newState
    this.emit('state', { oldState, newState })
  }
}
