/**
 * The durable outbox: every publish and idempotent request of its client is kept in IndexedDB,
 * with its idempotency key, until the server has answered it — made offline, or made on a
 * connection that turns out to be dead — so it goes out when the connection is back, also from a
 * new page after a reload or a browser restart. Each entry belongs to the page that made it (its
 * owner); a page sends its own entries, and, under a Web Lock of the outbox, claims the entries
 * of pages that are gone (their liveness lock is free) and sends those too: two tabs never both
 * send one entry. A publish resent after a crash keeps its key, so the server lands it once.
 *
 * Bounded by count and bytes (over either, the new entry is refused and `dropped` says why);
 * entries older than `maxAge` are dropped too. `entries()` and the `change` event show what
 * waits, for "sending…" marks.
 */
import { ErrorCode } from '@switchboard/protocol'
import type {
  ClientOutbox,
  OutboxDropReason,
  OutboxEntry,
  OutboxEvents,
  OutboxFrame,
  OutboxSender,
} from '../client/client-types.js'
import { Emitter } from '../util/emitter.js'
import { SwitchboardError } from '../util/errors.js'
import { randomId, tabGone, thisTab, webLocks } from '../util/tab-lock.js'
import { IdbStore, type StoredRecord } from './idb-store.js'

export interface IndexedDbOutboxOptions {
  /** Entries kept at most, across the tabs that share the outbox. Default 1 000. */
  maxEntries?: number
  /** Bytes (the frames' JSON) kept at most. Default 1 MiB. */
  maxBytes?: number
  /** An entry not sent after this many ms is dropped (`expired`). Default 24 h. */
  maxAge?: number
  /** Which outbox: pages of one origin with the same scope share it. Default: the client's server URLs. */
  scope?: string
}

interface Record_ extends StoredRecord {
  frame: OutboxFrame
  bytes: number
  createdAt: number
  /** Orders the entries its page made within one millisecond (ids are random). */
  seq: number
  owner: string
}

/** Oldest first: by time, then by the order their page made them. */
const oldestFirst = (a: Record_, b: Record_) => a.createdAt - b.createdAt || (a.seq ?? 0) - (b.seq ?? 0)

interface Waiter {
  resolve(value: unknown): void
  reject(error: SwitchboardError): void
  timeout: number | undefined
}

const DAY = 24 * 60 * 60 * 1000

export class IndexedDbOutbox extends Emitter<OutboxEvents> implements ClientOutbox {
  readonly #tab = thisTab()
  readonly #store = new IdbStore()
  readonly #maxEntries: number
  readonly #maxBytes: number
  readonly #maxAge: number
  #scope: string | undefined
  #sender: OutboxSender | undefined
  #bus: BroadcastChannel | undefined
  /** Every entry of the scope, as last read or changed here, by id. */
  #records = new Map<string, Record_>()
  /** This page's callers, by entry id (entries made here and not yet settled). */
  readonly #waiters = new Map<string, Waiter>()
  readonly #inFlight = new Set<string>()
  /** Entries removed here whose stored copy may not be deleted yet: a reload must not bring them back. */
  readonly #removed = new Set<string>()
  /** The writes of entries made here, until they are removed: a delete waits for its entry's put. */
  readonly #writes = new Map<string, Promise<unknown>>()
  #connected = false
  #seq = 0
  /** Resolves once the stored entries have been read. */
  ready: Promise<void> = Promise.resolve()

  constructor(options: IndexedDbOutboxOptions = {}) {
    super()
    this.#maxEntries = options.maxEntries ?? 1000
    this.#maxBytes = options.maxBytes ?? 1024 * 1024
    this.#maxAge = options.maxAge ?? DAY
    this.#scope = options.scope
  }

  /** What waits to be sent, oldest first: this page's entries and other tabs'. */
  entries(): OutboxEntry[] {
    return [...this.#records.values()].sort(oldestFirst).map((r) => this.#entry(r))
  }

  attach(sender: OutboxSender): void {
    if (this.#sender) throw new Error('this outbox belongs to another client already')
    this.#sender = sender
    const scope = this.#scope ?? sender.urls.join(' ')
    this.#scope = scope
    if (typeof BroadcastChannel === 'function') {
      this.#bus = new BroadcastChannel(`switchboard:outbox:${scope}`)
      this.#bus.onmessage = () => void this.#reload()
    }
    this.ready = this.#reload()
  }

  enqueue(
    frame: OutboxFrame,
    bytes: number,
    options: { timeout?: number; signal?: AbortSignal },
  ): Promise<unknown> {
    const { signal } = options
    if (signal?.aborted) return Promise.reject(cancelled())
    const record: Record_ = {
      id: randomId(),
      scope: this.#scope!,
      frame,
      bytes,
      createdAt: Date.now(),
      seq: ++this.#seq,
      owner: this.#tab.id,
    }
    const reason =
      this.#records.size >= this.#maxEntries
        ? 'count'
        : this.#bytes() + bytes > this.#maxBytes
          ? 'bytes'
          : undefined
    if (reason) {
      this.emit('dropped', { entry: this.#entry(record), reason })
      const limit = reason === 'count' ? `${this.#maxEntries} entries` : `${this.#maxBytes} bytes`
      return Promise.reject(new SwitchboardError(ErrorCode.LIMIT_EXCEEDED, `the outbox is full (${limit})`))
    }
    const promise = new Promise<unknown>((resolve, reject) => {
      this.#waiters.set(record.id, { resolve, reject, timeout: options.timeout })
    })
    signal?.addEventListener('abort', () => {
      if (this.#inFlight.has(record.id) || !this.#records.has(record.id)) return
      this.#remove(record)
      this.#waiters.get(record.id)?.reject(cancelled())
      this.#waiters.delete(record.id)
    })
    this.#records.set(record.id, record)
    // The put waits for this page's liveness lock (its owner id must mean a live page first); a
    // reply can come sooner, so the entry's delete is chained after the put (see #remove).
    const written = this.#tab.held.then(() => this.#store.put(record))
    this.#writes.set(record.id, written)
    void written.then(() => this.#changed())
    this.emit('change', this.entries())
    if (this.#connected) this.#send(record)
    return promise
  }

  connected(): void {
    this.#connected = true
    for (const record of this.#mine()) this.#send(record)
    void this.#claim()
  }

  closed(): void {
    this.#connected = false
    const error = new SwitchboardError(
      ErrorCode.DISCONNECTED,
      'the client is closed; the entry stays in the outbox and goes out with the next connection',
    )
    for (const waiter of this.#waiters.values()) waiter.reject(error)
    this.#waiters.clear()
  }

  #mine(): Record_[] {
    return [...this.#records.values()].filter((r) => r.owner === this.#tab.id).sort(oldestFirst)
  }

  #send(record: Record_): void {
    if (this.#inFlight.has(record.id)) return
    if (Date.now() - record.createdAt > this.#maxAge) {
      this.#drop(record, 'expired')
      return
    }
    this.#inFlight.add(record.id)
    const waiter = this.#waiters.get(record.id)
    this.#sender!.send(record.frame, waiter?.timeout).then(
      (result) => {
        this.#inFlight.delete(record.id)
        this.#remove(record)
        this.emit('sent', { entry: this.#entry(record), result })
        this.#settle(record.id)?.resolve(result)
      },
      (error: SwitchboardError) => {
        this.#inFlight.delete(record.id)
        // No answer (the connection closed, the attempt timed out): it goes with the next connection.
        if (error.code === ErrorCode.DISCONNECTED || error.code === ErrorCode.TIMEOUT) return
        this.#drop(record, 'refused', error)
      },
    )
  }

  #drop(record: Record_, reason: OutboxDropReason, error?: SwitchboardError): void {
    this.#remove(record)
    this.emit(
      'dropped',
      error ? { entry: this.#entry(record), reason, error } : { entry: this.#entry(record), reason },
    )
    this.#settle(record.id)?.reject(
      error ?? new SwitchboardError(ErrorCode.TIMEOUT, 'the outbox entry expired before it could be sent'),
    )
  }

  #settle(id: string): Waiter | undefined {
    const waiter = this.#waiters.get(id)
    this.#waiters.delete(id)
    return waiter
  }

  #remove(record: Record_): void {
    this.#records.delete(record.id)
    this.#removed.add(record.id)
    const written = this.#writes.get(record.id) ?? Promise.resolve()
    this.#writes.delete(record.id)
    const remove = () => this.#store.delete(record.id)
    void written.then(remove, remove).then(() => this.#changed())
    this.emit('change', this.entries())
  }

  /**
   * Takes over the entries of pages that are gone, under the outbox's lock (so two pages never
   * both take one), and sends them.
   */
  async #claim(): Promise<void> {
    const locks = webLocks()
    if (!locks) return
    await this.ready
    await this.#tab.held
    await locks.request(`switchboard:outbox:${this.#scope}`, async () => {
      for (const record of (await this.#store.all(this.#scope!)) as Record_[]) {
        if (record.owner === this.#tab.id || !(await tabGone(record.owner))) continue
        record.owner = this.#tab.id
        this.#records.set(record.id, record)
        await this.#store.put(record)
      }
    })
    this.#changed()
    this.emit('change', this.entries())
    if (this.#connected) for (const record of this.#mine()) this.#send(record)
  }

  /** Reads the stored entries again (at start, and when another tab changed them). */
  async #reload(): Promise<void> {
    const stored = (await this.#store.all(this.#scope!)) as Record_[]
    const records = new Map(stored.filter((r) => !this.#removed.has(r.id)).map((r) => [r.id, r]))
    // This page's entries not written yet stay.
    for (const [id, record] of this.#records) {
      if (record.owner === this.#tab.id && this.#waiters.has(id)) records.set(id, record)
    }
    this.#records = records
    this.emit('change', this.entries())
  }

  /** Tells the other tabs of the scope that the stored entries changed. */
  #changed(): void {
    this.#bus?.postMessage('change')
  }

  #bytes(): number {
    let total = 0
    for (const record of this.#records.values()) total += record.bytes
    return total
  }

  #entry(record: Record_): OutboxEntry {
    const { id, frame, bytes, createdAt, owner } = record
    return { id, frame, bytes, createdAt, mine: owner === this.#tab.id }
  }
}

function cancelled(): SwitchboardError {
  return new SwitchboardError(ErrorCode.CANCELLED, 'the request was cancelled')
}
