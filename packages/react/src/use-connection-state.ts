/**
 * useConnectionState: the client's connection state as React state, through
 * useSyncExternalStore. One store per client (kept in a WeakMap, so it lives and dies with the
 * client) listens to the client's `state` event and keeps an immutable snapshot that changes
 * identity only when the state does.
 */
import type { ConnectionState, ConnectionStateReason, SwitchboardClient } from '@switchboard/client'
import { useSyncExternalStore } from 'react'
import { useSwitchboard } from './provider.js'

export interface ConnectionStatus {
  /** 'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'closed'. */
  status: ConnectionState
  /** Why it last changed; undefined until the first change seen. */
  reason: ConnectionStateReason | undefined
  /** The WebSocket close code, when a close caused the last change. */
  closeCode: number | undefined
}

class ConnectionStore {
  #snapshot: ConnectionStatus
  readonly #listeners = new Set<() => void>()

  constructor(client: SwitchboardClient) {
    this.#snapshot = { status: client.state, reason: undefined, closeCode: undefined }
    client.on('state', (change) => {
      this.#snapshot = { status: change.newState, reason: change.reason, closeCode: change.closeCode }
      for (const listener of [...this.#listeners]) listener()
    })
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  readonly getSnapshot = (): ConnectionStatus => this.#snapshot
}

const stores = new WeakMap<object, ConnectionStore>()

function storeOf(client: SwitchboardClient): ConnectionStore {
  let store = stores.get(client)
  if (!store) {
    store = new ConnectionStore(client)
    stores.set(client, store)
  }
  return store
}

/** `{ status, reason, closeCode }` of the provider's client; re-renders on every state change. */
export function useConnectionState(): ConnectionStatus {
  const store = storeOf(useSwitchboard())
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot)
}
