/**
 * Presence shared by every node. Connections live in a hash per channel, each tagged with the
 * node that added it, next to each user's connection count and JSON (keys.ts); the scripts of
 * presence-scripts.ts decide atomically who joins and leaves, per user, cluster-wide — the same
 * user on two nodes is one member — and publish each change on the channel's pub/sub channel, so
 * every node's listeners hear them in order with the channel's messages. A user's last
 * connection going with a grace window leaves a pending leave that this node finishes when the
 * window ends (a timer), unless a connection of that user came back on any node.
 *
 * Each node keeps a liveness key that its heartbeat refreshes; on every heartbeat each node also
 * reaps the nodes whose key has expired — removing their members with leave events and finishing
 * their pending leaves — so the members of a node that died leave within `nodeTtlMs +
 * heartbeatMs`. A node that finds its own key gone (Redis lost its data) or itself out of the
 * `nodes` set (it was cut off long enough to be reaped) adds its members again.
 *
 * Every script touches one channel's keys only (one Redis Cluster slot). What spans channels —
 * the node's list of the members it added, `nm:<node>` — is written around them: an entry is
 * listed before it is added and taken off after it is removed, so none is ever in Redis without a
 * way to reap it; a reaper goes through a dead node's list entry by entry, and takes the node out
 * of `nodes` last, so a node that comes back meanwhile adds its members again a heartbeat later.
 */

import type { BrokerPresenceApi, PresenceRemoveOptions } from '@switchboard/broker'
import type { JsonValue, PresenceCounts, PresenceMember, PresenceUser } from '@switchboard/protocol'
import type { Commands } from './connections.js'
import type { Keys } from './keys.js'
import {
  PRESENCE_ADD,
  PRESENCE_EXPIRE,
  PRESENCE_REMOVE,
  PRESENCE_UPDATE,
  REAP_LEAVE,
  REAP_MEMBER,
} from './presence-scripts.js'
import { dataJson, decodePresenceEntry, parse, presenceEntry, toUser, userText } from './wire.js'

export interface PresenceTiming {
  /** How often the node refreshes its liveness key and reaps dead nodes. */
  heartbeatMs: number
  /** How long a node's members outlive its last heartbeat. */
  nodeTtlMs: number
}

/** How many entries of a dead node are reaped in one batch of scripts. */
const REAP_BATCH = 500

export class NodePresence implements BrokerPresenceApi {
  /** This node's members, by channel and connection id: what a heartbeat may need to add again. */
  private readonly local = new Map<string, Map<string, PresenceMember>>()
  /** Removals that failed (Redis was down): retried on each heartbeat until they land. */
  private readonly pendingRemovals = new Set<string>()
  /** The timers of the pending leaves this node started, by token. */
  private readonly leaving = new Map<string, ReturnType<typeof setTimeout>>()
  private nextToken = 0
  private timer: NodeJS.Timeout | undefined
  private beating: Promise<void> | undefined

  constructor(
    private readonly redis: Commands,
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
    members.set(member.connectionId, { ...member })
    this.pendingRemovals.delete(this.entry(channel, member.connectionId))
    try {
      await this.write(channel, member)
    } catch (err) {
      this.forget(channel, member.connectionId)
      throw err
    }
  }

  async remove(channel: string, connectionId: string, options: PresenceRemoveOptions = {}): Promise<void> {
    const userId = this.local.get(channel)?.get(connectionId)?.userId
    this.forget(channel, connectionId)
    const entry = this.entry(channel, connectionId)
    try {
      await this.erase(entry, options.graceMs ?? 0, userId)
      this.pendingRemovals.delete(entry)
    } catch (err) {
      this.pendingRemovals.add(entry)
      throw err
    }
  }

  async update(channel: string, connectionId: string, info: JsonValue): Promise<boolean> {
    const member = this.local.get(channel)?.get(connectionId)
    if (!member) return false
    const updated: PresenceMember = { ...member, info }
    const done = await PRESENCE_UPDATE.of(this.keys.publishCommand).run(
      this.redis,
      [this.keys.presence(channel), this.keys.presenceCounts(channel), this.keys.presenceUsers(channel)],
      [
        connectionId,
        presenceEntry(this.nodeId, dataJson(updated)),
        member.userId,
        userText(updated),
        this.keys.pubsub(channel),
      ],
    )
    if (done !== 1) return false
    if (this.local.get(channel)?.get(connectionId) === member) member.info = info
    return true
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

  async users(channel: string): Promise<PresenceUser[]> {
    const [[, counts] = [], [, texts] = []] =
      (await this.redis
        .multi()
        .hgetall(this.keys.presenceCounts(channel))
        .hgetall(this.keys.presenceUsers(channel))
        .exec()) ?? []
    const users: PresenceUser[] = []
    for (const [userId, n] of Object.entries((counts ?? {}) as Record<string, string>)) {
      const text = (texts as Record<string, string> | undefined)?.[userId]
      const connections = Math.max(0, Number(n) || 0)
      const user =
        text === undefined ? { userId, connections } : toUser(parse(`{${text},"connections":${connections}}`))
      if (user) users.push(user)
    }
    return users
  }

  async counts(channel: string): Promise<PresenceCounts> {
    const [[, connections] = [], [, users] = []] =
      (await this.redis
        .multi()
        .hlen(this.keys.presence(channel))
        .hlen(this.keys.presenceCounts(channel))
        .exec()) ?? []
    return { connections: Number(connections) || 0, users: Number(users) || 0 }
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

  /**
   * Stops the heartbeat and takes this node's members out, each at once. Pending leaves are left
   * to finish by themselves: this node's liveness key then expires and the other nodes' reaper
   * finishes them (a rolling restart's users get that long to come back); with none pending,
   * the node is forgotten at once.
   */
  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.beating
    for (const timer of this.leaving.values()) clearTimeout(timer)
    const pending = this.leaving.size > 0
    this.leaving.clear()
    const entries = [...this.local].flatMap(([ch, ms]) => [...ms.keys()].map((id) => this.entry(ch, id)))
    this.local.clear()
    await Promise.all([...entries, ...this.pendingRemovals].map((e) => this.erase(e, 0)))
    this.pendingRemovals.clear()
    if (pending) return
    await this.redis.multi().del(this.keys.node(this.nodeId), this.keys.nodeMembers(this.nodeId)).exec()
    await this.redis.srem(this.keys.nodes(), this.nodeId)
  }

  private async beat(): Promise<void> {
    const previous = await this.redis.set(
      this.keys.node(this.nodeId),
      '1',
      'PX',
      this.timing.nodeTtlMs,
      'GET',
    )
    const joined = await this.redis.sadd(this.keys.nodes(), this.nodeId)
    if (previous === null || joined === 1) {
      // Our key was gone (Redis restarted empty) or others reaped us: put our members back.
      const writes: Promise<void>[] = []
      for (const [channel, members] of this.local) {
        for (const member of members.values()) writes.push(this.write(channel, member))
      }
      await Promise.all(writes)
    }
    await Promise.all(
      [...this.pendingRemovals].map((e) => this.erase(e, 0).then(() => this.pendingRemovals.delete(e))),
    )
    await this.reap()
  }

  /**
   * Finishes every node whose liveness key has expired: each of its members and pending leaves,
   * one script on its channel each, then its list, then the node itself (last: a node that comes
   * back meanwhile finds itself still listed, and only adds its members again once reaped).
   */
  private async reap(): Promise<void> {
    const nodes = (await this.redis.smembers(this.keys.nodes())).filter((n) => n !== this.nodeId)
    for (const node of nodes) {
      if ((await this.redis.exists(this.keys.node(node))) !== 0) continue
      const list = this.keys.nodeMembers(node)
      const entries = await this.redis.smembers(list)
      for (let at = 0; at < entries.length; at += REAP_BATCH) {
        const batch = entries.slice(at, at + REAP_BATCH)
        await Promise.all(batch.map((e) => this.reapEntry(node, e)))
        await this.redis.srem(list, ...batch)
      }
      await this.redis.srem(this.keys.nodes(), node)
    }
  }

  /** One entry of a dead node's list: `channel \n connectionId`, or `channel \n \n token \n user`. */
  private async reapEntry(node: string, entry: string): Promise<void> {
    const cut = entry.indexOf('\n')
    if (cut <= 0) return
    const channel = entry.slice(0, cut)
    const rest = entry.slice(cut + 1)
    if (!rest.startsWith('\n')) {
      await REAP_MEMBER.of(this.keys.publishCommand).run(this.redis, this.scriptKeys(channel), [
        rest,
        node,
        this.keys.pubsub(channel),
      ])
      return
    }
    const at = rest.indexOf('\n', 1)
    if (at === -1) return
    await REAP_LEAVE.of(this.keys.publishCommand).run(this.redis, this.scriptKeys(channel), [
      rest.slice(at + 1),
      rest.slice(1, at),
      this.keys.pubsub(channel),
    ])
  }

  /** The channel's presence keys, in the scripts' order: pres, pcnt, pinf, pgone. */
  private scriptKeys(channel: string): string[] {
    return [
      this.keys.presence(channel),
      this.keys.presenceCounts(channel),
      this.keys.presenceUsers(channel),
      this.keys.presenceGone(channel),
    ]
  }

  /** Listed in the node's members first, then added: never in Redis without a way to reap it. */
  private async write(channel: string, member: PresenceMember): Promise<void> {
    await this.redis.sadd(this.keys.nodeMembers(this.nodeId), this.entry(channel, member.connectionId))
    await PRESENCE_ADD.of(this.keys.publishCommand).run(this.redis, this.scriptKeys(channel), [
      member.connectionId,
      presenceEntry(this.nodeId, dataJson(member)),
      this.keys.pubsub(channel),
      member.userId,
      userText(member),
    ])
  }

  /**
   * Removes the connection, then takes it off the node's list. A leave that will wait for its
   * grace window is listed first when the user is known (`userId`), so it is never pending in
   * Redis without a way to be finished; the listing goes again if the leave was not pending.
   */
  private async erase(entry: string, graceMs: number, knownUser?: string): Promise<void> {
    const cut = entry.indexOf('\n')
    const channel = entry.slice(0, cut)
    const token = `${this.nodeId}.${(++this.nextToken).toString(36)}`
    const list = this.keys.nodeMembers(this.nodeId)
    const leaving = (user: string) => `${channel}\n\n${token}\n${user}`
    if (graceMs > 0 && knownUser !== undefined) await this.redis.sadd(list, leaving(knownUser))
    const result = await PRESENCE_REMOVE.of(this.keys.publishCommand).run(
      this.redis,
      this.scriptKeys(channel),
      [entry.slice(cut + 1), this.keys.pubsub(channel), graceMs, token],
    )
    const [status, userId] = Array.isArray(result) ? result : []
    const pending = status === 2 && typeof userId === 'string'
    if (pending && userId !== knownUser) await this.redis.sadd(list, leaving(userId))
    if (!pending && graceMs > 0 && knownUser !== undefined) await this.redis.srem(list, leaving(knownUser))
    await this.redis.srem(list, entry)
    if (pending) this.expireLater(channel, userId, token, graceMs)
  }

  /** Finishes a pending leave when its grace window ends (a failure leaves it to the reaper, if this node dies). */
  private expireLater(channel: string, userId: string, token: string, graceMs: number): void {
    const timer = setTimeout(() => {
      this.leaving.delete(token)
      PRESENCE_EXPIRE.of(this.keys.publishCommand)
        .run(this.redis, this.scriptKeys(channel), [userId, token, this.keys.pubsub(channel)])
        .then(() => this.redis.srem(this.keys.nodeMembers(this.nodeId), `${channel}\n\n${token}\n${userId}`))
        .catch(this.onError)
    }, graceMs)
    timer.unref()
    this.leaving.set(token, timer)
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
