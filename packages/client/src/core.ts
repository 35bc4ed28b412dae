/**
 * Everything both entry points export. Nothing here imports a Node built-in: the browser entry
 * is this module as is, the Node entry adds a `ws` fallback for runtimes without a global WebSocket.
 */
export type {
  ChannelData,
  ChannelName,
  EventData,
  EventMap,
  EventName,
  JsonValue,
  PresenceMember,
  PublishResult,
  ReplyData,
  RequestData,
  RequestName,
  StreamPosition,
  SubscribeResult,
  UntypedEventMap,
} from '@switchboard/protocol'
export { type Backoff, type BackoffOptions, createBackoff } from './backoff.js'
export type {
  Channel,
  ChannelEvents,
  ChannelMessage,
  ChannelState,
  ChannelStateReason,
  PublishOptions,
  RecoveryInfo,
} from './channel.js'
export { Emitter } from './emitter.js'
export { SwitchboardError } from './errors.js'
export { type FallbackOptions, fallbackWebSocket, type TransportName } from './fallback.js'
export { LongPollSocket } from './long-poll-socket.js'
export {
  type CloseInfo,
  type ReconnectingState,
  ReconnectingWebSocket,
  type ReconnectingWebSocketEvents,
  type ReconnectingWebSocketOptions,
  type SendData,
} from './reconnecting-websocket.js'
export { SseSocket } from './sse-socket.js'
export {
  type ClientEvents,
  type ConnectionState,
  type ConnectionStateReason,
  type RequestOptions,
  type StateChange,
  SwitchboardClient,
  type SwitchboardClientOptions,
} from './switchboard-client.js'
export { ReadyState, type WebSocketConstructor, type WebSocketLike } from './websocket-like.js'
