/**
 * useOutbox: what the client's outbox (its `outbox` option, e.g. `indexedDbOutbox()`) still has
 * to send, as React state, for "sending…" marks — also right after a reload, when the entries
 * were made by the page before. One store per outbox (in a WeakMap) keeps the latest list from
 * the outbox's `change` event, so the snapshot changes identity only when the entries do.
 */
import type { ClientOutbox, OutboxEntry } from '@switchboard/client'
import { useSyncExternalStore } from 'react'
import { useSwitchboard } from './provider.js'

const NONE: readonly OutboxEntry[] = []

class OutboxStore {
  #entries: readonly OutboxEntry[]
  readonly #listeners = new Set<() => void>()

  constructor(outbox: ClientOutbox) {
    this.#entries = outbox.entries()
    outbox.on('change', (entries) => {
      this.#entries = entries
      for (const listener of [...this.#listeners]) listener()
    })
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener)
    return () => void this.#listeners.delete(listener)
  }

  snapshot = (): readonly OutboxEntry[] => this.#entries
}

const stores = new WeakMap<ClientOutbox, OutboxStore>()
const nothing = () => () => {}
const none = () => NONE

/**
 * The entries of the provider's client's outbox, oldest first: publishes and idempotent requests
 * made while offline and not yet answered (this tab's and other tabs'). Empty without an outbox.
 */
export function useOutbox(): readonly OutboxEntry[] {
  const outbox = useSwitchboard().outbox
  let store = outbox ? stores.get(outbox) : undefined
  if (outbox && !store) {
    store = new OutboxStore(outbox)
    stores.set(outbox, store)
  }
  return useSyncExternalStore(store?.subscribe ?? nothing, store?.snapshot ?? none, store?.snapshot ?? none)
}
