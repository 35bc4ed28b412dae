/**
 * This node's side of the user index: every open connection is registered with its user — here,
 * by user, and in the broker's index for the whole cluster (`broker.users`) — once its user is
 * known, and taken out when it closes. With `maxConnectionsPerUser`, the broker checks the limit
 * and adds in one atomic step: a refused connection is closed before its hello, and under
 * `closeOldest` the user's oldest connections, on whichever node, are closed to make room
 * (4029). Broker failures are the guarded broker's (logged there, without a flood) and never
 * crash the server or refuse anyone: during an outage a connection is let in uncounted, and the
 * broker adds it once Redis is back.
 */
import type { Broker, UserConnection, UserLimitPolicy } from '@switchboard/broker'
import { CloseCode } from '@switchboard/protocol'
import type { ClientConnection } from '../connection/connection.js'

export interface UserLimit {
  max: number
  policy: UserLimitPolicy
}

export interface UserIndexOptions {
  /** The guarded broker. */
  broker: Broker
  /** `maxConnectionsPerUser` and its policy; undefined: no limit. */
  limit: UserLimit | undefined
  /** This node's open connection with that id. */
  connection(id: string): ClientConnection | undefined
  /** Closes connections of other nodes by id (evicted by `closeOldest`). */
  closeRemote(connectionIds: string[], code: number, reason: string): Promise<unknown>
}

/** The reason a connection refused or closed for the per-user limit is given. */
export const LIMIT_REASON = {
  refuse: 'too many connections for this user',
  closeOldest: 'replaced by a newer connection of this user',
} as const

export class UserIndex {
  private readonly byUser = new Map<string, Set<ClientConnection>>()
  private readonly users = new Map<ClientConnection, string>()
  /** The broker add of each connection, while it runs: its remove waits for it. */
  private readonly adding = new Map<ClientConnection, Promise<unknown>>()
  /**
   * Told when a user gets its first connection in the cluster, or loses its last (as the broker
   * decided it, once for the cluster): set once by the user webhooks.
   */
  transitions: ((user: string, change: 'first' | 'last') => void) | undefined

  constructor(private readonly o: UserIndexOptions) {}

  /** Whether the index gates new connections (a limit is set): they wait for `admit` before their hello. */
  get gated(): boolean {
    return this.o.limit !== undefined
  }

  /**
   * Registers an open connection of `user`. Resolves false when the per-user limit refuses it
   * (the caller closes it with 4029); true otherwise, a broker failure included.
   */
  async admit(conn: ClientConnection, user: string): Promise<boolean> {
    const local = this.byUser.get(user) ?? new Set<ClientConnection>()
    local.add(conn)
    this.byUser.set(user, local)
    this.users.set(conn, user)
    const { limit } = this.o
    const info = { transport: conn.transportKind, remoteAddress: conn.remoteAddress }
    const adding = this.o.broker.users.add(
      user,
      conn.id,
      info,
      limit && { limit: limit.max, policy: limit.policy },
    )
    this.adding.set(conn, adding)
    let result: Awaited<typeof adding>
    try {
      result = await adding
    } catch {
      return true
    } finally {
      if (this.adding.get(conn) === adding) this.adding.delete(conn)
    }
    if (!result.added) {
      this.forget(conn)
      return false
    }
    if (result.evicted.length > 0) this.evict(result.evicted)
    if (result.first) this.transitions?.(user, 'first')
    return true
  }

  /** Takes a closed connection out, here and in the broker (after its add, if that still runs). */
  release(conn: ClientConnection): void {
    if (!this.forget(conn)) return
    const adding = this.adding.get(conn)
    const remove = () =>
      this.o.broker.users.remove(conn.id).then(
        (result) => {
          if (result.last && result.user !== undefined) this.transitions?.(result.user, 'last')
        },
        () => {},
      )
    if (adding) void adding.then(remove, remove)
    else void remove()
  }

  /** This node's open connections of `user`. */
  connectionsOf(user: string): ClientConnection[] {
    return [...(this.byUser.get(user) ?? [])]
  }

  userOf(conn: ClientConnection): string | undefined {
    return this.users.get(conn)
  }

  /** Closes the connections `closeOldest` took out of the index: here directly, elsewhere by their node. */
  private evict(evicted: UserConnection[]): void {
    const code = CloseCode.TOO_MANY_CONNECTIONS
    const remote: string[] = []
    for (const gone of evicted) {
      const here = this.o.connection(gone.connectionId)
      if (here && this.users.has(here)) {
        // Already out of the broker's index: only this node's map forgets it.
        this.forget(here)
        here.close(code, LIMIT_REASON.closeOldest)
      } else {
        remote.push(gone.connectionId)
      }
    }
    if (remote.length > 0) void this.o.closeRemote(remote, code, LIMIT_REASON.closeOldest).catch(() => {})
  }

  private forget(conn: ClientConnection): boolean {
    const user = this.users.get(conn)
    if (user === undefined) return false
    this.users.delete(conn)
    const local = this.byUser.get(user)
    local?.delete(conn)
    if (local?.size === 0) this.byUser.delete(user)
    return true
  }
}
