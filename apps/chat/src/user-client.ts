/**
 * One SwitchboardClient per user for the page's life, made outside React's render. Its options
 * hold an IndexedDB outbox, which belongs to exactly one client; React may render a component
 * more than once before it commits (a concurrent render restarted, StrictMode), and each such
 * render would make a client of its own if the client were made in a `useState` initializer — the
 * second one then finds the outbox taken. So clients are kept here by user key, connected while a
 * component holds them (a Lease: StrictMode's unmount–mount keeps the one connection) and closed,
 * and forgotten, when the last one lets go.
 */
import { SwitchboardClient, type SwitchboardClientOptions } from '@switchboard/client'
import { Lease } from '@switchboard/react'
import type { ChatApp } from './chat-types.js'

interface Held {
  client: SwitchboardClient<ChatApp>
  lease: Lease
}

const held = new Map<string, Held>()

/** The client of `key` (made with `url` and `options()` the first time), and its lease. */
export function userClient(key: string, url: string, options: () => SwitchboardClientOptions): Held {
  let entry = held.get(key)
  if (!entry) {
    const client = new SwitchboardClient<ChatApp>(url, { ...options(), autoConnect: false })
    const lease = new Lease(
      () => client.connect(),
      () => {
        held.delete(key)
        void client.close()
      },
    )
    entry = { client, lease }
    held.set(key, entry)
  }
  return entry
}
