/**
 * useWebSocket: the classic tutorial hook's shape — `{ status, lastMessage, send }` and the
 * options `onMessage`, `onOpen`, `onClose`, `onError`, `reconnect`, `reconnectInterval`,
 * `maxRetries` — for any WebSocket server, built on ReconnectingWebSocket. What it does better:
 * backoff with jitter instead of a fixed interval, a bounded queue instead of dropping sends made
 * while offline, status through useSyncExternalStore, callbacks kept in a ref (a new `onMessage`
 * each render does not reconnect), and one socket under StrictMode (the socket is created in an
 * effect, under a Lease, and closed one task after the real unmount).
 */
import {
  type CloseInfo,
  createBackoff,
  ReconnectingWebSocket,
  type ReconnectingWebSocketOptions,
  type SendData,
  type WebSocketConstructor,
} from '@switchboard/client'
import { useCallback, useEffect, useMemo, useSyncExternalStore } from 'react'
import { useLatest } from './latest.js'
import { Lease } from './lease.js'

/** 'connecting' (first attempt), 'connected', 'reconnecting' (waiting or retrying), 'disconnected' (closed, gave up, or not started). */
export type WebSocketStatus = 'connecting' | 'connected' | 'reconnecting' | 'disconnected'

export interface UseWebSocketOptions<T = unknown> {
  /** Each message: parsed JSON when the text is JSON, else the raw data. */
  onMessage?: (data: T) => void
  onOpen?: () => void
  onClose?: (info: CloseInfo) => void
  /** A socket error; a close (and, unless terminal, a reconnect) follows. */
  onError?: () => void
  /** Reconnect after an abnormal close. Default true. */
  reconnect?: boolean
  /** Cap of the first retry's delay in ms (full jitter), doubling per attempt up to 30 s. Default 500. */
  reconnectInterval?: number
  /** Reconnect attempts in a row before giving up (status 'disconnected'). Default 10. */
  maxRetries?: number
  protocols?: string | string[]
  /** WebSocket constructor; default the global one (or `ws` in Node). */
  WebSocket?: WebSocketConstructor
}

export interface UseWebSocketResult<T = unknown> {
  status: WebSocketStatus
  /** The last message (parsed like `onMessage`'s argument), null before the first. */
  lastMessage: T | null
  /**
   * Strings and binary data go as they are, anything else as JSON. Sent now when connected,
   * queued (up to 100) while reconnecting; false when refused (closed, or queue full).
   */
  send: (data: unknown) => boolean
}

interface Snapshot {
  status: WebSocketStatus
  lastMessage: unknown
}

const STATUS: Record<ReconnectingWebSocket['state'], WebSocketStatus> = {
  connecting: 'connecting',
  open: 'connected',
  reconnecting: 'reconnecting',
  closed: 'disconnected',
}

/** One hook instance's socket for one (url, settings) pair. Created without side effects. */
class SocketStore {
  #snapshot: Snapshot = { status: 'connecting', lastMessage: null }
  readonly #listeners = new Set<() => void>()
  readonly #lease: Lease
  #socket: ReconnectingWebSocket | undefined

  constructor(
    url: string,
    options: ReconnectingWebSocketOptions,
    callbacks: { readonly current: UseWebSocketOptions<unknown> },
  ) {
    this.#lease = new Lease(
      () => {
        const socket = new ReconnectingWebSocket(url, options)
        this.#socket = socket
        socket.on('state', ({ newState }) => this.#set({ ...this.#snapshot, status: STATUS[newState] }))
        socket.on('open', () => callbacks.current.onOpen?.())
        socket.on('close', (info) => callbacks.current.onClose?.(info))
        socket.on('error', () => callbacks.current.onError?.())
        socket.on('message', ({ data }) => {
          const parsed = parse(data)
          this.#set({ ...this.#snapshot, lastMessage: parsed })
          callbacks.current.onMessage?.(parsed)
        })
        socket.connect()
      },
      () => {
        this.#socket?.close()
        this.#socket = undefined
      },
    )
  }

  readonly start = (): (() => void) => this.#lease.acquire()

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  readonly getSnapshot = (): Snapshot => this.#snapshot

  send(data: unknown): boolean {
    if (!this.#socket) return false
    return this.#socket.send(isSendable(data) ? data : JSON.stringify(data))
  }

  #set(snapshot: Snapshot): void {
    this.#snapshot = snapshot
    for (const listener of [...this.#listeners]) listener()
  }
}

export function useWebSocket<T = unknown>(
  url: string,
  options: UseWebSocketOptions<T> = {},
): UseWebSocketResult<T> {
  const { reconnect = true, reconnectInterval = 500, maxRetries = 10, protocols, WebSocket } = options
  const callbacks = useLatest(options as UseWebSocketOptions<unknown>)
  const protocolKey = Array.isArray(protocols) ? protocols.join(',') : protocols
  // biome-ignore lint/correctness/useExhaustiveDependencies: protocolKey stands for protocols (a new array each render).
  const store = useMemo(() => {
    const rwsOptions: ReconnectingWebSocketOptions = {
      startClosed: true,
      backoff: createBackoff({ base: reconnectInterval }),
      maxAttempts: reconnect ? maxRetries : 0,
    }
    if (protocols !== undefined) rwsOptions.protocols = protocols
    if (WebSocket) rwsOptions.WebSocket = WebSocket
    return new SocketStore(url, rwsOptions, callbacks)
  }, [url, reconnect, reconnectInterval, maxRetries, protocolKey, WebSocket, callbacks])

  useEffect(() => store.start(), [store])
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot)
  const send = useCallback((data: unknown) => store.send(data), [store])
  return { status: snapshot.status, lastMessage: snapshot.lastMessage as T | null, send }
}

function parse(data: unknown): unknown {
  if (typeof data !== 'string') return data
  try {
    return JSON.parse(data)
  } catch {
    return data
  }
}

function isSendable(data: unknown): data is SendData {
  return typeof data === 'string' || data instanceof ArrayBuffer || ArrayBuffer.isView(data)
}
