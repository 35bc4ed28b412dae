/**
 * Where everything lives in Redis, under one prefix (default `switchboard:`). Each name is
 * `prefix + kind + ':' + rest`, and no kind is a prefix of another, so two channels can never
 * share a key whatever their names. Channel names cannot contain a newline, which is what the
 * presence entries use as their separator. A channel's presence keys (`pres`, `pcnt`, `pinf`,
 * `pgone`) are only ever touched together, by one script, so a later move to Redis Cluster can
 * put them in one slot with a hash tag on the channel.
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
  /** The pub/sub channel every node listens on for control commands (`broker.control`). */
  control(): string
  /** The pub/sub channel of the answers to one node's control commands. */
  controlReplies(nodeId: string): string
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
    control: () => `${prefix}ctl`,
    controlReplies: (nodeId) => `${prefix}ctlr:${nodeId}`,
  }
}
