/**
 * @switchboard/server — `createSwitchboard()`: the Switchboard protocol over WebSocket (on `ws`),
 * with channels, request handlers validated by any Standard Schema, an embedded in-memory broker
 * behind the Broker seam, limits, heartbeats and graceful shutdown.
 */

export {
  type Broker,
  type BrokerData,
  type BrokerEvent,
  type BrokerListener,
  type BrokerMessage,
  BrokerOutcomeUnknownError,
  type BrokerPresence,
  type BrokerPresenceApi,
  type BrokerReset,
  type ControlCommand,
  type ControlHandler,
  type ControlOptions,
  type ControlReply,
  type ControlResult,
  type HistoryResult,
  MemoryBroker,
  type MemoryBrokerOptions,
  newEpoch,
  type PresenceAction,
  type PresenceRemoveOptions,
  type PublishOptions,
  type ResolvedHistory,
  type RoutedEvent,
  type RouteHandler,
} from '@switchboard/broker'
export type {
  ChannelData,
  ChannelName,
  EventData,
  EventMap,
  EventName,
  JsonValue,
  PresenceCounts,
  PresenceMember,
  PresenceUser,
  ReplyData,
  RequestData,
  RequestName,
  StreamPosition,
  UntypedEventMap,
} from '@switchboard/protocol'
export { CloseCode, closeFor, ErrorCode } from '@switchboard/protocol'
export type {
  CloseOptions,
  DisconnectUserOptions,
  HttpApiOptions,
  Logger,
  PublishOptionsFor,
  RevokeRequest,
  RevokeResult,
  ServerAddress,
  Switchboard,
  SwitchboardEvents,
  SwitchboardOptions,
  SwitchboardStats,
} from './api.js'
export { CloseConnection, type Credentials, type TokenAuth } from './auth/auth-session.js'
export {
  type ChannelOptions,
  type ChannelOptionsMap,
  ChannelRules,
  type HistoryOptions,
  PRESENCE_GRACE_MS,
  PRESENCE_WINDOW_MS,
  type PresenceMode,
  type PresenceOptions,
  parseDuration,
  type ResolvedChannelOptions,
  type ResolvedPresence,
} from './channels/channel-options.js'
export type { Connection, ConnectionData, ConnectionState } from './connection/connection.js'
export { SwitchboardError } from './errors.js'
export { redactUrl } from './http/redact-url.js'
export { signDashboardLink } from './http-api/dashboard-link.js'
export type { KeyAccess } from './http-api/signed-tokens.js'
export type { ProxyHook, ProxyHooks, ProxyOptions } from './proxy/proxy-options.js'
export type {
  AlertSeverity,
  CloseCounts,
  ClusterSample,
  FiringAlert,
  NodeSample,
  StatsSample,
} from './stats/stats-sample.js'
export { createSwitchboard } from './switchboard.js'
export { OutgoingFrame, type Transport, type TransportHandlers } from './transport/transport.js'
export type { WebhookOptions, WebhooksOptions, WebhooksTiming } from './webhooks/webhook-options.js'
export {
  SIGNATURE_HEADER,
  signWebhook,
  type VerifyOptions,
  verifyWebhook,
} from './webhooks/webhook-signature.js'
