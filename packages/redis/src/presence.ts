/**
 * Presence shared by every node. Members live in a hash per channel, each tagged with the node
 * that added it; join and leave go out on the channel's pub/sub channel, so every node's
 * listeners hear them in order with the channel's messages. Each node keeps a liveness key that
 * its heartbeat refreshes; on every heartbeat each node also reaps the nodes whose key has
 * expired — removing their members with leave events — so the members of a node that died leave
 * within `nodeTtlMs + heartbeatMs`. A node that finds its own key gone (Redis lost its data, or
 * the node was cut off long enough to be reaped) adds its members again.
 */

import type { BrokerPresenceApi } from '@switchboard/broker'
import type { PresenceMember } from '@switchboard/protocol'
import type { Redis } from 'ioredis'
import type { Keys } from './keys.js'
import { PRESENCE_ADD, PRESENCE_REMOVE, REAP } from './scripts.js'
import { dataJson, decodePresenceEntry, joinPayload, presenceEntry } from './wire.js'

export interface PresenceTiming {
  /** How often the node refreshes its liveness key and reaps dead nodes. */
  heartbeatMs: number
  /** How long a node's members outlive its last heartbeat. */
  nodeTtlMs: number
}

export class NodePresence implements BrokerPresenceApi {
  /** This node's members, by channel and connection id: what a heartbeat may need to add again. */
  private readonly local = new Map<string, Map<string, PresenceMember>>()
  /** Removals that failed (Redis was down): retried on each heartbeat until they land. */
  private readonly pendingRemovals = new Set<string>()
  private timer: NodeJS.Timeout | undefined
  private beating: Promise<void> | undefined

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    readonly nodeId: string,
    private readonly timing: PresenceTiming,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.heartbeat(), this.timing.heartbeatMs)
    this.timer.unref()
  }

  async add(channel: string, member: PresenceMember): Promise<void> {
    const members = this.local.get(channel) ?? new Map<string, PresenceMember>()
    this.local.set(channel, members)
    members.set(member.connectionId, member)
    this.pendingRemovals.delete(this.entry(channel, member.connectionId))
    try {
      await this.write(channel, member)
    } catch (err) {
      this.forget(channel, member.connectionId)
      throw err
    }
  }

  async remove(channel: string, connectionId: string): Promise<void> {
    this.forget(channel, connectionId)
    const entry = this.entry(channel, connectionId)
    try {
      await this.erase(entry)
      this.pendingRemovals.delete(entry)
    } catch (err) {
      this.pendingRemovals.add(entry)
      throw err
    }
  }

  async list(channel: string): Promise<PresenceMember[]> {
    const entries = await this.redis.hvals(this.keys.presence(channel))
    const members: PresenceMember[] = []
    for (const e of entries) {
      const m = decodePresenceEntry(e)
      if (m) members.push(m)
    }
    return members
  }

  /** Refreshes this node's liveness, repairs what Redis lost, and reaps dead nodes. */
  heartbeat(): Promise<void> {
    this.beating ??= this.beat()
      .catch(this.onError)
      .finally(() => {
        this.beating = undefined
      })
    return this.beating
  }

  /** Stops the heartbeat and takes this node's members out, each with a leave event. */
  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.beating
    const entries = [...this.local].flatMap(([ch, ms]) => [...ms.keys()].map((id) => this.entry(ch, id)))
    this.local.clear()
    await Promise.all([...entries, ...this.pendingRemovals].map((e) => this.erase(e)))
    this.pendingRemovals.clear()
    await this.redis.multi().del(this.keys.node(this.nodeId), this.keys.nodeMembers(this.nodeId)).exec()
    await this.redis.srem(this.keys.nodes(), this.nodeId)
  }

  private async beat(): Promise<void> {
    const [[, previous] = []] =
      (await this.redis
        .multi()
        .set(this.keys.node(this.nodeId), '1', 'PX', this.timing.nodeTtlMs, 'GET')
        .sadd(this.keys.nodes(), this.nodeId)
        .exec()) ?? []
    if (previous === null) {
      // Our key was gone: Redis restarted empty, or others reaped us. Put our members back.
      const writes: Promise<void>[] = []
      for (const [channel, members] of this.local) {
        for (const member of members.values()) writes.push(this.write(channel, member))
      }
      await Promise.all(writes)
    }
    await Promise.all(
      [...this.pendingRemovals].map((e) => this.erase(e).then(() => this.pendingRemovals.delete(e))),
    )
    await REAP.run(this.redis, [this.keys.nodes()], [this.keys.prefix])
  }

  private async write(channel: string, member: PresenceMember): Promise<void> {
    const memberText = dataJson(member)
    await PRESENCE_ADD.run(
      this.redis,
      [this.keys.presence(channel), this.keys.nodeMembers(this.nodeId)],
      [
        member.connectionId,
        presenceEntry(this.nodeId, memberText),
        this.entry(channel, member.connectionId),
        this.keys.pubsub(channel),
        joinPayload(memberText),
      ],
    )
  }

  private async erase(entry: string): Promise<void> {
    const cut = entry.indexOf('\n')
    const channel = entry.slice(0, cut)
    await PRESENCE_REMOVE.run(
      this.redis,
      [this.keys.presence(channel), this.keys.nodeMembers(this.nodeId)],
      [entry.slice(cut + 1), entry, this.keys.pubsub(channel)],
    )
  }

  private forget(channel: string, connectionId: string): void {
    const members = this.local.get(channel)
    if (!members?.delete(connectionId)) return
    if (members.size === 0) this.local.delete(channel)
  }

  private entry(channel: string, connectionId: string): string {
    return `${channel}\n${connectionId}`
  }
}
