/**
 * What every node does with the cluster commands the API sends through `broker.control`: act on
 * its own connections — subscribe, unsubscribe or close those of a user (or one connection by
 * id) — and report its channels and counts. The API's node gathers the answers (api-methods.ts).
 * A command's data is checked before anything is done: a command from another version, or from
 * anything else that writes to the broker, is refused, never half-applied.
 *
 * A connection's user is its presence `userId` (`presence(conn)`, else the token's subject with
 * `tokenAuth`, else the connection id), decided once its user is known; a connection still
 * waiting to authenticate has none. A user's connections on this node come from this node's part
 * of the user index (users/user-index.ts), not from a pass over every connection.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox'
import type { ControlCommand, ControlHandler } from '@switchboard/broker'
import type { ErrorBody, JsonValue } from '@switchboard/protocol'
import type { ClientConnection } from '../connection/connection.js'
import { errorBody } from '../errors.js'
import { compileSchema } from './validation.js'

/** The most channels one node lists in answer to `channels`. */
export const MAX_LISTED_CHANNELS = 10_000
/** The most failed connections one node lists in answer to `subscribe`. */
const MAX_FAILED = 100

const Target = Type.Union([
  Type.Object({ user: Type.String() }, { additionalProperties: false }),
  Type.Object({ connection: Type.String() }, { additionalProperties: false }),
  // Several connections by id (those a per-user limit evicted), each closed by the node that holds it.
  Type.Object({ connections: Type.Array(Type.String()) }, { additionalProperties: false }),
])
const COMMANDS = {
  subscribe: Type.Object({ target: Target, channel: Type.String() }, { additionalProperties: false }),
  unsubscribe: Type.Object({ target: Target, channel: Type.String() }, { additionalProperties: false }),
  disconnect: Type.Object(
    { target: Target, code: Type.Integer(), reason: Type.String() },
    { additionalProperties: false },
  ),
  channels: Type.Object({ pattern: Type.Optional(Type.String()) }, { additionalProperties: false }),
  info: Type.Object({}, { additionalProperties: false }),
} as const satisfies Record<string, TSchema>

export type NodeCommandName = keyof typeof COMMANDS
export type NodeCommandData<N extends NodeCommandName> = Static<(typeof COMMANDS)[N]>
export type Target = Static<typeof Target>

/** The command as `broker.control` carries it. */
export function nodeCommand<N extends NodeCommandName>(type: N, data: NodeCommandData<N>): ControlCommand {
  return { type, data: data as JsonValue }
}

const checks = new Map(Object.entries(COMMANDS).map(([name, schema]) => [name, compileSchema(schema)]))

/** What a node's answer holds, by command (the API reads them back with these types). */
export interface NodeAnswers {
  subscribe: { subscribed: number; failed: Array<{ connection: string; error: ErrorBody }> }
  unsubscribe: { unsubscribed: number }
  disconnect: { disconnected: number }
  /** Each channel with its local subscribers and its messages per second (a third item since the dashboard). */
  channels: { channels: Array<[string, number, number?]>; truncated: boolean }
  info: { node: string; version: string; connections: number; channels: number; subscriptions: number }
}

/** The parts of this node a command acts on. */
export interface NodeParts {
  nodeId: string | undefined
  version: string
  connections: ReadonlyMap<string, ClientConnection>
  /** The connection's user, or undefined while it has none (not authenticated yet). */
  userOf(conn: ClientConnection): string | undefined
  /** This node's connections of `user` (its part of the user index). */
  connectionsOf(user: string): Iterable<ClientConnection>
  join(conn: ClientConnection, channel: string): Promise<unknown>
  leave(conn: ClientConnection, channel: string): Promise<void>
  /** Channels with local subscribers. */
  channels(): Iterable<string>
  /** Local subscribers of a channel. */
  size(channel: string): number
  /** Messages per second published on a channel this node is subscribed to. */
  rate(channel: string): number
}

/**
 * Whether `text` matches a `*` glob (as in the channel options: `*` is any run of characters).
 * Matched in O(pattern × text) steps, not with a regular expression: a pattern comes from an API
 * caller, and `a*a*a*…` as a RegExp backtracks exponentially.
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0
  let t = 0
  let star = -1
  let resume = 0
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === text[t]) {
      p++
      t++
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++
      resume = t
    } else if (star !== -1) {
      p = star + 1
      t = ++resume
    } else {
      return false
    }
  }
  while (pattern[p] === '*') p++
  return p === pattern.length
}

export function nodeCommandHandler(parts: NodeParts): ControlHandler {
  function* targets(target: Target): Iterable<ClientConnection> {
    if ('user' in target) {
      for (const conn of parts.connectionsOf(target.user)) if (conn.state === 'open') yield conn
      return
    }
    const ids = 'connection' in target ? [target.connection] : target.connections
    for (const id of ids) {
      const conn = parts.connections.get(id)
      if (conn?.state === 'open' && parts.userOf(conn) !== undefined) yield conn
    }
  }

  const run: { [N in NodeCommandName]: (data: NodeCommandData<N>) => Promise<NodeAnswers[N]> } = {
    async subscribe({ target, channel }) {
      const failed: NodeAnswers['subscribe']['failed'] = []
      let subscribed = 0
      await Promise.all(
        [...targets(target)].map(async (conn) => {
          try {
            await parts.join(conn, channel)
            subscribed++
          } catch (err) {
            if (failed.length < MAX_FAILED) failed.push({ connection: conn.id, error: errorBody(err) })
          }
        }),
      )
      return { subscribed, failed }
    },
    async unsubscribe({ target, channel }) {
      const subscribed = [...targets(target)].filter((conn) => conn.subscriptions.has(channel))
      await Promise.all(subscribed.map((conn) => parts.leave(conn, channel)))
      return { unsubscribed: subscribed.length }
    },
    async disconnect({ target, code, reason }) {
      let disconnected = 0
      for (const conn of [...targets(target)]) {
        conn.close(code, reason)
        disconnected++
      }
      return { disconnected }
    },
    async channels({ pattern }) {
      const channels: NodeAnswers['channels']['channels'] = []
      let truncated = false
      for (const channel of parts.channels()) {
        if (pattern !== undefined && !globMatch(pattern, channel)) continue
        const size = parts.size(channel)
        if (size === 0) continue
        if (channels.length >= MAX_LISTED_CHANNELS) {
          truncated = true
          break
        }
        channels.push([channel, size, parts.rate(channel)])
      }
      return { channels, truncated }
    },
    async info() {
      let subscriptions = 0
      for (const conn of parts.connections.values()) subscriptions += conn.subscriptions.size
      let channels = 0
      for (const channel of parts.channels()) if (parts.size(channel) > 0) channels++
      return {
        node: parts.nodeId ?? 'local',
        version: parts.version,
        connections: parts.connections.size,
        channels,
        subscriptions,
      }
    },
  }

  return async (command) => {
    const check = Object.hasOwn(COMMANDS, command.type) ? checks.get(command.type) : undefined
    if (!check) throw new Error(`unknown command "${command.type}"`)
    const data = command.data ?? {}
    if (!check(data)) throw new Error(`malformed "${command.type}" command`)
    const name = command.type as NodeCommandName
    const answer = await (run[name] as (d: unknown) => Promise<NodeAnswers[NodeCommandName]>)(data)
    return answer as unknown as JsonValue
  }
}
