/**
 * The WebSocket transport, on `ws`. Incoming frames go through ws's parser (RFC 6455 checks,
 * UTF-8 validation, maxPayload). Outgoing frames take a faster path: each OutgoingFrame is framed
 * once with `Sender.frame` into one buffer, and that buffer is written to every subscriber's
 * socket; the frames a connection gets within one event-loop turn leave in one write.
 *
 * The send buffer is bounded: queued bytes plus what the socket still holds. Past the bound the
 * client is a slow consumer — its queue is dropped and it is closed with 4100 — so one client that
 * stops reading can neither grow server memory nor hold up anyone else. A peer that floods pings
 * without reading the pongs hits the same bound.
 */
import type { Duplex } from 'node:stream'
import { CloseCode } from '@switchboard/protocol'
import WebSocket, * as wsModule from 'ws'
import type { OutgoingFrame, Transport, TransportHandlers } from './transport.js'

interface FrameOptions {
  fin: boolean
  opcode: number
  mask: boolean
  readOnly: boolean
  rsv1: boolean
}

interface SenderStatics {
  frame(data: Buffer, options: FrameOptions): Buffer[]
}

// `Sender` is a public export of ws (`import { Sender } from 'ws'`, `WebSocket.Sender` in CJS) that
// @types/ws does not declare; look in both places so the ESM and the CJS builds of ws work.
const wsExports = wsModule as unknown as { Sender?: SenderStatics; default?: { Sender?: SenderStatics } }
const Sender: SenderStatics = (() => {
  const found = wsExports.Sender ?? wsExports.default?.Sender
  if (!found) throw new Error('ws does not export Sender; ws 8 is required')
  return found
})()

const WS_FRAME = Symbol('ws-frame')
/**
 * Queued bytes at which a connection writes at once instead of at the end of the turn: small
 * frames still coalesce, while a burst of large ones goes to the kernel before it can look like
 * a slow consumer's backlog.
 */
const FLUSH_AT = 64 * 1024
const TEXT_FRAME: FrameOptions = { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false }

/** Header and payload in one buffer: one chunk per frame, so a flush of one frame is one write. */
function buildFrame(text: string): Buffer {
  const parts = Sender.frame(Buffer.from(text, 'utf8'), TEXT_FRAME)
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts)
}

// ws reports protocol violations as errors with stable codes; these are the close codes it used.
function closeCodeOf(err: Error & { code?: string }): number {
  switch (err.code) {
    case 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH':
      return CloseCode.MESSAGE_TOO_BIG
    case 'WS_ERR_INVALID_UTF8':
      return CloseCode.INVALID_PAYLOAD_DATA
    default:
      return CloseCode.PROTOCOL_ERROR
  }
}

/** Transports with frames waiting, flushed together once per event-loop turn. */
let dirty: WsTransport[] = []

function flushAll(): void {
  const list = dirty
  dirty = []
  for (const t of list) t.flushScheduled()
}

export interface WsTransportOptions {
  /** Largest number of unsent bytes before the client is cut off as a slow consumer. */
  maxBufferedBytes: number
  /** How long a close handshake may take before the socket is destroyed. */
  closeTimeoutMs: number
}

type State = 'open' | 'closing' | 'closed'

export class WsTransport implements Transport {
  readonly kind = 'websocket'
  private _state: State = 'open'
  private readonly queue: Buffer[] = []
  private queuedBytes = 0
  /** The socket's own unsent bytes as of the last write (see `send`). */
  private backlog = 0
  /** Whether this transport is in the end-of-turn flush list. */
  private scheduled = false
  /** FLUSH_AT, or less under a small send bound, so that bytes merely held never pass it. */
  private readonly flushAt: number
  private handlers: TransportHandlers | undefined
  private closeCode: number | undefined
  private closeReason = ''
  private killTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly ws: WebSocket,
    /** The upgraded socket from the HTTP 'upgrade' event; outgoing frames are written to it. */
    private readonly socket: Duplex,
    private readonly options: WsTransportOptions,
  ) {
    this.flushAt = Math.min(FLUSH_AT, options.maxBufferedBytes / 2)
    ws.on('message', (data, isBinary) => {
      this.handlers?.onActivity()
      if (isBinary) this.handlers?.onUnsupported()
      else this.handlers?.onMessage(String(data))
    })
    ws.on('pong', () => this.handlers?.onActivity())
    ws.on('ping', () => {
      this.handlers?.onActivity()
      // ws answered with a pong already; a peer that never reads them must not grow our memory.
      if (this.bufferedAmount > this.options.maxBufferedBytes) this.slowConsumer()
    })
    ws.on('error', (err: Error & { code?: string }) => {
      this.closeCode ??= closeCodeOf(err)
      this.closeReason ||= err.message
    })
    ws.on('close', (code, reason) => this.closed(code, reason.toString()))
  }

  get state(): State {
    return this._state
  }

  get bufferedAmount(): number {
    return this.queuedBytes + this.socket.writableLength
  }

  setHandlers(handlers: TransportHandlers): void {
    this.handlers = handlers
  }

  send(frame: OutgoingFrame): boolean {
    if (this._state !== 'open') return false
    const bytes = frame.encoded(WS_FRAME, buildFrame)
    this.queue.push(bytes)
    this.queuedBytes += bytes.length
    if (this.queuedBytes >= this.flushAt) this.flush()
    // `backlog` is the socket's buffer as of the last write; it only shrinks meanwhile, so when
    // the sum passes the bound it is read again before anyone is called slow.
    if (this.queuedBytes + this.backlog > this.options.maxBufferedBytes) {
      this.backlog = this.socket.writableLength
      if (this.queuedBytes + this.backlog > this.options.maxBufferedBytes) {
        this.slowConsumer()
        return false
      }
    }
    if (!this.scheduled && this.queue.length > 0) {
      this.scheduled = true
      if (dirty.push(this) === 1) setImmediate(flushAll)
    }
    return true
  }

  /** @internal The end-of-turn flush. */
  flushScheduled(): void {
    this.scheduled = false
    this.flush()
  }

  flush(): void {
    const queue = this.queue
    if (queue.length === 0) return
    const bytes = this.queuedBytes
    // One write either way: several small frames are cheaper copied into one buffer than handed
    // to the stream one by one. The queue array is reused: a fan-out flushes thousands per turn.
    const out = queue.length === 1 ? queue[0]! : Buffer.concat(queue, bytes)
    queue.length = 0
    this.queuedBytes = 0
    if (this.ws.readyState !== WebSocket.OPEN) return
    this.socket.write(out)
    this.backlog = this.socket.writableLength
  }

  close(code: number, reason: string): void {
    if (this._state !== 'open') return
    this.flush()
    this._state = 'closing'
    this.closeCode = code
    this.closeReason = reason
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason)
    this.killTimer = setTimeout(() => this.ws.terminate(), this.options.closeTimeoutMs)
    this.killTimer.unref()
  }

  terminate(code: number, reason: string): void {
    if (this._state === 'closed') return
    if (this._state === 'open') {
      this.closeCode = code
      this.closeReason = reason
    }
    this._state = 'closing'
    this.dropQueue()
    this.ws.terminate()
  }

  ping(): void {
    if (this._state === 'open' && this.ws.readyState === WebSocket.OPEN) this.ws.ping()
  }

  private slowConsumer(): void {
    this.dropQueue()
    this.close(CloseCode.SLOW_CONSUMER, 'slow consumer')
    // The peer is not reading, so it will not read our close frame soon either: do not wait long.
    clearTimeout(this.killTimer)
    this.killTimer = setTimeout(() => this.ws.terminate(), Math.min(1000, this.options.closeTimeoutMs))
    this.killTimer.unref()
  }

  private dropQueue(): void {
    this.queue.length = 0
    this.queuedBytes = 0
  }

  private closed(peerCode: number, peerReason: string): void {
    if (this._state === 'closed') return
    this._state = 'closed'
    clearTimeout(this.killTimer)
    this.dropQueue()
    this.handlers?.onClose(
      this.closeCode ?? peerCode,
      this.closeCode !== undefined ? this.closeReason : peerReason,
    )
  }
}
