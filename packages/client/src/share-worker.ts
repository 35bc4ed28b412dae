/**
 * `@switchboard/client/share-worker`: the script of the SharedWorker that holds the tabs' shared
 * connections (`shareConnection({ worker: url })`). Serve it, bundled, from the page's origin at
 * one URL that every tab uses. It keeps one multiplexer per key (origin, server URLs, the app's
 * `key`); each tab's port carries that tab's links. Importing this module in a SharedWorker is
 * all it takes: it sets the worker's `onconnect`.
 */
import { LinkHost } from './share/link-host.js'
import { ConnectionMultiplexer } from './share/multiplexer.js'
import type { ToHost } from './share/share-messages.js'
import { fallbackWebSocket, type TransportName } from './transport/fallback.js'
import { globalWebSocket, type WebSocketConstructor } from './transport/websocket-like.js'

const multiplexers = new Map<string, ConnectionMultiplexer>()

function multiplexer(key: string, transports: TransportName[] | undefined): ConnectionMultiplexer {
  let mux = multiplexers.get(key)
  if (!mux) {
    const ws = globalWebSocket()
    const WebSocket: WebSocketConstructor =
      transports && !(transports.length === 1 && transports[0] === 'websocket')
        ? fallbackWebSocket(transports, ws, { connectTimeout: 10_000 })
        : ws!
    mux = new ConnectionMultiplexer({ WebSocket })
    multiplexers.set(key, mux)
  }
  return mux
}

/** Serves one page's port. */
export function servePort(port: MessagePort): void {
  const host = new LinkHost(multiplexer, (_tab, message) => port.postMessage(message))
  port.onmessage = (event: MessageEvent<ToHost>) => host.handle(event.data)
  port.start()
}

const scope = globalThis as { onconnect?: (event: MessageEvent) => void }
if ('SharedWorkerGlobalScope' in globalThis) {
  scope.onconnect = (event) => {
    const port = event.ports[0]
    if (port) servePort(port)
  }
}
