/**
 * The messages of every room this tab has opened, outside React (read with
 * useSyncExternalStore). One entry per message id, whichever way it came — the live stream,
 * a `$history` reply after a (re)subscribe, or this tab's own send — so a message replayed,
 * refetched or resent shows once. Own messages start `pending` and become `sent` when the
 * server acknowledges the publish or the message comes back on the channel. Also where each
 * room's history paging stands (the oldest offset loaded, whether older messages remain).
 *
 * Messages are in the channel's order — by epoch (in the order the epochs were seen), then by
 * offset — not by their senders' clocks, which differ between machines and tie within a
 * millisecond. Messages without a position yet (this page's own, pending) come last, by their
 * time. A publication on the channel that is not a chat message (another app or a script
 * publishing to `chat:<room>`) is not shown.
 */
import type { ChatMessage } from './chat-types.js'

export type Delivery = 'pending' | 'sent'

/** Where a message is in its channel's stream. */
export interface StreamPosition {
  epoch: string
  offset: number
}

export interface ShownMessage extends ChatMessage {
  delivery: Delivery
  /** Its position in the channel, once the server gave one. */
  position?: StreamPosition
}

/** A message as the server gave it: live, or from history. */
export interface ReceivedMessage extends StreamPosition {
  data: ChatMessage
}

const EMPTY: readonly ShownMessage[] = Object.freeze([])

/** How far back a room's history has been read. */
export interface HistoryPaging {
  /** The epoch of the messages read from history, and the oldest offset read. */
  epoch?: string
  oldest?: number
  /** The server may retain messages older than `oldest`. */
  more: boolean
  /** A page is being read. */
  loading: boolean
}

const NO_PAGING: HistoryPaging = Object.freeze({ more: false, loading: false })

export class RoomStore {
  readonly #rooms = new Map<string, Map<string, ShownMessage>>()
  readonly #sorted = new Map<string, readonly ShownMessage[]>()
  readonly #listeners = new Set<() => void>()
  readonly #paging = new Map<string, HistoryPaging>()
  /** Each room's epochs, in the order they were first seen. */
  readonly #epochs = new Map<string, string[]>()

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** The room's messages, oldest first; the same array until the room changes. */
  messages(room: string): readonly ShownMessage[] {
    return this.#sorted.get(room) ?? EMPTY
  }

  /** Messages that came from the server (live or history): confirmed, at their positions. */
  received(room: string, messages: readonly ReceivedMessage[]): void {
    const map = this.#room(room)
    let changed = false
    for (const { data, epoch, offset } of messages) {
      if (!isChatMessage(data)) continue
      if (map.get(data.id)?.position) continue
      this.#epoch(room, epoch)
      map.set(data.id, { ...data, delivery: 'sent', position: { epoch, offset } })
      changed = true
    }
    if (changed) this.#changed(room)
  }

  /** This tab's message, before the server has it. */
  pending(room: string, message: ChatMessage): void {
    const map = this.#room(room)
    if (map.has(message.id)) return
    map.set(message.id, { ...message, delivery: 'pending' })
    this.#changed(room)
  }

  /** The server acknowledged this tab's publish, at `position`. */
  confirmed(room: string, id: string, position: StreamPosition): void {
    const known = this.#rooms.get(room)?.get(id)
    if (!known || known.position) return
    this.#epoch(room, position.epoch)
    this.#room(room).set(id, { ...known, delivery: 'sent', position: { ...position } })
    this.#changed(room)
  }

  paging(room: string): HistoryPaging {
    return this.#paging.get(room) ?? NO_PAGING
  }

  setPaging(room: string, paging: HistoryPaging): void {
    this.#paging.set(room, Object.freeze({ ...paging }))
    for (const listener of [...this.#listeners]) listener()
  }

  isConfirmed(room: string, id: string): boolean {
    return this.#rooms.get(room)?.get(id)?.delivery === 'sent'
  }

  #room(room: string): Map<string, ShownMessage> {
    let map = this.#rooms.get(room)
    if (!map) {
      map = new Map()
      this.#rooms.set(room, map)
    }
    return map
  }

  #epoch(room: string, epoch: string): void {
    const epochs = this.#epochs.get(room) ?? []
    if (!epochs.includes(epoch)) this.#epochs.set(room, [...epochs, epoch])
  }

  #changed(room: string): void {
    const epochs = this.#epochs.get(room) ?? []
    // Positioned messages by (epoch seen, offset); the rest after them, by time then id.
    const key = (m: ShownMessage): [number, number] =>
      m.position ? [epochs.indexOf(m.position.epoch), m.position.offset] : [epochs.length, m.ts]
    const list = [...this.#room(room).values()].sort((a, b) => {
      const [ea, oa] = key(a)
      const [eb, ob] = key(b)
      return ea - eb || oa - ob || (a.id < b.id ? -1 : 1)
    })
    this.#sorted.set(room, Object.freeze(list))
    for (const listener of [...this.#listeners]) listener()
  }
}

export function isChatMessage(value: unknown): value is ChatMessage {
  const m = value as Partial<ChatMessage> | null
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof m.id === 'string' &&
    typeof m.user === 'string' &&
    typeof m.text === 'string' &&
    typeof m.ts === 'number'
  )
}
