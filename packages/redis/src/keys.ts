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
 *
 * Two layouts. `single` (one Redis, or each of several independent ones) keeps the names every
 * deployment has always had. `cluster` (Redis Cluster) puts every key of one channel — position,
 * history, idempotency keys, presence, its pub/sub channel — and its bucket's `epochs` hash under
 * one hash tag, the channel's bucket `{c:xyz}` (the first three hex digits of SHA-1(channel), the
 * very slot of the empty-epoch table), so each channel script touches one slot; a node's keys sit
 * under `{n:<nodeId>}`, the lifecycle log's under `{life}`, the revocations' under `{rev}`.
 * Channel messages then travel by SPUBLISH (sharded pub/sub): `publishCommand`.
 */
import { createHash } from 'node:crypto'

/** How keys are named: unchanged for one Redis, hash-tagged for Redis Cluster. */
export type KeyLayout = 'single' | 'cluster'

export interface Keys {
  readonly prefix: string
  readonly layout: KeyLayout
  /** What the scripts publish a channel's events with: `PUBLISH`, or `SPUBLISH` on a cluster. */
  readonly publishCommand: 'PUBLISH' | 'SPUBLISH'
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
  /**
   * Hash: `seed` and the generation of each slot, from which channels without a stream get their
   * epoch. One for every channel in the single layout; one per bucket (the channel's slot) on a
   * cluster, where `channel` picks it.
   */
  epochs(channel: string): string
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

export function keysFor(prefix: string, layout: KeyLayout = 'single'): Keys {
  return layout === 'cluster' ? clusterKeys(prefix) : singleKeys(prefix)
}

function singleKeys(prefix: string): Keys {
  return {
    prefix,
    layout: 'single',
    publishCommand: 'PUBLISH',
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

/**
 * The cluster layout: each channel's keys under its bucket's tag, `kind:{c:xyz}channel`, so the
 * name stays one-to-one with the channel (the bucket is a function of it) and the bucket's
 * `epochs` hash shares the slot.
 */
function clusterKeys(prefix: string): Keys {
  if (/[{}]/.test(prefix))
    throw new Error('a Redis Cluster key prefix cannot hold { or }: it would tag every key')
  const ch = (kind: string) => (channel: string) => `${prefix}${kind}:{c:${bucketOf(channel)}}${channel}`
  const node = (kind: string) => (nodeId: string) => `${prefix}${kind}:{n:${nodeId}}`
  return {
    prefix,
    layout: 'cluster',
    publishCommand: 'SPUBLISH',
    meta: ch('meta'),
    hist: ch('hist'),
    idem: ch('idem'),
    presence: ch('pres'),
    presenceCounts: ch('pcnt'),
    presenceUsers: ch('pinf'),
    presenceGone: ch('pgone'),
    pubsub: ch('ch'),
    epochs: (channel) => bucketEpochs(prefix, bucketOf(channel)),
    nodes: () => `${prefix}nodes`,
    node: node('node'),
    nodeMembers: node('nm'),
    route: (nodeId) => `${prefix}route:${nodeId}`,
    // `u:` keeps the tag non-empty for the empty name (an empty `{}` is no tag at all).
    user: (user) => `${prefix}user:{u:${userTag(user)}}`,
    userOrder: (user) => `${prefix}uord:{u:${userTag(user)}}`,
    nodeUsers: node('nu'),
    userNodes: () => `${prefix}unodes`,
    control: () => `${prefix}ctl`,
    controlReplies: (nodeId) => `${prefix}ctlr:${nodeId}`,
    lifecycle: () => `${prefix}life:{life}`,
    lifecycleLease: (consumer) => `${prefix}lease:${consumer}`,
    lifecycleThere: () => `${prefix}lthere:{life}`,
    lifecycleDue: () => `${prefix}ldue:{life}`,
    revocations: () => `${prefix}revocations:{rev}`,
    revocationExpiry: () => `${prefix}revocation-expiry:{rev}`,
    revoked: () => `${prefix}revoked:{rev}`,
  }
}

/** How many buckets channels fall in: 16^3, the slots of the empty-epoch table. */
export const BUCKETS = 4096

/** Buckets of recently named channels: a publish names five keys of its channel. */
const buckets = new Map<string, string>()
const BUCKET_CACHE_SIZE = 10_000

/** A channel's bucket: the first three hex digits of SHA-1(channel), its empty-epoch slot too. */
export function bucketOf(channel: string): string {
  let bucket = buckets.get(channel)
  if (bucket === undefined) {
    bucket = createHash('sha1').update(channel).digest('hex').slice(0, 3)
    if (buckets.size >= BUCKET_CACHE_SIZE) buckets.clear()
    buckets.set(channel, bucket)
  }
  return bucket
}

/** The cluster layout's `epochs` hash of a bucket (`bucket`: three hex digits, or its number). */
export function bucketEpochs(prefix: string, bucket: string | number): string {
  const name = typeof bucket === 'number' ? bucket.toString(16).padStart(3, '0') : bucket
  return `${prefix}epochs:{c:${name}}`
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
  if (keys.layout === 'cluster') {
    return {
      ...keys,
      user: (channel) => `${prefix}occ:{o:${userTag(channel)}}`,
      userOrder: (channel) => `${prefix}oord:{o:${userTag(channel)}}`,
      nodeUsers: (nodeId) => `${prefix}onm:{n:${nodeId}}`,
      userNodes: () => `${prefix}onodes`,
    }
  }
  return {
    ...keys,
    user: (channel) => `${prefix}occ:{${userTag(channel)}}`,
    userOrder: (channel) => `${prefix}oord:{${userTag(channel)}}`,
    nodeUsers: (nodeId) => `${prefix}onm:${nodeId}`,
    userNodes: () => `${prefix}onodes`,
  }
}
