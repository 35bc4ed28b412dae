/**
 * Helpers for tests that drive the real SwitchboardClient against the real server: a `ws`
 * WebSocket that the test can reach (to pause its reading or destroy its socket, as a network
 * would), and a small seeded PRNG for randomized tests that must be replayable.
 */
import type { SwitchboardClientOptions } from '@switchboard/client'
import WebSocket from 'ws'

/** The `ws` sockets a client made, newest last; the test drops or pauses them from outside. */
export class SocketTracker {
  readonly sockets: WebSocket[] = []

  /** The constructor to pass as the client's `WebSocket` option. */
  readonly WebSocket: NonNullable<SwitchboardClientOptions['WebSocket']>

  constructor() {
    const sockets = this.sockets
    class Tracked extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols)
        sockets.push(this)
        this.on('error', () => {})
      }
    }
    this.WebSocket = Tracked as unknown as NonNullable<SwitchboardClientOptions['WebSocket']>
  }

  /** The newest socket, if it is open. */
  get current(): WebSocket | undefined {
    const last = this.sockets.at(-1)
    return last?.readyState === WebSocket.OPEN ? last : undefined
  }
}
