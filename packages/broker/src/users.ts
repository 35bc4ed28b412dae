/**
 * The user index, a part of the Broker seam (`broker.users`): which connections, on which nodes,
 * belong to a user, for the whole cluster. The server adds each connection once it knows its
 * user and removes it when it closes; `add` may enforce a per-user limit in the same atomic step
 * as the count. `add` and `remove` report whether the user just came online anywhere (`first`)
 * or went offline everywhere (`last`), decided once by the broker for the whole cluster — what
 * lifecycle hooks with a grace window build on (see docs/scaling.md). A broker shared by several
 * nodes takes a dead node's entries out on its own (RedisBroker: within nodeTtl + heartbeat).
 */

/** What the server tells the index about a connection when it adds it. */
export interface UserConnectionInfo {
  /** The transport that carries it: `websocket`, `sse` or `long-polling`. */
  transport: string
  /** The client's address, as the server saw it. */
  remoteAddress?: string
}

/** One connection of a user, as the index holds it. */
export interface UserConnection extends UserConnectionInfo {
  connectionId: string
  /** The node that holds it: its broker's `nodeId` (absent with a single-node broker). */
  node?: string
  /** When it was added, in milliseconds since the epoch (by the clock of the node that added it). */
  since: number
}

/** What `add` does when the user already has `limit` connections. */
export type UserLimitPolicy = 'refuse' | 'closeOldest'

export interface UserAddOptions {
  /**
   * At most this many connections for the user in the whole cluster, this one included. Checked
   * and applied in the same atomic step as the add, so two nodes adding at once cannot both pass.
   */
  limit?: number
  /**
   * At the limit: `refuse` (default) leaves the index as it is and answers `added: false`;
   * `closeOldest` takes the user's oldest entries out (by `since`) to make room and lists them in
   * `evicted`, for the caller to close.
   */
  policy?: UserLimitPolicy
}

/** What `add` did. */
export type UserAddResult =
  | {
      added: true
      /** The user had no connection anywhere before this one (and no eviction made room for it). */
      first: boolean
      /** Entries taken out to make room (`closeOldest`), oldest first; empty otherwise. */
      evicted: UserConnection[]
    }
  | {
      added: false
      /** The user's connections in the index: the limit or more. */
      count: number
    }

/** What `remove` did. */
export interface UserRemoveResult {
  /** The connection was in the index (false if it never was, or was evicted or reaped). */
  removed: boolean
  /** This removal left its user without any connection in the cluster. */
  last: boolean
  /** The user the connection belonged to, when it was removed. */
  user?: string
}

export interface BrokerUsersApi {
  /**
   * Adds a connection of `user` (made on this node). Adding a connection that is already there
   * replaces its info and reports `first: false`. Rejects if the broker could not take it.
   */
  add(
    user: string,
    connectionId: string,
    info: UserConnectionInfo,
    options?: UserAddOptions,
  ): Promise<UserAddResult>
  /** Removes a connection this node added; a connection it does not know is a no-op. */
  remove(connectionId: string): Promise<UserRemoveResult>
  /** The user's connections in the whole cluster, oldest first. */
  list(user: string): Promise<UserConnection[]>
  /** How many connections the user has in the whole cluster. */
  count(user: string): Promise<number>
  /**
   * Calls `listener` with each user whose last connection the broker took out itself — the
   * entries of a dead node, reaped — on the node that did it. (A single-node broker never does.)
   */
  onReapedLast?(listener: (user: string) => void): void
}
