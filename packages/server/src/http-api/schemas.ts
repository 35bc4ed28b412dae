/**
 * The HTTP API's definitions, once: every method's request and response as JSON Schema (built
 * with TypeBox, which gives the TypeScript type of the same definition). The server validates
 * requests with them (validation.ts, ajv), the OpenAPI document is generated from them
 * (openapi.ts), and the tests check real responses against them — so the types, the checks and
 * the document cannot disagree.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { DEFAULT_LIMITS } from '@switchboard/protocol'
import { DASHBOARD_METHODS } from './dashboard-schemas.js'
import { Channel, Data, Epoch, ErrorBody, Nodes, Offset, Position, strict } from './schema-parts.js'
import {
  DisconnectRequest,
  DisconnectResponse,
  RevokeRequest,
  RevokeResponse,
  SubscribeRequest,
  SubscribeResponse,
  UnsubscribeRequest,
  UnsubscribeResponse,
} from './user-schemas.js'

/** The most messages one history call returns (as `$history`). */
export const MAX_HISTORY_LIMIT = 1000
/** The most channels one broadcast may name. */
export const MAX_BROADCAST_CHANNELS = 1000

export const PublishRequest = Type.Object(
  {
    channel: Channel,
    data: Data,
    key: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: DEFAULT_LIMITS.maxKeyLength,
        description:
          'Idempotency key: a call retried with the same key on the same channel lands once and answers the same position.',
      }),
    ),
  },
  strict,
)
export const PublishResponse = Position

export const BroadcastRequest = Type.Object(
  {
    channels: Type.Array(Channel, { minItems: 1, maxItems: MAX_BROADCAST_CHANNELS, uniqueItems: true }),
    data: Data,
    key: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: DEFAULT_LIMITS.maxKeyLength,
        description: 'Idempotency key, applied to each channel: a retried broadcast lands once per channel.',
      }),
    ),
  },
  strict,
)
export const BroadcastResponse = Type.Object(
  {
    results: Type.Array(
      Type.Union([
        Type.Object({ channel: Type.String(), epoch: Epoch, offset: Offset }, strict),
        Type.Object({ channel: Type.String(), error: ErrorBody }, strict),
      ]),
      { description: 'One per channel, in the order given.' },
    ),
  },
  strict,
)

const Message = Type.Object({ epoch: Epoch, offset: Offset, data: Data }, strict)

export const HistoryRequest = Type.Object(
  {
    channel: Channel,
    limit: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_HISTORY_LIMIT,
        description: 'The most messages to return (default 100).',
      }),
    ),
    since: Type.Optional(
      Type.Object(
        { epoch: Epoch, offset: Offset },
        {
          ...strict,
          description:
            'Return the messages after this position (the oldest first, at most `limit`), instead of the latest ones.',
        },
      ),
    ),
  },
  strict,
)
export const HistoryResponse = Type.Object(
  {
    epoch: Epoch,
    offset: Offset,
    messages: Type.Array(Message, { description: 'Oldest first.' }),
    complete: Type.Optional(
      Type.Boolean({
        description:
          'With `since`: whether the history still held every message after it. False: nothing is returned, the messages after `since` are (partly) gone.',
      }),
    ),
  },
  strict,
)

export const PresenceRequest = Type.Object(
  {
    channel: Channel,
    counts: Type.Optional(
      Type.Boolean({
        description: 'Only the counts, without the member list (a `counts` channel has no list anyway).',
      }),
    ),
  },
  strict,
)
export const PresenceResponse = Type.Object(
  {
    connections: Type.Integer({
      minimum: 0,
      description: 'Connections subscribed to the channel, on every node.',
    }),
    users: Type.Integer({
      minimum: 0,
      description: 'Distinct users, those in their leave grace window included.',
    }),
    members: Type.Optional(
      Type.Array(
        Type.Object(
          {
            userId: Type.String(),
            info: Type.Optional(Data),
            connections: Type.Integer({
              minimum: 0,
              description: 'The user’s connections on the channel; 0 during its leave grace window.',
            }),
          },
          strict,
        ),
        { description: 'One entry per user, on `members` channels unless `counts` was asked.' },
      ),
    ),
  },
  strict,
)

export const ChannelsRequest = Type.Object(
  {
    pattern: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: DEFAULT_LIMITS.maxChannelLength,
        pattern: '^[A-Za-z0-9_\\-:.@/=+*]+$',
        description: 'Only channels matching it; `*` matches any run of characters (`chat:*`).',
      }),
    ),
  },
  strict,
)
export const ChannelsResponse = Type.Object(
  {
    channels: Type.Array(
      Type.Object(
        {
          channel: Type.String(),
          subscribers: Type.Integer({ minimum: 1, description: 'Connections subscribed, on all nodes.' }),
          messagesPerSecond: Type.Number({
            minimum: 0,
            description:
              'Messages published on it per second, over the last complete 5-second window (as a node with subscribers saw them).',
          }),
          history: Type.Integer({
            minimum: 0,
            description: 'How many messages its history keeps (its `history` option; 0: none).',
          }),
        },
        strict,
      ),
      { description: 'Channels with at least one subscriber, by name.' },
    ),
    truncated: Type.Boolean({ description: 'A node had more matching channels than it lists (10,000).' }),
    nodes: Nodes,
  },
  strict,
)

export const InfoRequest = Type.Object({}, strict)
export const InfoResponse = Type.Object(
  {
    version: Type.String({ description: 'The version of @switchboard/server answering.' }),
    connections: Type.Integer({ minimum: 0, description: 'Open connections on all nodes that answered.' }),
    nodes: Type.Array(
      Type.Object(
        {
          node: Type.String({ description: 'The node id (`local` on a server without a shared broker).' }),
          version: Type.String(),
          connections: Type.Integer({ minimum: 0 }),
          channels: Type.Integer({ minimum: 0, description: 'Channels with a subscriber on that node.' }),
          subscriptions: Type.Integer({ minimum: 0 }),
        },
        strict,
      ),
    ),
    reached: Type.Integer({
      minimum: 0,
      description: 'Nodes the call reached; `nodes` lists those that answered.',
    }),
  },
  strict,
)

export const ErrorResponse = Type.Object({ error: ErrorBody }, strict)

/**
 * What a key must allow: `publish` methods are open to publish-only keys too, `read` methods to
 * read-only keys too, `full` methods (those that act) to full keys only, `any` to every key.
 */
export type Access = 'publish' | 'read' | 'full' | 'any'

export interface MethodDefinition {
  summary: string
  description: string
  access: Access
  request: TSchema
  response: TSchema
}

/** Every method, by its path under `/api/`. */
export const METHODS = {
  publish: {
    summary: 'Publish to a channel',
    description:
      'As `sb.publish`: the channel’s schema and the payload checks apply, and `key` makes a retried call land once.',
    access: 'publish',
    request: PublishRequest,
    response: PublishResponse,
  },
  broadcast: {
    summary: 'Publish the same data to several channels',
    description:
      'Each channel is published on its own; one result per channel, an error for those that failed.',
    access: 'publish',
    request: BroadcastRequest,
    response: BroadcastResponse,
  },
  history: {
    summary: 'Read a channel’s retained messages',
    description: 'The latest `limit` messages, or those after `since`. The channel must keep history.',
    access: 'read',
    request: HistoryRequest,
    response: HistoryResponse,
  },
  presence: {
    summary: 'Who is in a presence channel',
    description:
      'The counts of a channel with presence, across the cluster, and its members (one per user) on a `members` channel unless `counts` is true.',
    access: 'read',
    request: PresenceRequest,
    response: PresenceResponse,
  },
  channels: {
    summary: 'Active channels with their subscriber counts',
    description: 'Channels with at least one subscriber, counted on every node that answers.',
    access: 'read',
    request: ChannelsRequest,
    response: ChannelsResponse,
  },
  info: {
    summary: 'The nodes, their connections, the version',
    description: 'Every node that answers in time is listed.',
    access: 'read',
    request: InfoRequest,
    response: InfoResponse,
  },
  subscribe: {
    summary: 'Subscribe a user’s connections (or one connection) to a channel',
    description:
      'A server-side subscription (as `sb.subscribe`) for every open connection of the user on every node. Connections the user opens later are not subscribed.',
    access: 'full',
    request: SubscribeRequest,
    response: SubscribeResponse,
  },
  unsubscribe: {
    summary: 'Unsubscribe a user’s connections (or one connection) from a channel',
    description: 'As `sb.unsubscribe`, on every node.',
    access: 'full',
    request: UnsubscribeRequest,
    response: UnsubscribeResponse,
  },
  disconnect: {
    summary: 'Close a user’s connections (or one connection)',
    description:
      'Every open connection of the user on every node is closed with `code` and `reason`: by default 4004, which the SDK does not retry; with `reconnect: true`, 4103, which makes it connect again.',
    access: 'full',
    request: DisconnectRequest,
    response: DisconnectResponse,
  },
  revoke: {
    summary: 'Revoke a token, or a user’s tokens issued before a time',
    description:
      'As `sb.revoke`: stored in the broker for `revocationTtl`; every node refuses a covered token at the handshake (401) and in `auth` frames, and closes the connections holding one with 4001 within a second.',
    access: 'full',
    request: RevokeRequest,
    response: RevokeResponse,
  },
  ...DASHBOARD_METHODS,
} as const satisfies Record<string, MethodDefinition>

export type MethodName = keyof typeof METHODS
export type RequestOf<N extends MethodName> = Static<(typeof METHODS)[N]['request']>
export type ResponseOf<N extends MethodName> = Static<(typeof METHODS)[N]['response']>
