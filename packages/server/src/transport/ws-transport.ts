/**
 * The WebSocket transport, on `ws`. Incoming frames go through ws's parser (RFC 6455 checks,
 * UTF-8 validation, maxPayload). Outgoing frames take a faster path: each OutgoingFrame is framed
 * once into one buffer (and a channel's batch into one buffer for all its frames), and that buffer
 * is written to every subscriber's socket. The frames a connection gets within one event-loop turn
 * leave in one write, and under load a busy connection's frames over several turns (see
 * flush-schedule.ts).
 *
 * The send buffer is bounded: queued bytes plus what the socket still holds. Past the bound the
 * client is a slow consumer — its queue is dropped and it is closed with 4100 — so one client that
 * stops reading can neither grow server memory nor hold up anyone else. A peer that floods pings
 * without reading the pongs hits the same bound.
 */
import type { Duplex } from 'node:stream'
import { CloseCode, closeFor, ErrorCode } from '@switchboard/protocol'
import WebSocket from 'ws'
import type { OutgoingBatch, OutgoingFrame } from './transport.js'
import { TransportBase } from './transport-base.js'

// One memo key per codec: the JSON text frames and the MessagePack binary frames of one
// OutgoingFrame are built at most once each, whichever connections ask.
const WS_FRAME = Symbol('ws-frame')
const WS_BATCH = Symbol('ws-batch')
const WS_PACKED_FRAME = Symbol('ws-packed-frame')
const WS_PACKED_BATCH = Symbol('ws-packed-batch')

/** Bytes of the header of an unmasked frame carrying `length` bytes (RFC 6455 §5.2). */
function headerSize(length: number): number {
  return length < 126 ? 2 : length < 65536 ? 4 : 10
}

/** Writes the header of one final, unmasked frame (`first`: FIN and opcode) at `at`; returns the payload's start. */
function writeHeader(out: Buffer, at: number, first: number, length: number): number {
  out[at] = first
  if (length < 126) {
    out[at + 1] = length
    return at + 2
  }
  if (length < 65536) {
    out[at + 1] = 126
    out.writeUInt16BE(length, at + 2)
    return at + 4
  }
  out[at + 1] = 127
  out.writeUInt32BE(Math.floor(length / 2 ** 32), at + 2)
  out.writeUInt32BE(length >>> 0, at + 6)
  return at + 10
}

/** Writes one text frame of the frame's JSON at `at`; returns the end. */
function writeText(out: Buffer, at: number, frame: OutgoingFrame): number {
  const start = writeHeader(out, at, 0x81, frame.byteLength)
  return start + out.write(frame.text, start, 'utf8')
}

/** Writes one binary frame of the frame's MessagePack at `at`; returns the end. */
function writePacked(out: Buffer, at: number, frame: OutgoingFrame): number {
  const bytes = frame.packedBytes
  const start = writeHeader(out, at, 0x82, bytes.byteLength)
  out.set(bytes, start)
  return start + bytes.byteLength
}

/** One frame, header and payload in one buffer, so a flush of one frame is one write. */
function buildFrame(frame: OutgoingFrame): Buffer {
  const length = frame.byteLength
  const out = Buffer.allocUnsafe(headerSize(length) + length)
  writeText(out, 0, frame)
  return out
}

function buildPackedFrame(frame: OutgoingFrame): Buffer {
  const length = frame.packedBytes.byteLength
  const out = Buffer.allocUnsafe(headerSize(length) + length)
  writePacked(out, 0, frame)
  return out
}

/** A channel batch's frames, one after the other in one buffer, written straight from their encoding. */
function buildBatch(frames: readonly OutgoingFrame[]): Buffer {
  if (frames.length === 1) return frames[0]!.encoded(WS_FRAME, buildFrame)
  let total = 0
  for (const frame of frames) total += headerSize(frame.byteLength) + frame.byteLength
  const out = Buffer.allocUnsafe(total)
  let at = 0
  for (const frame of frames) at = writeText(out, at, frame)
  return out
}

function buildPackedBatch(frames: readonly OutgoingFrame[]): Buffer {
  if (frames.length === 1) return frames[0]!.encoded(WS_PACKED_FRAME, buildPackedFrame)
  let total = 0
  for (const frame of frames) {
    const length = frame.packedBytes.byteLength
    total += headerSize(length) + length
  }
  const out = Buffer.allocUnsafe(total)
  let at = 0
  for (const frame of frames) at = writePacked(out, at, frame)
  return out
}

/** A binary message as one Uint8Array (ws gives a Buffer, or fragments, or an ArrayBuffer). */
function toBytes(data: WebSocket.RawData): Uint8Array {
  if (Buffer.isBuffer(data)) return data
  if (Array.isArray(data)) return Buffer.concat(data)
  return new Uint8Array(data)
}

// ws reports protocol violations as errors with stable codes; these are the close codes it used.
function closeCodeOf(err: Error & { code?: string }): number {
  switch (err.code) {
    case 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH':
      return closeFor(ErrorCode.FRAME_TOO_LARGE)
    case 'WS_ERR_INVALID_UTF8':
      return CloseCode.INVALID_PAYLOAD_DATA
    default:
      return CloseCode.PROTOCOL_ERROR
  }
}

export interface WsTransportOptions {
  /** Largest number of unsent bytes before the client is cut off as a slow consumer. */
  maxBufferedBytes: number
  /** How long a close handshake may take before the socket is destroyed. */
  closeTimeoutMs: number
  /** The connection speaks `switchboard.v1.msgpack`: binary MessagePack messages both ways. */
  packed?: boolean
}

// The ws listeners are shared by every connection (`this` is the socket, which points to its
// transport) rather than closures made per connection: an idle connection is mostly its memory.
const OWNER = Symbol('transport')
type OwnedSocket = WebSocket & { [OWNER]: WsTransport }
const ownerOf = (ws: WebSocket): WsTransport => (ws as OwnedSocket)[OWNER]
function onMessage(this: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
  ownerOf(this).received(data, isBinary)
}
function onPong(this: WebSocket): void {
  ownerOf(this).pinged(false)
}
function onPing(this: WebSocket): void {
  ownerOf(this).pinged(true)
}
function onError(this: WebSocket, err: Error & { code?: string }): void {
  ownerOf(this).failed(err)
}
function onClose(this: WebSocket, code: number, reason: Buffer): void {
  ownerOf(this).closed(code, reason.toString())
}

export class WsTransport extends TransportBase<Buffer | OutgoingBatch> {
  readonly kind = 'websocket'
  readonly packed: boolean
  private readonly frameKey: symbol
  private readonly batchKey: symbol
  private readonly build: (frame: OutgoingFrame) => Buffer
  private readonly buildBatch: (frames: readonly OutgoingFrame[]) => Buffer
  /** The last queue entry when it is a batch, and the bytes it was counted with. */
  private lastBatch: OutgoingBatch | undefined
  private lastBatchCounted = 0
  /** The socket's own unsent bytes as of the last write (see `overBound`). */
  private backlog = 0
  private killTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly ws: WebSocket,
    /** The upgraded socket from the HTTP 'upgrade' event; outgoing frames are written to it. */
    private readonly socket: Duplex,
    private readonly options: WsTransportOptions,
  ) {
    super(options.maxBufferedBytes, true)
    this.packed = options.packed === true
    this.frameKey = this.packed ? WS_PACKED_FRAME : WS_FRAME
    this.batchKey = this.packed ? WS_PACKED_BATCH : WS_BATCH
    this.build = this.packed ? buildPackedFrame : buildFrame
    this.buildBatch = this.packed ? buildPackedBatch : buildBatch
    ;(ws as OwnedSocket)[OWNER] = this
    ws.on('message', onMessage)
    ws.on('pong', onPong)
    ws.on('ping', onPing)
    ws.on('error', onError)
    ws.on('close', onClose)
  }

  /** @internal A message from the peer. */
  received(data: WebSocket.RawData, isBinary: boolean): void {
    this.handlers?.onActivity()
    // A JSON connection sends text, a MessagePack one binary: the other kind is not part of it.
    if (isBinary !== this.packed) this.handlers?.onUnsupported()
    else if (isBinary) this.handlers?.onMessage(toBytes(data))
    else this.handlers?.onMessage(String(data))
  }

  /** @internal A pong, or a ping (`ping`) from the peer. */
  pinged(ping: boolean): void {
    this.handlers?.onActivity()
    // ws answered a ping with a pong already; a peer that never reads them must not grow our memory.
    if (ping && this.bufferedAmount > this.maxBufferedBytes) this.slowConsumer()
  }

  /** @internal ws saw the peer break the protocol; the close code it used is kept for onClose. */
  failed(err: Error & { code?: string }): void {
    this.closeCode ??= closeCodeOf(err)
    this.closeReason ||= err.message
  }

  /** @internal ws reports the socket closed. */
  closed(peerCode: number, peerReason: string): void {
    this.finish(peerCode, peerReason)
  }

  send(frame: OutgoingFrame, now = false): boolean {
    if (this._state !== 'open') return false
    if (this.lastBatch) this.closeLastBatch()
    const bytes = frame.encoded(this.frameKey, this.build)
    this.queue.push(bytes)
    return this.queued(bytes.length, now)
  }

  sendBatch(batch: OutgoingBatch): boolean {
    if (this._state !== 'open') return false
    if (this.lastBatch) this.closeLastBatch()
    this.queue.push(batch)
    this.lastBatch = batch
    this.lastBatchCounted = batch.byteLength
    return this.queued(batch.byteLength, false)
  }

  /** Something is queued after the last batch: it takes no more frames, and its growth is counted. */
  private closeLastBatch(): void {
    const batch = this.lastBatch!
    batch.open = false
    this.queuedBytes += batch.byteLength - this.lastBatchCounted
    this.lastBatch = undefined
  }

  /**
   * `backlog` is the socket's buffer as of the last write; it only shrinks meanwhile, so when the
   * sum passes the bound it is read again before anyone is called slow.
   */
  protected override overBound(): boolean {
    if (this.queuedBytes + this.backlog <= this.maxBufferedBytes) return false
    this.backlog = this.socket.writableLength
    return this.queuedBytes + this.backlog > this.maxBufferedBytes
  }

  protected unsent(): number {
    return this.socket.writableLength
  }

  flush(): void {
    const queue = this.queue
    if (queue.length === 0) return
    // One write either way: several small frames are cheaper copied into one buffer than handed
    // to the stream one by one. The queue array is reused: a fan-out flushes thousands per turn.
    // The common broadcast case — one batch — writes the batch's shared buffer, no copy.
    let out: Buffer
    if (queue.length === 1) {
      const only = queue[0]!
      out = Buffer.isBuffer(only) ? only : only.encoded(this.batchKey, this.buildBatch)
    } else {
      const parts = queue.map((entry) =>
        Buffer.isBuffer(entry) ? entry : entry.encoded(this.batchKey, this.buildBatch),
      )
      out = Buffer.concat(parts)
    }
    queue.length = 0
    this.queuedBytes = 0
    this.lastBatch = undefined
    if (this.ws.readyState !== WebSocket.OPEN) return
    this.socket.write(out)
    this.backlog = this.socket.writableLength
  }

  close(code: number, reason: string): void {
    this.closeWithin(code, reason, this.options.closeTimeoutMs)
  }

  ping(): void {
    if (this._state === 'open' && this.ws.readyState === WebSocket.OPEN) this.ws.ping()
  }

  /** The peer is not reading, so it will not read our close frame soon either: do not wait long. */
  protected closeSlow(code: number, reason: string): void {
    this.closeWithin(code, reason, Math.min(1000, this.options.closeTimeoutMs))
  }

  /** Flushes, sends the close frame, and destroys the socket if the close handshake takes over `ms`. */
  private closeWithin(code: number, reason: string, ms: number): void {
    if (this._state !== 'open') return
    this.flush()
    this.closing(code, reason)
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason)
    this.killTimer = setTimeout(() => this.ws.terminate(), ms)
    this.killTimer.unref()
  }

  protected cut(): void {
    this.ws.terminate()
  }

  protected override dropQueue(): void {
    super.dropQueue()
    this.lastBatch = undefined
  }

  protected release(): void {
    clearTimeout(this.killTimer)
  }
}
