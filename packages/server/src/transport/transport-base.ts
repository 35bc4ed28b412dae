/**
 * What every transport keeps the same way: its state, the close code and reason it will report,
 * its handlers, and its send queue — bounded like a socket's send buffer, written at once past a
 * threshold, flushed at the end of the event-loop turn (see flush-schedule.ts), and dropped with a
 * slow-consumer close (4100) when queued plus unsent bytes pass `maxBufferedBytes`. A transport
 * says how bytes leave (`flush`), what its socket still holds (`unsent`), how a slow consumer is
 * closed, and how the line is cut.
 */
import { CloseCode } from '@switchboard/protocol'
import { type Flushable, flushCycle, flushThreshold, scheduleFlush } from './flush-schedule.js'
import type { OutgoingFrame, Transport, TransportHandlers } from './transport.js'

export type TransportState = 'open' | 'closing' | 'closed'

export abstract class TransportBase<Entry> implements Transport, Flushable {
  abstract readonly kind: string
  protected _state: TransportState = 'open'
  protected handlers: TransportHandlers | undefined
  /** Set when this side closes (the first close wins); reported instead of the peer's code. */
  protected closeCode: number | undefined
  protected closeReason = ''
  protected readonly queue: Entry[] = []
  /** Bytes in `queue` (as counted when queued). */
  protected queuedBytes = 0
  /** Queued bytes that are written at once (see flushThreshold). */
  private readonly flushAt: number
  /** Whether this transport is in a flush list. */
  private scheduled = false
  /** The flush cycle that last wrote this transport (only when grouped under load). */
  private lastCycle = -1

  /**
   * `grouped`: a busy connection's flushes are grouped under load (measured on WebSocket); the
   * others are flushed at the end of every turn.
   */
  constructor(
    protected readonly maxBufferedBytes: number,
    private readonly grouped: boolean,
  ) {
    this.flushAt = flushThreshold(maxBufferedBytes)
  }

  get state(): TransportState {
    return this._state
  }

  get bufferedAmount(): number {
    return this.queuedBytes + this.unsent()
  }

  setHandlers(handlers: TransportHandlers): void {
    this.handlers = handlers
  }

  /** Drops the connection at once, without a close handshake (a dead peer). */
  terminate(code: number, reason: string): void {
    if (this._state === 'closed') return
    this.closing(code, reason)
    this.dropQueue()
    this.cut()
  }

  /** @internal The scheduled flush. */
  flushScheduled(): void {
    this.scheduled = false
    if (this.grouped) this.lastCycle = flushCycle()
    this.flush()
  }

  /** Starts closing; the code and reason are kept only if this is the first close. */
  protected closing(code: number, reason: string): void {
    if (this._state === 'open') {
      this.closeCode = code
      this.closeReason = reason
    }
    this._state = 'closing'
  }

  /** After an entry of `bytes` was queued: writes at once (`now`, or past flushAt), cuts a slow consumer, or schedules the flush. */
  protected queued(bytes: number, now: boolean): boolean {
    this.queuedBytes += bytes
    if (now || this.queuedBytes >= this.flushAt) this.flush()
    if (this.overBound()) {
      this.slowConsumer()
      return false
    }
    if (!this.scheduled && this.wantsFlush()) {
      this.scheduled = true
      scheduleFlush(this, this.grouped ? this.lastCycle : -1)
    }
    return true
  }

  /** Whether queued plus unsent bytes passed the bound. */
  protected overBound(): boolean {
    return this.queuedBytes + this.unsent() > this.maxBufferedBytes
  }

  /** Whether a scheduled flush would write something. */
  protected wantsFlush(): boolean {
    return this.queue.length > 0
  }

  /** The client reads too slowly: its queue is dropped and it is closed with 4100. */
  protected slowConsumer(): void {
    this.dropQueue()
    this.closeSlow(CloseCode.SLOW_CONSUMER, 'slow consumer')
  }

  protected dropQueue(): void {
    this.queue.length = 0
    this.queuedBytes = 0
  }

  /** The line is gone: reported once, with this side's close code if it closed, else the peer's. */
  protected finish(peerCode: number = CloseCode.ABNORMAL, peerReason = ''): void {
    if (this._state === 'closed') return
    this._state = 'closed'
    this.dropQueue()
    this.release()
    this.handlers?.onClose(
      this.closeCode ?? peerCode,
      this.closeCode !== undefined ? this.closeReason : peerReason,
    )
  }

  abstract send(frame: OutgoingFrame, now?: boolean): boolean
  abstract flush(): void
  abstract close(code: number, reason: string): void
  abstract ping(): void
  /** Bytes handed to the socket (or response) and not yet sent. */
  protected abstract unsent(): number
  /** Closes a slow consumer (the queue is dropped already): without waiting long for a peer that does not read. */
  protected abstract closeSlow(code: number, reason: string): void
  /** Cuts the line at once; `finish` follows, now or when the socket reports it. */
  protected abstract cut(): void
  /** Frees what the transport holds (timers) as it closes. */
  protected abstract release(): void
}
