/**
 * @switchboard/broker — the Broker seam between a Switchboard server and where its publications
 * live: the interface and its events, `MemoryBroker` (one node, in memory), `newEpoch`, and
 * (from `@switchboard/broker/testing`) the contract suite any broker must pass.
 */
export type {
  Broker,
  BrokerData,
  BrokerEvent,
  BrokerListener,
  BrokerMessage,
  BrokerPresence,
  BrokerPresenceApi,
  BrokerReset,
  BrokerRevocationsApi,
  ControlCommand,
  ControlHandler,
  ControlOptions,
  ControlReply,
  ControlResult,
  HistoryResult,
  PresenceAction,
  PresenceRemoveOptions,
  PublishOptions,
  RecentOptions,
  ResolvedHistory,
  Revocation,
  RevocationEvent,
  RevocationListener,
  RoutedEvent,
  RouteHandler,
} from './broker.js'
export { BrokerOutcomeUnknownError, isOutcomeUnknown } from './broker.js'
export { answerControl } from './control.js'
export { newEpoch } from './epoch.js'
export {
  ARRIVAL,
  DEFAULT_LIFECYCLE_MAX_EVENTS,
  DEPARTURE,
  LIFECYCLE_EVENT_TYPES,
  type LifecycleEvent,
  type LifecycleEventInput,
  type LifecycleEventType,
  type LifecycleLog,
  type LifecycleSubject,
  MemoryLifecycleLog,
  type PresentNow,
  subjectEvent,
} from './lifecycle.js'
export { MemoryBroker, type MemoryBrokerOptions } from './memory-broker.js'
export { MemoryUsers } from './memory-users.js'
export { mergeRevocation, revocationKey } from './revocations.js'
export type {
  BrokerUsersApi,
  UserAddOptions,
  UserAddResult,
  UserConnection,
  UserConnectionInfo,
  UserLimitPolicy,
  UserRemoveResult,
} from './users.js'
