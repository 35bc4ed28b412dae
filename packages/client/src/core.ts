/**
 * Everything both entry points export. Nothing here imports a Node built-in: the browser entry
 * is this module as is, the Node entry adds a `ws` fallback for runtimes without a global WebSocket.
 */
export type {
  ChannelData,
  ChannelName,
  DataValue,
  EventData,
  EventMap,
  EventName,
  JsonValue,
  PresenceCounts,
  PresenceMember,
  PresenceUser,
  PublishResult,
  ReplyData,
  RequestData,
  RequestName,
  StreamPosition,
  SubscribeResult,
  UntypedEventMap,
} from '@switchboard/protocol'
export { CloseCode, ErrorCode } from '@switchboard/protocol'
export type {
  Channel,
  ChannelEvents,
  ChannelMessage,
  ChannelState,
  ChannelStateReason,
  PresenceChange,
  PresenceUpdateOptions,
  PublishOptions,
  RecoveryInfo,
} from './channel/channel.js'
export type {
  ClientCodec,
  ClientEvents,
  ClientOutbox,
  CloseOptions,
  ConnectionShare,
  ConnectionState,
  ConnectionStateReason,
  OutboxDropReason,
  OutboxEntry,
  OutboxEvents,
  OutboxFrame,
  OutboxSender,
  RequestOptions,
  ShareTarget,
  StateChange,
  SwitchboardClientOptions,
} from './client/client-types.js'
export { SwitchboardClient } from './client/switchboard-client.js'
export { type FallbackOptions, fallbackWebSocket, type TransportName } from './transport/fallback.js'
export { LongPollSocket } from './transport/long-poll-socket.js'
export {
  type CloseInfo,
  type ReconnectingState,
  ReconnectingWebSocket,
  type ReconnectingWebSocketEvents,
  type ReconnectingWebSocketOptions,
  type SendData,
} from './transport/reconnecting-websocket.js'
export { SseSocket } from './transport/sse-socket.js'
export { ReadyState, type WebSocketConstructor, type WebSocketLike } from './transport/websocket-like.js'
export { type Backoff, type BackoffOptions, createBackoff } from './util/backoff.js'
export { Emitter } from './util/emitter.js'
export { SwitchboardError } from './util/errors.js'
