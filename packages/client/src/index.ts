/**
 * @switchboard/client for Node and other runtimes (the default export condition). Same API as
 * the browser entry; where there is no global WebSocket (Node 20) it falls back to `ws`.
 */

import type { EventMap, UntypedEventMap } from '@switchboard/protocol'
import WebSocket from 'ws'
import type { SwitchboardClientOptions } from './client/client-types.js'
import { SwitchboardClient as CoreSwitchboardClient } from './client/switchboard-client.js'
import type { ReconnectingWebSocketOptions } from './transport/reconnecting-websocket.js'
import { ReconnectingWebSocket as CoreReconnectingWebSocket } from './transport/reconnecting-websocket.js'
import { globalWebSocket, type WebSocketConstructor } from './transport/websocket-like.js'

export * from './core.js'

// `ws` fits WebSocketLike at run time; its event types differ from the DOM ones in name only.
const nodeWebSocket: WebSocketConstructor =
  globalWebSocket() ?? (WebSocket as unknown as WebSocketConstructor)

export class ReconnectingWebSocket extends CoreReconnectingWebSocket {
  constructor(url: string | readonly string[], options: ReconnectingWebSocketOptions = {}) {
    super(url, { WebSocket: nodeWebSocket, ...options })
  }
}

export class SwitchboardClient<M extends EventMap = UntypedEventMap> extends CoreSwitchboardClient<M> {
  constructor(url: string | readonly string[], options: SwitchboardClientOptions = {}) {
    super(url, { WebSocket: nodeWebSocket, ...options })
  }
}
