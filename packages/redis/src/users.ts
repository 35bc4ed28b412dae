/**
 * The user index shared by every node (`RedisBroker.users`). Each user has a hash of its
 * connections (`[node, transport, remoteAddress]`) and a sorted set of their ages, under one
 * `{user}` hash tag; add (with its limit) and remove are one script each on those two keys only
 * (user-scripts.ts). A node also lists the entries it added (`nu:<node>`, written before the add
 * and cleared after the remove) and keeps them in memory.
 *
 * Nodes die the way presence knows (presence.ts): their liveness key expires. On every heartbeat
 * each node reaps the nodes of `unodes` whose key is gone — each of their entries by the
 * per-user remove script, then their list — so a dead node's entries go within
 * `nodeTtlMs + heartbeatMs`, and any number of nodes may reap at once. A node that finds itself
 * out of `unodes` (it was reaped while cut off, or Redis lost its data) adds its entries again.
 * Adds and removes that failed (Redis was down) are retried on each heartbeat until they land.
 */
import type {
  BrokerUsersApi,
  UserAddOptions,
  UserAddResult,
  UserConnection,
  UserConnectionInfo,
  UserRemoveResult,
} from '@switchboard/broker'
import type { Commands } from './connections.js'
import type { Keys } from './keys.js'
import type { PresenceTiming } from './presence.js'
import { USER_ADD, USER_REMOVE } from './user-scripts.js'

/** How many entries of a dead node are reaped in one batch of scripts. */
const REAP_BATCH = 500

interface LocalEntry {
  user: string
  info: UserConnectionInfo
  since: number
}

export class NodeUsers implements BrokerUsersApi {
  /** What this node added and has not removed: what it adds again after being reaped. */
  private readonly local = new Map<string, LocalEntry>()
  /** Adds that failed, by connection id: retried on each heartbeat while the connection is here. */
  private readonly pendingAdds = new Set<string>()
  /** Removes that failed: `[user, connectionId]` members, retried on each heartbeat. */
  private readonly pendingRemovals = new Set<string>()
  private timer: NodeJS.Timeout | undefined
  private beating: Promise<void> | undefined
  private readonly reapedLast = new Set<(user: string) => void>()

  constructor(
    private readonly redis: Commands,
    private readonly keys: Keys,
    readonly nodeId: string,
    private readonly timing: PresenceTiming,
    private readonly now: () => number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.heartbeat(), this.timing.heartbeatMs)
    this.timer.unref()
  }

  async add(
    user: string,
    connectionId: string,
    info: UserConnectionInfo,
    options: UserAddOptions = {},
  ): Promise<UserAddResult> {
    const previous = this.local.get(connectionId)
    if (previous && previous.user !== user) await this.remove(connectionId)
    const since = previous?.user === user ? previous.since : Math.floor(this.now())
    const entry: LocalEntry = { user, info, since }
    this.local.set(connectionId, entry)
    this.pendingAdds.delete(connectionId)
    let result: UserAddResult
    try {
      result = await this.write(connectionId, entry, options)
    } catch (err) {
      // Kept, and added on a later heartbeat (without the limit): the index converges after an outage.
      if (this.local.get(connectionId) === entry) this.pendingAdds.add(connectionId)
      throw err
    }
    if (!result.added && this.local.get(connectionId) === entry) {
      this.local.delete(connectionId)
      await this.redis.srem(this.keys.nodeUsers(this.nodeId), member(user, connectionId)).catch(() => {})
    }
    if (result.added) {
      for (const gone of result.evicted) if (gone.node === this.nodeId) this.local.delete(gone.connectionId)
    }
    return result
  }

  async remove(connectionId: string): Promise<UserRemoveResult> {
    const entry = this.local.get(connectionId)
    if (!entry) return { removed: false, last: false }
    this.local.delete(connectionId)
    this.pendingAdds.delete(connectionId)
    const m = member(entry.user, connectionId)
    try {
      const result = await this.erase(entry.user, connectionId, this.nodeId)
      await this.redis.srem(this.keys.nodeUsers(this.nodeId), m)
      this.pendingRemovals.delete(m)
      return result.removed ? { ...result, user: entry.user } : result
    } catch (err) {
      this.pendingRemovals.add(m)
      throw err
    }
  }

  async list(user: string): Promise<UserConnection[]> {
    const [[, order] = [], [, entries] = []] =
      (await this.redis
        .multi()
        .zrange(this.keys.userOrder(user), 0, -1, 'WITHSCORES')
        .hgetall(this.keys.user(user))
        .exec()) ?? []
    const ages = order as string[]
    const infos = entries as Record<string, string>
    const list: UserConnection[] = []
    for (let i = 0; i + 1 < ages.length; i += 2) {
      const id = ages[i]!
      const raw = infos[id]
      if (raw !== undefined) list.push(decodeEntry(id, Number(ages[i + 1]), raw))
    }
    return list
  }

  count(user: string): Promise<number> {
    return this.redis.hlen(this.keys.user(user))
  }

  onReapedLast(listener: (user: string) => void): void {
    this.reapedLast.add(listener)
  }

  /** Repairs this node's entries, retries what failed, and reaps dead nodes. */
  heartbeat(): Promise<void> {
    this.beating ??= this.beat()
      .catch(this.onError)
      .finally(() => {
        this.beating = undefined
      })
    return this.beating
  }

  /** Stops the heartbeat and takes this node's entries out (if Redis is down, the others reap them). */
  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.beating
    const entries = [...this.local].map(([id, e]) => member(e.user, id))
    this.local.clear()
    this.pendingAdds.clear()
    await Promise.all(
      [...entries, ...this.pendingRemovals].map((m) => {
        const [user, id] = JSON.parse(m) as [string, string]
        return this.erase(user, id, this.nodeId)
      }),
    )
    this.pendingRemovals.clear()
    await this.redis.del(this.keys.nodeUsers(this.nodeId))
    await this.redis.srem(this.keys.userNodes(), this.nodeId)
  }

  private async beat(): Promise<void> {
    const joined = await this.redis.sadd(this.keys.userNodes(), this.nodeId)
    // Out of `unodes`: reaped, or Redis lost its data. Everything local goes back; otherwise
    // only what failed before.
    const again = joined === 1 ? [...this.local.keys()] : [...this.pendingAdds]
    await Promise.all(
      again.map(async (id) => {
        const entry = this.local.get(id)
        if (!entry) return
        await this.write(id, entry, {})
        this.pendingAdds.delete(id)
      }),
    )
    await Promise.all(
      [...this.pendingRemovals].map(async (m) => {
        const [user, id] = JSON.parse(m) as [string, string]
        await this.erase(user, id, this.nodeId)
        await this.redis.srem(this.keys.nodeUsers(this.nodeId), m)
        this.pendingRemovals.delete(m)
      }),
    )
    await this.reap()
  }

  /** Takes out the entries of every node whose liveness key has expired, then forgets the node. */
  private async reap(): Promise<void> {
    const nodes = (await this.redis.smembers(this.keys.userNodes())).filter((n) => n !== this.nodeId)
    if (nodes.length === 0) return
    const alive = await Promise.all(nodes.map((n) => this.redis.exists(this.keys.node(n))))
    for (const [i, node] of nodes.entries()) {
      if (alive[i] !== 0) continue
      const list = this.keys.nodeUsers(node)
      const members = await this.redis.smembers(list)
      for (let at = 0; at < members.length; at += REAP_BATCH) {
        const batch = members.slice(at, at + REAP_BATCH)
        await Promise.all(
          batch.map(async (m) => {
            const [user, id] = JSON.parse(m) as [string, string]
            const { last } = await this.erase(user, id, node)
            if (last) for (const listener of this.reapedLast) listener(user)
          }),
        )
        // What was reaped, not the whole list: an entry listed meanwhile keeps its way to be reaped.
        await this.redis.srem(list, ...batch)
      }
      // Last: a node that came back meanwhile adds its entries again once it finds itself out.
      await this.redis.srem(this.keys.userNodes(), node)
    }
  }

  /** The node's list first, then the entry: an entry is never in Redis without a way to reap it. */
  private async write(
    connectionId: string,
    entry: LocalEntry,
    options: UserAddOptions,
  ): Promise<UserAddResult> {
    const { user, info, since } = entry
    // Two commands, in this order (on a cluster the two keys are in different slots).
    await this.redis.sadd(this.keys.nodeUsers(this.nodeId), member(user, connectionId))
    await this.redis.sadd(this.keys.userNodes(), this.nodeId)
    const text = JSON.stringify([this.nodeId, info.transport, info.remoteAddress ?? null])
    const reply = (await USER_ADD.run(
      this.redis,
      [this.keys.user(user), this.keys.userOrder(user)],
      [connectionId, text, since, options.limit ?? -1, options.policy ?? 'refuse'],
    )) as Array<number | string>
    if (reply[0] === 0) return { added: false, count: Number(reply[1]) }
    const evicted: UserConnection[] = []
    for (let i = 2; i + 2 < reply.length; i += 3) {
      evicted.push(decodeEntry(String(reply[i]), Number(reply[i + 1]), String(reply[i + 2])))
    }
    return { added: true, first: reply[1] === 1, evicted }
  }

  private async erase(user: string, connectionId: string, node: string): Promise<UserRemoveResult> {
    const [removed, last] = (await USER_REMOVE.run(
      this.redis,
      [this.keys.user(user), this.keys.userOrder(user)],
      [connectionId, node],
    )) as [number, number]
    return { removed: removed === 1, last: last === 1 }
  }
}

function member(user: string, connectionId: string): string {
  return JSON.stringify([user, connectionId])
}

/** An entry of a user's hash, with its id and age, as the index answers it. */
function decodeEntry(connectionId: string, since: number, raw: string): UserConnection {
  let node: unknown
  let transport: unknown
  let remoteAddress: unknown
  try {
    ;[node, transport, remoteAddress] = JSON.parse(raw) as unknown[]
  } catch {
    // An entry nobody can read still counts; it says what it can.
  }
  const entry: UserConnection = {
    connectionId,
    transport: typeof transport === 'string' ? transport : 'unknown',
    since,
  }
  if (typeof node === 'string') entry.node = node
  if (typeof remoteAddress === 'string') entry.remoteAddress = remoteAddress
  return entry
}
