/**
 * `@switchboard/client/outbox`: the durable outbox. `new SwitchboardClient(url, { outbox:
 * indexedDbOutbox() })` keeps the publishes and idempotent requests made while not connected in
 * IndexedDB until the server answered them, across reloads and browser restarts. A separate
 * entry, so that only applications that use it bundle it.
 */
import { IndexedDbOutbox, type IndexedDbOutboxOptions } from './outbox/indexeddb-outbox.js'

export type { OutboxDropReason, OutboxEntry, OutboxEvents } from './client/client-types.js'
export { IndexedDbOutbox, type IndexedDbOutboxOptions } from './outbox/indexeddb-outbox.js'

/** An outbox in IndexedDB, for the client's `outbox` option; see IndexedDbOutboxOptions for its bounds. */
export function indexedDbOutbox(options: IndexedDbOutboxOptions = {}): IndexedDbOutbox {
  return new IndexedDbOutbox(options)
}
