/**
 * The Transport seam: what a connection needs from the wire, and nothing more. A connection
 * hands it encoded frames and close requests and hears back about messages, activity and the
 * end of the line; it never knows whether WebSocket, SSE or long-polling carries them.
 *
 * Frames travel as `OutgoingFrame`s: the frame, encoded once per codec in use (JSON text,
 * MessagePack), plus a per-transport memo so that a message fanned out to ten thousand
 * subscribers is framed once per transport kind and the same bytes are written to every socket.
 */

import {
  BINARY_KEY,
  type ClosingErrorCode,
  checkFrame,
  fromBase64,
  jsonText,
  type ServerFrame,
} from '@switchboard/protocol'
import { msgpackBytes } from '@switchboard/protocol/msgpack'

/** Reads the `$bin` form back into bytes (for a frame given only as JSON text). */
function jsonReviver(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value)
    const text = (value as Record<string, unknown>)[BINARY_KEY]
    if (keys.length === 1 && typeof text === 'string') return fromBase64(text)
  }
  return value
}

export class OutgoingFrame {
  // One transport kind is the common case: its encoding sits in two fields, not a Map, because
  // this lookup runs once per subscriber per message on the fan-out path.
  private firstKey: symbol | undefined
  private firstValue: unknown
  private others: Map<symbol, unknown> | undefined
  private bytes = -1
  private json: string | undefined
  private packed: Uint8Array | undefined
  private readonly frame: ServerFrame | undefined
  private readonly flags: number

  /**
   * A frame given as its JSON text, already encoded (bytes in the `$bin` form). The server's own
   * frames are made with `OutgoingFrame.of`, which encodes each codec only when a transport asks.
   */
  constructor(text: string)
  constructor(text: string | undefined, frame?: ServerFrame, flags?: number)
  constructor(text: string | undefined, frame?: ServerFrame, flags = 0) {
    this.json = text
    this.frame = frame
    this.flags = flags
  }

  /**
   * A frame to send: its data is checked now (a SwitchboardError `invalid_payload` for a value no
   * codec can carry), and it is encoded per codec on first use — JSON text for `text`,
   * MessagePack for `packedBytes` — so a publication is encoded once per codec in use.
   */
  static of(frame: ServerFrame): OutgoingFrame {
    return new OutgoingFrame(undefined, frame, checkFrame(frame))
  }

  /** The JSON text (encoded on first use). */
  get text(): string {
    if (this.json === undefined) this.json = jsonText(this.frame!, this.flags)
    return this.json
  }

  /** The MessagePack encoding (on first use): what a `switchboard.v1.msgpack` connection gets. */
  get packedBytes(): Uint8Array {
    this.packed ??= msgpackBytes(
      this.frame ?? (JSON.parse(this.text, jsonReviver) as ServerFrame),
      this.flags,
    )
    return this.packed
  }

  /** Bytes of the text in UTF-8, counted once (a batch's bound and its framing both need it). */
  get byteLength(): number {
    if (this.bytes < 0) this.bytes = Buffer.byteLength(this.text, 'utf8')
    return this.bytes
  }

  /** Bytes of the encoding `packed` names (MessagePack when true, JSON text otherwise). */
  sizeIn(packed: boolean): number {
    return packed ? this.packedBytes.byteLength : this.byteLength
  }

  /** The transport-specific encoding of this frame, built on first use and shared afterwards. */
  encoded<T>(key: symbol, build: (frame: OutgoingFrame) => T): T {
    if (this.firstKey === key) return this.firstValue as T
    if (this.firstKey === undefined) {
      this.firstKey = key
      this.firstValue = build(this)
      return this.firstValue as T
    }
    this.others ??= new Map()
    let value = this.others.get(key) as T | undefined
    if (value === undefined) {
      value = build(this)
      this.others.set(key, value)
    }
    return value
  }
}

/**
 * The messages of one channel published within one flush window, shared by every subscriber. The
 * hub makes a batch with a channel's first message and hands it to each subscriber once; later
 * messages are appended to it — no work per subscriber — while it is `open`. It closes when any
 * holder writes it or queues something after it, and when the channel's membership changes, so
 * each connection still gets its frames in the order they were queued, and only those after it
 * joined. A closed batch is encoded once per transport kind and the same bytes are written to all.
 */
export class OutgoingBatch {
  readonly frames: OutgoingFrame[]
  /**
   * Bytes of the frames so far, in the encoding most of its holders use (JSON text unless every
   * holder speaks MessagePack): the hub starts a new batch past a bound, and the transports count
   * it against their send bound.
   */
  byteLength: number
  open = true
  private readonly encodings = new Map<symbol, unknown>()

  /** `packed`: measure in MessagePack (every holder speaks it), so no JSON is encoded for size alone. */
  constructor(
    first: OutgoingFrame,
    private readonly packed = false,
  ) {
    this.frames = [first]
    this.byteLength = first.sizeIn(packed)
  }

  append(frame: OutgoingFrame): void {
    this.frames.push(frame)
    this.byteLength += frame.sizeIn(this.packed)
  }

  /** The frames encoded for one transport kind and joined; closes the batch. */
  encoded<T>(key: symbol, build: (frames: readonly OutgoingFrame[]) => T): T {
    this.open = false
    let value = this.encodings.get(key) as T | undefined
    if (value === undefined) {
      value = build(this.frames)
      this.encodings.set(key, value)
    }
    return value
  }
}

export interface TransportHandlers {
  /** One complete message from the client: text (JSON), or bytes on a MessagePack connection. */
  onMessage(data: string | Uint8Array): void
  /** A message the transport cannot carry as a frame (e.g. a binary WebSocket message). */
  onUnsupported(): void
  /** Any sign of life from the peer (a frame, a pong). */
  onActivity(): void
  /** The transport is gone. `code` is the close code this side sent, or the peer's, or 1006. */
  onClose(code: number, reason: string): void
  /**
   * The transport refused what the client sent (an HTTP body over maxPayload): the connection
   * sends the error and closes as the error table says for its code.
   */
  fail(code: ClosingErrorCode, message: string, reason?: string): void
}

export interface Transport {
  readonly kind: string
  /** The connection speaks MessagePack (binary messages, OutgoingFrame.packedBytes); JSON when absent. */
  readonly packed?: boolean
  /** `closing` once a close was started by either side or by the transport itself (slow consumer). */
  readonly state: 'open' | 'closing' | 'closed'
  /** Bytes accepted by `send` and not yet handed to the kernel. */
  readonly bufferedAmount: number
  /**
   * Queues a frame; false if it was dropped because the transport is closing or closed. With
   * `now`, what is queued is written at once rather than at the scheduled flush (a reply its
   * client is waiting on).
   */
  send(frame: OutgoingFrame, now?: boolean): boolean
  /**
   * Queues a channel's batch, including frames appended to it until it closes (see OutgoingBatch).
   * Optional: the hub sends each frame on its own to a transport without it.
   */
  sendBatch?(batch: OutgoingBatch): boolean
  /** Writes out what is queued now instead of at the end of the event-loop turn. */
  flush(): void
  /** Flushes, then closes with this code; the peer is cut off if it does not finish in time. */
  close(code: number, reason: string): void
  /** Drops the connection at once (the code is what the close handler reports). */
  terminate(code: number, reason: string): void
  /** A transport-level liveness probe (a WebSocket ping). */
  ping(): void
  setHandlers(handlers: TransportHandlers): void
}
