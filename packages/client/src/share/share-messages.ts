/**
 * What a tab and the holder of the shared connection (a SharedWorker, or the leader tab) say to
 * each other, over a MessagePort or a BroadcastChannel: one discriminated union each way. A
 * "link" is one virtual socket of one tab — a tab may have several over time (each reconnect
 * opens a new one), and several clients. Frames travel as the JSON text of the wire, untouched.
 */
import type { TransportName } from '../transport/fallback.js'

/** A tab to the holder. */
export type ToHost =
  | {
      type: 'open'
      /** The tab's id: its liveness lock is `tabLockName(tab)`. */
      tab: string
      link: string
      /** Which shared connection: origin-wide key (URLs, and the app's `key`). */
      key: string
      /** The URL of this attempt (with its `resume` query). */
      url: string
      transports?: TransportName[]
    }
  | { type: 'send'; link: string; data: string }
  | { type: 'close'; link: string; code: number; reason: string }

/** The holder to a tab, about one of its links. */
export type ToTab =
  | { type: 'opened'; link: string; protocol: string }
  | { type: 'message'; link: string; data: string }
  | { type: 'closed'; link: string; code: number; reason: string }

/** What one link's holder calls on the tab's side (the virtual socket). */
export interface LinkPeer {
  opened(protocol: string): void
  message(data: string): void
  closed(code: number, reason: string): void
}

/** The holder's side of one link, as the tab uses it. */
export interface LinkEnd {
  send(data: string): void
  close(code: number, reason: string): void
}

/** Opens links to one shared connection. */
export interface LinkOpener {
  open(url: string, peer: LinkPeer): LinkEnd
}
