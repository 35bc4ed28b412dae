/**
 * Presence over several independent Redis instances (`shards`): a channel's presence lives on
 * the shard that owns the channel, so each shard runs its own `NodePresence` — its own liveness
 * key for this node, its own list of the members this node added there, its own reaper — and
 * this routes each call to the channel's one. A node that dies is reaped on every shard.
 */
import type { BrokerPresenceApi, PresenceRemoveOptions } from '@switchboard/broker'
import type { JsonValue, PresenceCounts, PresenceMember, PresenceUser } from '@switchboard/protocol'
import type { NodePresence } from './presence.js'

export class ShardedPresence implements BrokerPresenceApi {
  constructor(
    private readonly shards: readonly NodePresence[],
    private readonly shardOf: (channel: string) => number,
  ) {}

  add(channel: string, member: PresenceMember): Promise<void> {
    return this.of(channel).add(channel, member)
  }

  remove(channel: string, connectionId: string, options?: PresenceRemoveOptions): Promise<void> {
    return this.of(channel).remove(channel, connectionId, options)
  }

  update(channel: string, connectionId: string, info: JsonValue): Promise<boolean> {
    return this.of(channel).update(channel, connectionId, info)
  }

  list(channel: string): Promise<PresenceMember[]> {
    return this.of(channel).list(channel)
  }

  users(channel: string): Promise<PresenceUser[]> {
    return this.of(channel).users(channel)
  }

  counts(channel: string): Promise<PresenceCounts> {
    return this.of(channel).counts(channel)
  }

  private of(channel: string): NodePresence {
    return this.shards[this.shardOf(channel)]!
  }
}
