/**
 * The browser's word on the network. `offline` (the device lost its network) counts as a dead
 * connection at once, rather than after the heartbeat's silence (up to `hello.heartbeat` +
 * `heartbeatMargin`, 30 s by default), so what is published meanwhile waits for the next
 * connection instead of going into a socket that cannot deliver it; `online` ends the backoff
 * wait. Where the global scope has no such events (Node) nothing is watched. A page and a
 * SharedWorker both have them.
 */
import { noop } from '../util/noop.js'

export interface NetworkHost {
  /** The device went offline. */
  offline(): void
  /** The device is back online. */
  online(): void
}

interface EventScope {
  addEventListener(type: string, listener: () => void): void
  removeEventListener(type: string, listener: () => void): void
}

/** Watches `online`/`offline` on the global scope; returns the function that stops watching. */
export function watchNetwork(host: NetworkHost): () => void {
  const scope = globalThis as Partial<EventScope>
  if (typeof scope.addEventListener !== 'function' || typeof scope.removeEventListener !== 'function') {
    return noop
  }
  const offline = () => host.offline()
  const online = () => host.online()
  scope.addEventListener('offline', offline)
  scope.addEventListener('online', online)
  return () => {
    scope.removeEventListener?.('offline', offline)
    scope.removeEventListener?.('online', online)
  }
}
