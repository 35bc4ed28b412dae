/**
 * One channel's presence in memory (MemoryBroker): its connections, and its users with their
 * connection counts. A user joins with its first connection and leaves with its last — after a
 * grace window, during which it stays a member with 0 connections and a connection of it coming
 * back cancels the leave. Every change is told to `emit` as a BrokerPresence, with the counts
 * after it. RedisBroker's scripts (packages/redis/src/scripts.ts) decide the same way.
 */
import type { JsonValue, PresenceCounts, PresenceMember, PresenceUser } from '@switchboard/protocol'
import type { BrokerPresence, PresenceAction } from './broker.js'

interface UserEntry {
  user: PresenceUser
  /** The pending leave of a user in its grace window. */
  leaving: ReturnType<typeof setTimeout> | undefined
}

export class PresenceRoom {
  readonly connections = new Map<string, PresenceMember>()
  private readonly users = new Map<string, UserEntry>()

  constructor(
    private readonly channel: string,
    private readonly emit: (event: BrokerPresence) => void,
    /** Called when the room became empty (no connection, no user in grace). */
    private readonly emptied: () => void,
  ) {}

  get empty(): boolean {
    return this.connections.size === 0 && this.users.size === 0
  }

  counts(): PresenceCounts {
    return { connections: this.connections.size, users: this.users.size }
  }

  list(): PresenceMember[] {
    return [...this.connections.values()]
  }

  userList(): PresenceUser[] {
    return [...this.users.values()].map((e) => ({ ...e.user }))
  }

  add(member: PresenceMember): void {
    if (this.connections.has(member.connectionId)) this.remove(member.connectionId, 0)
    this.connections.set(member.connectionId, member)
    const entry = this.users.get(member.userId)
    if (!entry) {
      const user: PresenceUser = { userId: member.userId, connections: 1 }
      if (member.info !== undefined) user.info = member.info
      this.users.set(member.userId, { user, leaving: undefined })
      this.tell('join', user)
      return
    }
    clearTimeout(entry.leaving)
    entry.leaving = undefined
    entry.user.connections++
    this.tell('count', entry.user)
  }

  remove(connectionId: string, graceMs: number): void {
    const member = this.connections.get(connectionId)
    if (!member) return
    this.connections.delete(connectionId)
    const entry = this.users.get(member.userId)
    if (!entry) return
    entry.user.connections--
    if (entry.user.connections > 0 || graceMs > 0) {
      if (entry.user.connections === 0) {
        entry.leaving = setTimeout(() => this.leave(member.userId, entry), graceMs)
        entry.leaving.unref?.()
        this.tell('count')
      } else {
        this.tell('count', entry.user)
      }
      return
    }
    this.leave(member.userId, entry)
  }

  update(connectionId: string, info: JsonValue): boolean {
    const member = this.connections.get(connectionId)
    const entry = member && this.users.get(member.userId)
    if (!member || !entry) return false
    member.info = info
    entry.user.info = info
    this.tell('update', entry.user)
    return true
  }

  /** Ends every grace window now (the broker is closing). */
  clear(): void {
    for (const entry of this.users.values()) clearTimeout(entry.leaving)
    this.users.clear()
    this.connections.clear()
  }

  private leave(userId: string, entry: UserEntry): void {
    if (this.users.get(userId) !== entry || entry.user.connections > 0) return
    this.users.delete(userId)
    this.tell('leave', entry.user)
    if (this.empty) this.emptied()
  }

  private tell(action: PresenceAction, user?: PresenceUser): void {
    const event: BrokerPresence = { kind: 'presence', channel: this.channel, action, counts: this.counts() }
    if (user) event.user = { ...user }
    this.emit(event)
  }
}
