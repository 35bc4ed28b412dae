/**
 * The WebSocket transport, on `ws`. Incoming frames go through ws's parser (RFC 6455 checks,
 * UTF-8 validation, maxPayload). Outgoing frames take a faster path: each OutgoingFrame is framed
 * once with `Sender.frame` into one buffer, and that buffer is written to every subscriber's
 * socket; the frames a connection gets within one event-loop turn leave in one write, and under
 * load a busy connection's frames over several turns (see COALESCE_MIN_MS).
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

/**
 * Group writes under load. A flush writes every connection with frames waiting; when one took
 * `cost` ≥ 1 ms, a connection it wrote that gets frames again within `cost` of its end waits, by a
 * timer, until that much time has passed: the frames of a busy stream then share a write, so the
 * server spends at most about half its time writing, instead of one write per message. A quiet
 * connection, or any connection while flushes are cheap, is written at the end of the turn.
 */
const COALESCE_MIN_MS = 1
const COALESCE_MAX_MS = 20

/** Transports with frames waiting, flushed together at the end of the event-loop turn. */
let dirty: WsTransport[] = []
/** Busy transports with frames waiting, flushed together by a timer. */
let delayed: WsTransport[] = []
/** Counts flushes of either list; a transport remembers the one that last wrote it. */
let cycle = 0
/** When the latest flush ended, and how long the next busy connections wait after it (0: none). */
let cycleEnd = 0
let cycleWait = 0
/** Whether now is within cycleWait of cycleEnd, read once for the first frame queued after a flush. */
let recent: boolean | undefined

function flushList(list: WsTransport[]): void {
  cycle++
  const start = performance.now()
  for (const t of list) t.flushScheduled()
  cycleEnd = performance.now()
  const cost = cycleEnd - start
  cycleWait = cost < COALESCE_MIN_MS ? 0 : Math.min(cost, COALESCE_MAX_MS)
  recent = undefined
}

function flushDirty(): void {
  const list = dirty
  dirty = []
  flushList(list)
}

function flushDelayed(): void {
  const list = delayed
  delayed = []
  flushList(list)
}

/** Schedules a transport's flush: by the timer if the latest flush wrote it and was costly, else end of turn. */
function schedule(t: WsTransport, lastCycle: number): void {
  if (lastCycle === cycle && cycleWait > 0) {
    if (recent === undefined) {
      const left = cycleEnd + cycleWait - performance.now()
      recent = left > 0
      if (recent && delayed.length === 0) setTimeout(flushDelayed, Math.max(1, Math.round(left)))
    }
    if (recent) {
      delayed.push(t)
      return
    }
  }
  if (dirty.push(t) === 1) setImmediate(flushDirty)
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
  /** Whether this transport is in a flush list. */
  private scheduled = false
  /** The flush cycle that last wrote this transport. */
  private lastCycle = -1
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
      schedule(this, this.lastCycle)
    }
    return true
  }

  /** @internal The scheduled flush. */
  flushScheduled(): void {
    this.scheduled = false
    this.lastCycle = cycle
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
