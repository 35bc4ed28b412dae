/**
 * The messages of every room this tab has opened, outside React (read with
 * useSyncExternalStore). One entry per message id, whichever way it came — the live stream,
 * a `$history` reply after a (re)subscribe, or this tab's own send — so a message replayed,
 * refetched or resent shows once. Own messages start `pending` and become `sent` when the
 * server acknowledges the publish or the message comes back on the channel. Also where each
 * room's history paging stands (the oldest offset loaded, whether older messages remain).
 */
import type { ChatMessage } from './chat-types.js'

export type Delivery = 'pending' | 'sent'

export interface ShownMessage extends ChatMessage {
  delivery: Delivery
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

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** The room's messages, oldest first; the same array until the room changes. */
  messages(room: string): readonly ShownMessage[] {
    return this.#sorted.get(room) ?? EMPTY
  }

  /** Messages that came from the server (live or history): confirmed. */
  received(room: string, messages: readonly ChatMessage[]): void {
    const map = this.#room(room)
    let changed = false
    for (const m of messages) {
      if (!isChatMessage(m)) continue
      const known = map.get(m.id)
      if (known?.delivery === 'sent') continue
      map.set(m.id, { ...m, delivery: 'sent' })
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

  /** The server acknowledged this tab's publish. */
  confirmed(room: string, id: string): void {
    const known = this.#rooms.get(room)?.get(id)
    if (!known || known.delivery === 'sent') return
    this.#room(room).set(id, { ...known, delivery: 'sent' })
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

  #changed(room: string): void {
    const list = [...this.#room(room).values()].sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1))
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
