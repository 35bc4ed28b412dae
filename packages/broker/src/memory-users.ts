/**
 * The user index of the embedded single-node broker (`MemoryBroker.users`): each user's
 * connections in the order they were added, and which user each connection belongs to. A user
 * without connections is forgotten at once, so nothing piles up.
 */
import type {
  BrokerUsersApi,
  UserAddOptions,
  UserAddResult,
  UserConnection,
  UserConnectionInfo,
  UserRemoveResult,
} from './users.js'

export class MemoryUsers implements BrokerUsersApi {
  /** Each user's connections by id, in the order they were added (Map keeps insertion order). */
  private readonly byUser = new Map<string, Map<string, UserConnection>>()
  private readonly userOf = new Map<string, string>()

  constructor(private readonly now: () => number) {}

  async add(
    user: string,
    connectionId: string,
    info: UserConnectionInfo,
    options: UserAddOptions = {},
  ): Promise<UserAddResult> {
    const entry: UserConnection = { connectionId, transport: info.transport, since: this.now() }
    if (info.remoteAddress !== undefined) entry.remoteAddress = info.remoteAddress
    const owner = this.userOf.get(connectionId)
    if (owner !== undefined && owner !== user) await this.remove(connectionId)
    const connections = this.byUser.get(user) ?? new Map<string, UserConnection>()
    const known = connections.get(connectionId)
    if (known) {
      // Replaced in place: the connection keeps its age.
      connections.set(connectionId, { ...entry, since: known.since })
      return { added: true, first: false, evicted: [] }
    }
    const evicted: UserConnection[] = []
    const { limit } = options
    if (limit !== undefined && connections.size >= limit) {
      if ((options.policy ?? 'refuse') === 'refuse' || limit < 1) {
        return { added: false, count: connections.size }
      }
      for (const [id, oldest] of connections) {
        if (connections.size < limit) break
        connections.delete(id)
        this.userOf.delete(id)
        evicted.push(oldest)
      }
    }
    const first = connections.size === 0 && evicted.length === 0
    connections.set(connectionId, entry)
    this.userOf.set(connectionId, user)
    this.byUser.set(user, connections)
    return { added: true, first, evicted }
  }

  async remove(connectionId: string): Promise<UserRemoveResult> {
    const user = this.userOf.get(connectionId)
    if (user === undefined) return { removed: false, last: false }
    this.userOf.delete(connectionId)
    const connections = this.byUser.get(user)
    connections?.delete(connectionId)
    const last = !connections || connections.size === 0
    if (last) this.byUser.delete(user)
    return { removed: true, last, user }
  }

  async list(user: string): Promise<UserConnection[]> {
    return [...(this.byUser.get(user)?.values() ?? [])].map((c) => ({ ...c }))
  }

  async count(user: string): Promise<number> {
    return this.sizeOf(user)
  }

  /** `count`, synchronously (the in-memory lifecycle log asks it). */
  sizeOf(user: string): number {
    return this.byUser.get(user)?.size ?? 0
  }
}
