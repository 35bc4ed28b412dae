/**
 * Pub/sub the same way on one Redis and on a cluster. On one Redis (or each shard of several)
 * it is plain SUBSCRIBE/PUBLISH. On a Redis Cluster every pub/sub channel is a shard channel
 * (SSUBSCRIBE/SPUBLISH): a message goes only to the primary that owns the channel's slot, and
 * SPUBLISH's count of receivers is every subscriber there — which control commands and `sendTo`
 * rely on (a cluster's plain PUBLISH counts only the receivers on the node it ran on). ioredis
 * keeps one subscriber connection per primary, follows slot moves and failovers and subscribes
 * again; `onResubscribed` fires after it did, for whoever must then catch up on what it missed.
 */
import type { Commands } from './connections.js'

export class PubSub {
  constructor(
    /** The pub/sub connection (for a cluster: a `Cluster` with `shardedSubscribers`). */
    readonly conn: Commands,
    readonly sharded: boolean,
  ) {}

  onMessage(listener: (name: string, payload: string) => void): void {
    this.conn.on(this.sharded ? 'smessage' : 'message', listener)
  }

  /** After every reconnect or move, once the subscriptions are back (they may have missed messages). */
  onResubscribed(listener: () => void): void {
    this.conn.on(this.sharded ? 'subscribersReady' : 'ready', listener)
  }

  async subscribe(...names: string[]): Promise<void> {
    if (names.length === 0) return
    if (!this.sharded) {
      await this.conn.subscribe(...names)
      return
    }
    // One at a time: SSUBSCRIBE takes channels of one slot only.
    await Promise.all(names.map((name) => this.conn.ssubscribe(name)))
  }

  async unsubscribe(...names: string[]): Promise<void> {
    if (names.length === 0) return
    if (!this.sharded) {
      await this.conn.unsubscribe(...names)
      return
    }
    await Promise.all(names.map((name) => this.conn.sunsubscribe(name)))
  }

  /** PUBLISH or SPUBLISH on the command connection `redis`; answers how many subscribers got it. */
  publish(redis: Commands, name: string, payload: string): Promise<number> {
    return this.sharded ? (redis.spublish(name, payload) as Promise<number>) : redis.publish(name, payload)
  }
}
