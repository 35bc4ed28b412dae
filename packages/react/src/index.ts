/**
 * @switchboard/react — a provider and hooks over @switchboard/client. Every hook reads external
 * state through useSyncExternalStore; connections and subscriptions are held under leases, so
 * StrictMode opens one WebSocket and one subscription, and they end on the real unmount.
 */
export { Lease } from './lease.js'
export {
  type ProviderWithClient,
  type ProviderWithUrl,
  SwitchboardProvider,
  type SwitchboardProviderProps,
  useSwitchboard,
} from './provider.js'
export {
  type UseChannelOptions,
  type UseChannelResult,
  useChannel,
  usePresence,
  usePresenceCounts,
} from './use-channel.js'
export { type ConnectionStatus, useConnectionState } from './use-connection-state.js'
export { useOutbox } from './use-outbox.js'
export { type RequestFunction, useRequest } from './use-request.js'
export {
  type UseWebSocketOptions,
  type UseWebSocketResult,
  useWebSocket,
  type WebSocketStatus,
} from './use-websocket.js'
