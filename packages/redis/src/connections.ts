/**
 * The connections a node holds, whatever Redis it runs on: one Redis (the default), a Redis
 * Cluster (ioredis `Cluster`), or several independent Redis instances (shards). Every mode gives
 * each shard a command connection and a pub/sub connection with the same failure rules — no
 * offline queue and no retries, so an operation while Redis is unreachable fails at once, and a
 * command in flight when its connection dropped is never sent again behind its caller's back. A
 * cluster's pub/sub connection subscribes to channels with SSUBSCRIBE (one subscriber per primary,
 * `shardedSubscribers`), and to the cross-node channels with plain SUBSCRIBE, which a cluster
 * broadcasts.
 */
import { Cluster, type ClusterNode, type ClusterOptions, Redis, type RedisOptions } from 'ioredis'

/** What the broker's parts send commands and subscriptions through. */
export type Commands = Redis | Cluster

export interface ClusterConfig {
  /** Some of the cluster's nodes (`redis://host:port`, `host:port`, or `{ host, port }`); the rest is discovered. */
  nodes: ClusterNode[]
  /** ioredis Cluster options, applied over the broker's (`redisOptions` per node, `natMap`…). */
  options?: ClusterOptions
}

/** Where a connection goes: one Redis URL (or the default), or a cluster. */
export type Target = { url: string | undefined } | { cluster: ClusterConfig }

export interface ConnectionSettings {
  /** ioredis options for every connection (for a cluster: for every node connection). */
  redis: RedisOptions | undefined
  commandTimeout: number
}

const backoff = (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000)

/** A command (`role` = commands) or pub/sub connection to the target. */
export function connect(target: Target, role: 'commands' | 'pubsub', settings: ConnectionSettings): Commands {
  const base: RedisOptions = {
    connectionName: `switchboard-${role}`,
    // Fail instead of queueing: an operation Redis never saw must be reported as not done.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // A command in flight when the connection dropped is never sent again behind its caller's back.
    autoResendUnfulfilledCommands: false,
    commandTimeout: settings.commandTimeout,
    // A connection that stopped answering is destroyed this soon after we give up on it.
    disconnectTimeout: 500,
    retryStrategy: backoff,
    ...settings.redis,
  }
  if ('url' in target) return target.url ? new Redis(target.url, base) : new Redis(base)
  // A node connection queues while it connects (ioredis opens them lazily); the cluster itself does not.
  const { enableOfflineQueue: _queue, retryStrategy: _retry, ...node } = base
  const cluster = new Cluster(target.cluster.nodes.map(clusterNode), {
    enableOfflineQueue: false,
    // A command whose connection closed under it may have run: failed, never sent again.
    retryDelayOnFailover: 0,
    // MOVED, ASK, TRYAGAIN and CLUSTERDOWN mean the command did not run: those are retried.
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    // The periodic CLUSTER SLOTS costs a new connection each time and, for the subscribers, a
    // comparison of 16,384 slots. Commands find slot moves by MOVED and failovers by the lost node
    // connection (below): for them it is only a safety net. A sharded subscriber is told of no
    // move (Redis just unsubscribes it): it follows one within this interval, and the catch-up
    // reads what was published meanwhile from history.
    slotsRefreshInterval: role === 'pubsub' ? 5000 : 30_000,
    clusterRetryStrategy: backoff,
    shardedSubscribers: role === 'pubsub',
    ...target.cluster.options,
    redisOptions: { ...node, ...target.cluster.options?.redisOptions },
  })
  // ioredis opens node connections lazily, and a cluster without an offline queue refuses a
  // command for a node still connecting: connect each one as soon as it is known.
  cluster.on('+node', (redis: Redis) => {
    if (redis.status === 'wait') redis.connect().catch(() => {})
  })
  // A node connection that ended may be a primary that failed over: read the slots again now.
  cluster.on('-node', () => {
    if (cluster.status === 'ready') cluster.refreshSlotsCache()
  })
  return cluster
}

/** `redis://host:port` and `host:port` as ioredis's `{ host, port }`; anything else as given. */
function clusterNode(node: ClusterNode): ClusterNode {
  if (typeof node !== 'string') return node
  const text = node.includes('://') ? node : `redis://${node}`
  try {
    const url = new URL(text)
    return { host: url.hostname, port: Number(url.port || 6379) }
  } catch {
    return node
  }
}

/** Settles when the connection is ready (a cluster: with every node's); rejects if it closes first. */
export async function whenReady(conn: Commands): Promise<void> {
  await connected(conn)
  if (conn instanceof Cluster) await Promise.all(conn.nodes('all').map(connected))
}

function connected(conn: Commands): Promise<void> {
  if (conn.status === 'ready') return Promise.resolve()
  if (conn instanceof Redis && conn.status === 'wait') return conn.connect()
  return new Promise((resolve, reject) => {
    const onReady = () => {
      conn.off('end', onEnd)
      resolve()
    }
    const onEnd = () => {
      conn.off('ready', onReady)
      reject(new Error('redis connection closed before it was ready'))
    }
    conn.once('ready', onReady)
    conn.once('end', onEnd)
  })
}

/** Where a broker's connections go: one target, or one per shard. */
export function targetsOf(options: { url?: string; cluster?: ClusterConfig; shards?: string[] }): Target[] {
  const modes = [options.url !== undefined, options.cluster !== undefined, options.shards !== undefined]
  if (modes.filter(Boolean).length > 1) throw new Error('RedisBroker: give one of url, cluster and shards')
  if (options.cluster) {
    if (options.cluster.nodes.length === 0) throw new Error('RedisBroker: cluster.nodes is empty')
    return [{ cluster: options.cluster }]
  }
  if (options.shards) {
    if (options.shards.length === 0) throw new Error('RedisBroker: shards is empty')
    return options.shards.map((url) => ({ url }))
  }
  return [{ url: options.url }]
}

/** A shard's name on the hash ring and in logs: its URL without credentials. */
export function shardName(url: string): string {
  try {
    const u = new URL(url)
    u.username = ''
    u.password = ''
    return u.toString().replace(/\/$/, '')
  } catch {
    return url
  }
}

/** One warning per outage of a connection: the first error after it was last ready. */
export function reportErrors(conn: Commands, role: string, log: { warn(message: string): void }): void {
  let reported = false
  conn.on('error', (err: unknown) => {
    if (reported) return
    reported = true
    log.warn(`redis broker (${role}): ${message(err)}`)
  })
  conn.on('ready', () => {
    reported = false
  })
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
