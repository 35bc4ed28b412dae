/**
 * The Server-Sent Events transport: server → client frames are events on one long `text/event-stream`
 * response (one `data:` line per frame — frames are single-line JSON), client → server frames
 * arrive as POSTs that the HTTP router hands to `receive`. Like the WebSocket transport, each
 * OutgoingFrame is encoded once (`data: …\n\n`, memoised on the frame) and shared by every
 * subscriber, and the frames of one event-loop turn leave in one write.
 *
 * The send buffer is bounded the same way: queued bytes plus what the response and its socket
 * still hold. Past the bound the client is a slow consumer — the queue is dropped, the stream ends
 * and the session closes with 4100. A close ends the stream with a final `close` event carrying the
 * code and reason, since an event stream has no close frame of its own.
 */
import type { ServerResponse } from 'node:http'
import { encodeCloseFrame, SseEvent } from '@switchboard/protocol'
import { HttpSession } from './http-session.js'
import type { OutgoingFrame } from './transport.js'

const SSE_FRAME = Symbol('sse-frame')
/** A comment line: ignored by every SSE parser, but it keeps proxies from timing the stream out. */
const HEARTBEAT = Buffer.from(':\n\n')

function buildEvent({ text }: OutgoingFrame): Buffer {
  return Buffer.from(`data: ${text}\n\n`, 'utf8')
}

export interface SseTransportOptions {
  /** Largest number of unsent bytes before the client is cut off as a slow consumer. */
  maxBufferedBytes: number
  /** How long the end of a closed stream may take before its socket is destroyed. */
  closeTimeoutMs: number
  /** Called once the transport is closed (the session registry forgets it). */
  onEnd: () => void
}

export class SseTransport extends HttpSession {
  readonly kind = 'sse' as const
  private killTimer: NodeJS.Timeout | undefined

  /** `res` has its event-stream head written already; this transport owns the rest of it. */
  constructor(
    private readonly res: ServerResponse,
    private readonly options: SseTransportOptions,
  ) {
    super(options.maxBufferedBytes, options.onEnd)
    // Ended by us (closeCode set) or by the peer going away (an abnormal close, as for a dropped socket).
    res.on('close', () => this.closed())
  }

  send(frame: OutgoingFrame, now = false): boolean {
    if (this._state !== 'open') return false
    return this.enqueue(frame.encoded(SSE_FRAME, buildEvent), now)
  }

  flush(): void {
    const queue = this.queue
    if (queue.length === 0) return
    const out = queue.length === 1 ? queue[0]! : Buffer.concat(queue, this.queuedBytes)
    queue.length = 0
    this.queuedBytes = 0
    if (!this.res.writableEnded && !this.res.destroyed) this.res.write(out)
  }

  close(code: number, reason: string): void {
    if (this._state !== 'open') return
    this.flush()
    this.end(code, reason, this.options.closeTimeoutMs)
  }

  protected unsent(): number {
    return this.res.writableLength
  }

  protected keepAlive(): void {
    this.enqueue(HEARTBEAT, false)
  }

  protected cut(): void {
    this.res.destroy()
  }

  private enqueue(bytes: Buffer, now: boolean): boolean {
    this.queue.push(bytes)
    return this.queued(bytes.length, now)
  }

  /** The peer is not reading, so it will not read the close event soon either: do not wait long. */
  protected closeSlow(code: number, reason: string): void {
    this.end(code, reason, Math.min(1000, this.options.closeTimeoutMs))
  }

  /** Ends the stream with the close event; the socket is destroyed if that does not finish in time. */
  private end(code: number, reason: string, timeoutMs: number): void {
    this.closing(code, reason)
    if (!this.res.writableEnded && !this.res.destroyed) {
      this.res.end(`event: ${SseEvent.CLOSE}\ndata: ${encodeCloseFrame(code, reason)}\n\n`)
    }
    this.killTimer = setTimeout(() => this.res.destroy(), timeoutMs)
    this.killTimer.unref()
  }

  protected release(): void {
    clearTimeout(this.killTimer)
  }
}
