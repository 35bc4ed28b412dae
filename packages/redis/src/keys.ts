/**
 * Where everything lives in Redis, under one prefix (default `switchboard:`). Each name is
 * `prefix + kind + ':' + rest`, and no kind is a prefix of another, so two channels can never
 * share a key whatever their names. Channel names cannot contain a newline, which is what the
 * presence entries use as their separator. A channel's presence keys (`pres`, `pcnt`, `pinf`,
 * `pgone`) are only ever touched together, by one script, so a later move to Redis Cluster can
 * put them in one slot with a hash tag on the channel.
 *
 * A user's keys (the user index) carry the user in a Redis Cluster hash tag, `{user}`, so every
 * key of one user is in one slot and each script of the index touches one slot only. Braces and
 * `%` in a user name are percent-encoded inside the tag (`%7B`, `%7D`, `%25`), which keeps the tag
 * whole and two users apart. (A prefix that holds a `{…}` of its own would put every key in one
 * slot: correct, but not spread.)
 */

export interface Keys {
  readonly prefix: string
  /** Hash `{ epoch, offset }`: the channel's stream position. */
  meta(channel: string): string
  /** List of the retained messages, oldest first (entries from wire.ts). */
  hist(channel: string): string
  /** Sorted set: idempotency key → offset, the latest 1,000. */
  idem(channel: string): string
  /** Hash: connection id → `nodeId \n member JSON`. */
  presence(channel: string): string
  /** Hash: user id → how many of its connections are members (0 while its leave waits out the grace window). */
  presenceCounts(channel: string): string
  /** Hash: user id → the user as JSON members without braces (`"userId":…,"info":…`), for the scripts to wrap. */
  presenceUsers(channel: string): string
  /** Hash: user id → the token of its pending leave (in its grace window). */
  presenceGone(channel: string): string
  /** The pub/sub channel that carries the channel's messages and presence changes. */
  pubsub(channel: string): string
  /** Hash: `seed` and the generation of each slot, from which channels without a stream get their epoch. */
  epochs(): string
  /** Set of the node ids that have ever added presence members and were not reaped yet. */
  nodes(): string
  /** String with an expiry, refreshed by the node's heartbeat: the node is alive while it exists. */
  node(nodeId: string): string
  /**
   * Set of `channel \n connectionId` (the presence members a node added) and `channel \n \n token
   * \n userId` (the pending leaves it will finish): what the reaper finishes if the node dies.
   */
  nodeMembers(nodeId: string): string
  /** The pub/sub channel of events routed to one node's connections (`sb.sendTo`). */
  route(nodeId: string): string
  /** Hash: connection id → `[node, transport, remoteAddress | null]` JSON, the user's connections. */
  user(user: string): string
  /** Sorted set: the user's connection ids, scored by when they were added (ms): the oldest first. */
  userOrder(user: string): string
  /** Set of `[user, connectionId]` JSON: the user-index entries a node added, for reaping it. */
  nodeUsers(nodeId: string): string
  /** Set of the node ids that may have user-index entries (reaped like the presence `nodes`). */
  userNodes(): string
  /** The pub/sub channel every node listens on for control commands (`broker.control`). */
  control(): string
  /** The pub/sub channel of the answers to one node's control commands. */
  controlReplies(nodeId: string): string
  /** Stream of lifecycle events (lifecycle-log.ts); a consumer group per webhook receiver. */
  lifecycle(): string
  /** String with an expiry: the node that delivers one receiver's webhooks now. */
  lifecycleLease(consumer: string): string
  /** Set of `subject \n name`: the users online and channels occupied, as the webhooks were told. */
  lifecycleThere(): string
  /** Sorted set of `subject \n name` by when its departure is due (ms): the grace windows running. */
  lifecycleDue(): string
  /** Hash: revocation entry (`j\n<jti>` or `u\n<user>`) → the user's `issuedBefore` ms, or '' for a token id. */
  revocations(): string
  /** Sorted set: revocation entry → its `expiresAt` ms, the order in which entries are forgotten. */
  revocationExpiry(): string
  /** The pub/sub channel every node listens on for new revocations. */
  revoked(): string
}

export function keysFor(prefix: string): Keys {
  return {
    prefix,
    meta: (channel) => `${prefix}meta:${channel}`,
    hist: (channel) => `${prefix}hist:${channel}`,
    idem: (channel) => `${prefix}idem:${channel}`,
    presence: (channel) => `${prefix}pres:${channel}`,
    presenceCounts: (channel) => `${prefix}pcnt:${channel}`,
    presenceUsers: (channel) => `${prefix}pinf:${channel}`,
    presenceGone: (channel) => `${prefix}pgone:${channel}`,
    pubsub: (channel) => `${prefix}ch:${channel}`,
    epochs: () => `${prefix}epochs`,
    nodes: () => `${prefix}nodes`,
    node: (nodeId) => `${prefix}node:${nodeId}`,
    nodeMembers: (nodeId) => `${prefix}nm:${nodeId}`,
    route: (nodeId) => `${prefix}route:${nodeId}`,
    user: (user) => `${prefix}user:{${userTag(user)}}`,
    userOrder: (user) => `${prefix}uord:{${userTag(user)}}`,
    nodeUsers: (nodeId) => `${prefix}nu:${nodeId}`,
    userNodes: () => `${prefix}unodes`,
    control: () => `${prefix}ctl`,
    controlReplies: (nodeId) => `${prefix}ctlr:${nodeId}`,
    lifecycle: () => `${prefix}life`,
    lifecycleLease: (consumer) => `${prefix}lease:${consumer}`,
    lifecycleThere: () => `${prefix}lthere`,
    lifecycleDue: () => `${prefix}ldue`,
    revocations: () => `${prefix}revocations`,
    revocationExpiry: () => `${prefix}revocation-expiry`,
    revoked: () => `${prefix}revoked`,
  }
}

/** A user name as it goes inside a hash tag: no brace can end the tag early, and no two names meet. */
function userTag(user: string): string {
  return user.replace(/[%{}]/g, (c) => (c === '%' ? '%25' : c === '{' ? '%7B' : '%7D'))
}

/**
 * The keys of the channel occupancy index (`RedisBroker.occupancy`): the user index's shape with
 * a channel for a user and one entry per node, under kinds of its own (`occ`, `oord`, `onm`,
 * `onodes`); node liveness is the same key as everywhere.
 */
export function occupancyKeys(keys: Keys): Keys {
  const { prefix } = keys
  return {
    ...keys,
    user: (channel) => `${prefix}occ:{${userTag(channel)}}`,
    userOrder: (channel) => `${prefix}oord:{${userTag(channel)}}`,
    nodeUsers: (nodeId) => `${prefix}onm:${nodeId}`,
    userNodes: () => `${prefix}onodes`,
  }
}
