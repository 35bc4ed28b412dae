/**
 * The cluster commands the operations dashboard sends through `broker.control`, answered by every
 * node beside the HTTP API's own (http-api/node-commands.ts): `stats` — this node's counters and
 * gauges, read from what the server keeps anyway — and `connections` — the details of this node's
 * open connections of a user, of one connection id, or all of them. A command's data is checked
 * before anything is read, as node-commands.ts does.
 */
import { hostname } from 'node:os'
import { type Static, type TSchema, Type } from '@sinclair/typebox'
import type { ControlCommand, ControlHandler } from '@switchboard/broker'
import type { JsonValue } from '@switchboard/protocol'
import type { ClientConnection } from '../connection/connection.js'
import { compileSchema } from '../http-api/validation.js'
import type { EventLoopDelay, NodeCounters } from './node-stats.js'

/** The most channels listed for one connection. */
const MAX_CHANNELS_SHOWN = 100

const COMMANDS = {
  stats: Type.Object({}, { additionalProperties: false }),
  connections: Type.Object(
    {
      user: Type.Optional(Type.String()),
      connection: Type.Optional(Type.String()),
      limit: Type.Integer({ minimum: 1 }),
    },
    { additionalProperties: false },
  ),
} as const satisfies Record<string, TSchema>

export type StatsCommandName = keyof typeof COMMANDS
export type StatsCommandData<N extends StatsCommandName> = Static<(typeof COMMANDS)[N]>

/** One node's numbers: totals since it started, and gauges read now. */
export interface NodeStatsAnswer {
  node: string
  /** Host name and the port it listens on. */
  address: string
  startedAt: number
  connections: number
  channels: number
  subscriptions: number
  eventLoopDelayMs: number
  memory: { rss: number; heapUsed: number }
  totals: {
    messagesIn: number
    messagesOut: number
    handshakesRefused: number
    /** Closes by WebSocket close code. */
    disconnects: Record<string, number>
    recovered: number
    notRecovered: number
    brokerFailures: number
  }
}

export interface ConnectionInfo {
  id: string
  user?: string
  node: string
  transport: string
  address: string
  since: number
  channels: string[]
  subscriptions: number
}

export interface StatsAnswers {
  stats: NodeStatsAnswer
  connections: { connections: ConnectionInfo[]; truncated: boolean }
}

/** The command as `broker.control` carries it. */
export function statsCommand<N extends StatsCommandName>(type: N, data: StatsCommandData<N>): ControlCommand {
  return { type, data: data as JsonValue }
}

/** What a node reads its answers from. */
export interface StatsParts {
  nodeId: string | undefined
  /** The port this node listens on, once it does. */
  port: () => number | undefined
  startedAt: number
  counters: NodeCounters
  eventLoop: EventLoopDelay
  connections: ReadonlyMap<string, ClientConnection>
  userOf(conn: ClientConnection): string | undefined
  handshakesRefused(): number
  disconnects(): Record<number, number>
  /** Channels with a local subscriber. */
  channels(): number
}

const checks = new Map(Object.entries(COMMANDS).map(([name, schema]) => [name, compileSchema(schema)]))

/** Whether the command is one of these (the node answers the others with node-commands.ts). */
export const isStatsCommand = (type: string): type is StatsCommandName => Object.hasOwn(COMMANDS, type)

export function statsCommandHandler(parts: StatsParts): ControlHandler {
  const node = () => parts.nodeId ?? 'local'
  const describe = (conn: ClientConnection): ConnectionInfo => {
    const user = parts.userOf(conn)
    return {
      id: conn.id,
      ...(user === undefined ? {} : { user }),
      node: node(),
      transport: conn.transportKind,
      address: conn.remoteAddress,
      since: conn.openedAt,
      channels: [...conn.subscriptions].slice(0, MAX_CHANNELS_SHOWN),
      subscriptions: conn.subscriptions.size,
    }
  }

  const run: { [N in StatsCommandName]: (data: StatsCommandData<N>) => StatsAnswers[N] } = {
    stats() {
      let subscriptions = 0
      for (const conn of parts.connections.values()) subscriptions += conn.subscriptions.size
      const memory = process.memoryUsage()
      const { counters } = parts
      return {
        node: node(),
        address: `${hostname()}:${parts.port() ?? '?'}`,
        startedAt: parts.startedAt,
        connections: parts.connections.size,
        channels: parts.channels(),
        subscriptions,
        eventLoopDelayMs: Math.round(parts.eventLoop.read() * 100) / 100,
        memory: { rss: memory.rss, heapUsed: memory.heapUsed },
        totals: {
          messagesIn: counters.messagesIn,
          messagesOut: counters.messagesOut,
          handshakesRefused: parts.handshakesRefused(),
          disconnects: { ...parts.disconnects() },
          recovered: counters.recovered,
          notRecovered: counters.notRecovered,
          brokerFailures: counters.brokerFailures,
        },
      }
    },
    connections({ user, connection, limit }) {
      const found: ClientConnection[] = []
      if (connection !== undefined) {
        const conn = parts.connections.get(connection)
        if (conn?.state === 'open') found.push(conn)
      } else {
        for (const conn of parts.connections.values()) {
          if (conn.state !== 'open') continue
          if (user === undefined || parts.userOf(conn) === user) found.push(conn)
        }
      }
      // The map keeps opening order: the newest are last.
      const newest = found.slice(-limit).reverse()
      return { connections: newest.map(describe), truncated: found.length > limit }
    },
  }

  return async (command) => {
    const check = isStatsCommand(command.type) ? checks.get(command.type) : undefined
    if (!check) throw new Error(`unknown command "${command.type}"`)
    const data = command.data ?? {}
    if (!check(data)) throw new Error(`malformed "${command.type}" command`)
    const answer = (run[command.type as StatsCommandName] as (d: unknown) => unknown)(data)
    return answer as JsonValue
  }
}
