/**
 * The lifecycle log: a durable, ordered queue of what happened to users, channels and
 * connections (`user.online`, `channel.vacated`, `connection.close`…), from which the server's
 * webhook deliverer sends each event to each receiver at least once, in order. The broker keeps
 * it so that an event survives the node that decided it: with Redis it is a stream, appended in
 * the same step that decides the event, and read by one deliverer at a time per receiver (a
 * lease), which resumes from the events the last holder took but did not finish.
 * `MemoryLifecycleLog` is the single-node one.
 */
import type { JsonValue } from '@switchboard/protocol'

/** What a lifecycle event is about. */
export type LifecycleEventType =
  | 'user.online'
  | 'user.offline'
  | 'channel.occupied'
  | 'channel.vacated'
  | 'connection.open'
  | 'connection.close'

export const LIFECYCLE_EVENT_TYPES: readonly LifecycleEventType[] = [
  'user.online',
  'user.offline',
  'channel.occupied',
  'channel.vacated',
  'connection.open',
  'connection.close',
]

/** An event as it is appended: what happened, to whom. */
export interface LifecycleEventInput {
  type: LifecycleEventType
  user?: string
  channel?: string
  connection?: string
  /** The node that decided it (the reaper's node for a dead node's events). */
  node?: string
  /** Anything else the type carries (a close code and reason for `connection.close`). */
  data?: JsonValue
}

/** An event as the log hands it back. */
export interface LifecycleEvent extends LifecycleEventInput {
  /** Unique in the log and increasing in append order (a Redis stream id: `ms-seq`). */
  id: string
  /** When it was appended, in ms since the epoch (Redis's clock with Redis). */
  at: number
}

export interface LifecycleLog {
  /** Appends an event; resolves once it is durable (in Redis, written). */
  append(event: LifecycleEventInput): Promise<void>
  /**
   * Makes `consumer` (one per webhook receiver) if it does not exist: it will read every event
   * appended from now on. An existing consumer keeps its place.
   */
  register(consumer: string): Promise<void>
  /**
   * Up to `count` events for `consumer`, oldest first: first those it was handed before and has
   * not acknowledged (after a crash, or another node's lease), then new ones. Resolves with none
   * when there is nothing. An unregistered consumer is registered first.
   */
  read(consumer: string, count: number): Promise<LifecycleEvent[]>
  /** Marks an event done for `consumer`: it is not handed out again. */
  ack(consumer: string, id: string): Promise<void>
  /**
   * Takes or renews the right to deliver `consumer`'s events for `ttlMs`: true if `holder` has it
   * (nobody had it, it expired, or `holder` already held it). One holder at a time per consumer
   * keeps the events of a receiver in order across the cluster.
   */
  lease(consumer: string, holder: string, ttlMs: number): Promise<boolean>
  /** Gives the lease up (a node that stops), so another node takes over at once. */
  release(consumer: string, holder: string): Promise<void>
}

/** How many events a log keeps at most; older ones are dropped (default of both logs). */
export const DEFAULT_LIFECYCLE_MAX_EVENTS = 100_000

interface Cursor {
  /** Index in `events` of the first event not yet handed out. */
  next: number
  /** Handed out, not acknowledged, in order. */
  pending: LifecycleEvent[]
}

/** The lifecycle log of one process (MemoryBroker's). */
export class MemoryLifecycleLog implements LifecycleLog {
  private events: LifecycleEvent[] = []
  /** How many events were dropped from the front (so cursors stay valid). */
  private dropped = 0
  private seq = 0
  private lastMs = 0
  private readonly cursors = new Map<string, Cursor>()
  private readonly leases = new Map<string, { holder: string; until: number }>()

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxEvents = DEFAULT_LIFECYCLE_MAX_EVENTS,
  ) {}

  async append(event: LifecycleEventInput): Promise<void> {
    const ms = Math.max(Math.floor(this.now()), this.lastMs)
    this.seq = ms === this.lastMs ? this.seq + 1 : 0
    this.lastMs = ms
    this.events.push({ ...event, id: `${ms}-${this.seq}`, at: ms })
    if (this.events.length > this.maxEvents) {
      const drop = this.events.length - this.maxEvents
      this.events = this.events.slice(drop)
      this.dropped += drop
    }
  }

  async register(consumer: string): Promise<void> {
    this.cursorOf(consumer)
  }

  private cursorOf(consumer: string): Cursor {
    let cursor = this.cursors.get(consumer)
    if (!cursor) {
      cursor = { next: this.dropped + this.events.length, pending: [] }
      this.cursors.set(consumer, cursor)
    }
    return cursor
  }

  async read(consumer: string, count: number): Promise<LifecycleEvent[]> {
    const cursor = this.cursorOf(consumer)
    if (cursor.pending.length > 0) return cursor.pending.slice(0, count)
    const from = Math.max(cursor.next, this.dropped) - this.dropped
    const taken = this.events.slice(from, from + Math.max(0, count))
    cursor.next = this.dropped + from + taken.length
    cursor.pending.push(...taken)
    return taken
  }

  async ack(consumer: string, id: string): Promise<void> {
    const cursor = this.cursors.get(consumer)
    if (cursor) cursor.pending = cursor.pending.filter((e) => e.id !== id)
  }

  async lease(consumer: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = this.now()
    const current = this.leases.get(consumer)
    if (current && current.holder !== holder && current.until > now) return false
    this.leases.set(consumer, { holder, until: now + ttlMs })
    return true
  }

  async release(consumer: string, holder: string): Promise<void> {
    if (this.leases.get(consumer)?.holder === holder) this.leases.delete(consumer)
  }
}
