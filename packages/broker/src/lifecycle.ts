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

/** What comes and goes with a grace window: a user (its connections) or a channel (its subscribers). */
export type LifecycleSubject = 'user' | 'channel'

/** The event each subject's arrival and departure append. */
export const ARRIVAL: Record<LifecycleSubject, LifecycleEventType> = {
  user: 'user.online',
  channel: 'channel.occupied',
}
export const DEPARTURE: Record<LifecycleSubject, LifecycleEventType> = {
  user: 'user.offline',
  channel: 'channel.vacated',
}

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
  /**
   * `name` (a user, or a channel) has a connection (a subscriber) again, from none: appends its
   * arrival (`user.online`, `channel.occupied`) unless it still counts as there — it never left,
   * or it left less than its grace window ago (that departure is then cancelled). Decided once
   * for the whole cluster. Resolves whether it appended.
   */
  arrive(subject: LifecycleSubject, name: string, node?: string): Promise<boolean>
  /**
   * `name` has no connection (subscriber) left anywhere: its departure is due `graceMs` from now,
   * and is appended by `settle` then unless it arrived again. A `name` that has one again by now
   * is left alone.
   */
  depart(subject: LifecycleSubject, name: string, graceMs: number): Promise<void>
  /**
   * Appends the departures (`user.offline`, `channel.vacated`) that are due, each once whichever
   * node calls it, and only for what is still gone. Resolves how many it appended.
   */
  settle(node?: string): Promise<number>
}

/** How many events a log keeps at most; older ones are dropped (default of both logs). */
export const DEFAULT_LIFECYCLE_MAX_EVENTS = 100_000

interface Cursor {
  /** Index in `events` of the first event not yet handed out. */
  next: number
  /** Handed out, not acknowledged, in order. */
  pending: LifecycleEvent[]
}

/** Whether a user has a connection, or a channel a subscriber, now (the broker's indexes say). */
export type PresentNow = (subject: LifecycleSubject, name: string) => boolean

/** The lifecycle log of one process (MemoryBroker's). */
export class MemoryLifecycleLog implements LifecycleLog {
  /** What counts as there (arrived and not departed), as `subject \n name`. */
  private readonly there = new Set<string>()
  /** Departures waiting for their grace window to end: due time by `subject \n name`. */
  private readonly due = new Map<string, number>()
  private events: LifecycleEvent[] = []
  /** How many events were dropped from the front (so cursors stay valid). */
  private dropped = 0
  private seq = 0
  private lastMs = 0
  private readonly cursors = new Map<string, Cursor>()
  private readonly leases = new Map<string, { holder: string; until: number }>()

  constructor(
    private readonly now: () => number = Date.now,
    private readonly present: PresentNow = () => false,
    private readonly maxEvents = DEFAULT_LIFECYCLE_MAX_EVENTS,
  ) {}

  async arrive(subject: LifecycleSubject, name: string, node?: string): Promise<boolean> {
    const key = `${subject}\n${name}`
    if (this.due.delete(key) || this.there.has(key)) return false
    this.there.add(key)
    await this.append(subjectEvent(ARRIVAL[subject], subject, name, node))
    return true
  }

  async depart(subject: LifecycleSubject, name: string, graceMs: number): Promise<void> {
    if (this.present(subject, name)) return
    this.due.set(`${subject}\n${name}`, this.now() + graceMs)
  }

  async settle(node?: string): Promise<number> {
    const now = this.now()
    let appended = 0
    for (const [key, at] of this.due) {
      if (at > now) continue
      this.due.delete(key)
      const cut = key.indexOf('\n')
      const subject = key.slice(0, cut) as LifecycleSubject
      const name = key.slice(cut + 1)
      if (this.present(subject, name) || !this.there.delete(key)) continue
      await this.append(subjectEvent(DEPARTURE[subject], subject, name, node))
      appended++
    }
    return appended
  }

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

/** The event of a user's or a channel's arrival or departure. */
export function subjectEvent(
  type: LifecycleEventType,
  subject: LifecycleSubject,
  name: string,
  node: string | undefined,
): LifecycleEventInput {
  const event: LifecycleEventInput = subject === 'user' ? { type, user: name } : { type, channel: name }
  if (node !== undefined) event.node = node
  return event
}
