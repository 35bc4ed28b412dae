/**
 * `@switchboard/client/share`: one connection for every tab of an origin. `shareConnection()`
 * goes in the client's `share` option; tabs whose clients have the same server URLs (and the
 * same `key`) then share one real connection, held by a SharedWorker when the page says where
 * its script is and the browser has SharedWorker, otherwise by a leader tab elected with the Web
 * Locks API and reached over BroadcastChannel. Where neither works (Node, a browser without Web
 * Locks) the client opens its own connection, as without the option. A separate entry, so that
 * only applications that share bundle it.
 */
import type { ConnectionShare, ShareTarget } from './client/client-types.js'
import { LeaderTabRelay } from './share/leader-tab.js'
import type { LinkOpener } from './share/share-messages.js'
import { virtualSocketClass } from './share/virtual-socket.js'
import { workerLinks } from './share/worker-link.js'
import { fallbackWebSocket } from './transport/fallback.js'
import { globalWebSocket, type WebSocketConstructor } from './transport/websocket-like.js'
import { webLocks } from './util/tab-lock.js'

export interface ShareOptions {
  /**
   * The URL of the share worker script (`@switchboard/client/share-worker`, bundled), served from
   * the page's origin at the same URL for every tab. With it, and where the browser has
   * SharedWorker, the connection lives in that worker; without it, in a leader tab. A `blob:` URL
   * does not work: each tab would make its own.
   */
  worker?: string | URL
  /** How the worker script is loaded: `'module'` (an ES module) or `'classic'`. Default `'classic'`. */
  workerType?: WorkerType
  /**
   * Told apart besides origin and server URLs: tabs share only with tabs of the same `key`. Give
   * the signed-in user's id when one origin can have different users in different tabs.
   */
  key?: string
  /** Force the leader-tab way even where SharedWorker exists (for testing both). Default false. */
  leaderTab?: boolean
}

/** Per page: one relay or worker port per key, shared by every client of that key. */
const openers = new Map<string, LinkOpener>()

/** The `share` option: see ShareOptions for where the connection lives. */
export function shareConnection(options: ShareOptions = {}): ConnectionShare {
  return {
    socket(target: ShareTarget): WebSocketConstructor | undefined {
      const key = JSON.stringify([options.key ?? '', ...target.urls])
      const worker = options.worker !== undefined && !options.leaderTab && typeof SharedWorker === 'function'
      if (!worker && (!webLocks() || typeof BroadcastChannel !== 'function')) return undefined
      const id = `${worker ? 'worker' : 'leader'} ${key}`
      let opener = openers.get(id)
      if (!opener) {
        opener = worker
          ? workerLinks({
              url: options.worker!,
              type: options.workerType ?? 'classic',
              key,
              transports: target.transports,
            })
          : new LeaderTabRelay(key, () => realWebSocket(target))
        openers.set(id, opener)
      }
      return virtualSocketClass(opener)
    },
  }
}

function realWebSocket({ WebSocket, transports }: ShareTarget): WebSocketConstructor {
  const ws = WebSocket ?? globalWebSocket()
  if (!transports || (transports.length === 1 && transports[0] === 'websocket')) {
    if (!ws) throw new TypeError('no WebSocket implementation: pass options.WebSocket')
    return ws
  }
  return fallbackWebSocket(transports, ws, { connectTimeout: 10_000 })
}
