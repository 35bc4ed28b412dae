/**
 * @switchboard/server — `createSwitchboard()`: the Switchboard protocol over WebSocket (on `ws`),
 * with channels, request handlers validated by any Standard Schema, an embedded in-memory broker
 * behind the Broker seam, limits, heartbeats and graceful shutdown.
 */

export type {
  ChannelData,
  ChannelName,
  EventData,
  EventMap,
  EventName,
  JsonValue,
  PresenceMember,
  ReplyData,
  RequestData,
  RequestName,
  StreamPosition,
  UntypedEventMap,
} from '@switchboard/protocol'
export type {
  CloseOptions,
  Logger,
  PublishOptionsFor,
  ServerAddress,
  Switchboard,
  SwitchboardEvents,
  SwitchboardOptions,
  SwitchboardStats,
} from './api.js'
export type { Credentials, TokenAuth } from './auth-session.js'
export type {
  Broker,
  BrokerData,
  BrokerEvent,
  BrokerListener,
  BrokerMessage,
  BrokerPresence,
  BrokerPresenceApi,
  BrokerReset,
  HistoryResult,
  PublishOptions,
  RoutedEvent,
  RouteHandler,
} from './broker.js'
export {
  type ChannelOptions,
  type ChannelOptionsMap,
  ChannelRules,
  type HistoryOptions,
  parseDuration,
  type ResolvedChannelOptions,
  type ResolvedHistory,
} from './channel-options.js'
export type { Connection, ConnectionData, ConnectionState } from './connection.js'
export { SwitchboardError } from './errors.js'
export {
  type AsymmetricAlgorithm,
  type HmacAlgorithm,
  type JwtAuthOptions,
  type JwtData,
  type JwtKeyOptions,
  jwtAuth,
  redactUrl,
  type TokenSource,
} from './jwt-auth.js'
export { MemoryBroker, type MemoryBrokerOptions, newEpoch } from './memory-broker.js'
export { createMetrics, type MetricsOptions, type SwitchboardMetrics } from './metrics.js'
export { serveStatic } from './static-files.js'
export { createSwitchboard } from './switchboard.js'
export { OutgoingFrame, type Transport, type TransportHandlers } from './transport.js'
