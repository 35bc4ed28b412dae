/**
 * What each API method does, on the node that was called: publishes through the server's own
 * `publish` (the channel's schema and the payload checks), reads through the guarded broker (a
 * broker failure is `unavailable`), and sends every cluster-wide method as one command to every
 * node (`broker.control`, node-commands.ts), adding up their answers. `nodes` in an answer says
 * how many nodes the command reached and how many answered in time.
 */
import type { Broker, ControlResult } from '@switchboard/broker'
import { ErrorCode, type JsonValue, type StreamPosition } from '@switchboard/protocol'
import type { RevokeRequest, RevokeResult } from '../auth/revocations.js'
import type { ChannelRules } from '../channels/channel-options.js'
import { readPresence } from '../channels/presence-read.js'
import { disconnectCode, disconnectEverywhere } from '../users/disconnect.js'
import { ApiError, errorAnswer } from './api-error.js'
import type { Credential } from './api-keys.js'
import { DASHBOARD_API_METHODS } from './dashboard-methods.js'
import {
  type NodeAnswers,
  type NodeCommandData,
  type NodeCommandName,
  nodeCommand,
  type Target,
} from './node-commands.js'
import type { MethodName, RequestOf, ResponseOf } from './schemas.js'

export interface ApiContext {
  /** `sb.publish`. */
  publish(channel: string, data: unknown, key: string | undefined): Promise<StreamPosition>
  /** `sb.revoke`. */
  revoke(request: RevokeRequest): Promise<RevokeResult>
  /** The guarded broker. */
  broker: Broker
  rules: ChannelRules
  version: string
  /** How long a cluster command waits for the nodes. */
  commandTimeoutMs: number
}

type Methods = {
  [N in MethodName]: (ctx: ApiContext, body: RequestOf<N>, caller: Credential) => Promise<ResponseOf<N>>
}

const DEFAULT_HISTORY_LIMIT = 100

/** A command to every node, and each answer that came back ok (failed answers count as not answered). */
async function everyNode<N extends NodeCommandName>(
  ctx: ApiContext,
  type: N,
  data: NodeCommandData<N>,
): Promise<{ answers: Array<NodeAnswers[N]>; nodes: { reached: number; answered: number } }> {
  const result: ControlResult = await ctx.broker.control(nodeCommand(type, data), {
    timeoutMs: ctx.commandTimeoutMs,
  })
  const answers = result.replies.flatMap((r) => (r.ok ? [r.data as unknown as NodeAnswers[N]] : []))
  return { answers, nodes: { reached: result.reached, answered: answers.length } }
}

function targetOf(body: { user?: string; connection?: string }): Target {
  return body.user !== undefined ? { user: body.user } : { connection: body.connection! }
}

export const API_METHODS: Methods = {
  async publish(ctx, { channel, data, key }) {
    const { epoch, offset } = await ctx.publish(channel, data, key)
    return { epoch, offset }
  },

  async broadcast(ctx, { channels, data, key }) {
    const results = await Promise.all(
      channels.map(async (channel) => {
        try {
          const { epoch, offset } = await ctx.publish(channel, data, key)
          return { channel, epoch, offset }
        } catch (err) {
          return { channel, error: errorAnswer(err).body }
        }
      }),
    )
    return { results } as ResponseOf<'broadcast'>
  },

  async history(ctx, { channel, limit = DEFAULT_HISTORY_LIMIT, since }) {
    if (!ctx.rules.get(channel).history) {
      throw new ApiError(ErrorCode.FORBIDDEN, `"${channel}" keeps no history`)
    }
    const shape = (m: { epoch: string; offset: number; data: JsonValue }) => ({
      epoch: m.epoch,
      offset: m.offset,
      data: m.data,
    })
    if (since === undefined) {
      const { messages, position } = await ctx.broker.recent(channel, limit)
      return { ...position, messages: messages.map(shape) }
    }
    const found = await ctx.broker.history(channel, since)
    return {
      ...found.position,
      complete: found.complete,
      messages: found.complete ? found.messages.slice(0, limit).map(shape) : [],
    }
  },

  async presence(ctx, { channel, counts }) {
    const presence = ctx.rules.get(channel).presence
    if (!presence) throw new ApiError(ErrorCode.FORBIDDEN, `"${channel}" has no presence`)
    const read = await readPresence(ctx.broker, channel, presence, counts === true)
    const answer: ResponseOf<'presence'> = { connections: read.connections, users: read.users }
    if (read.members) answer.members = read.members.map((m) => ({ ...m }))
    return answer
  },

  async channels(ctx, { pattern }) {
    const { answers, nodes } = await everyNode(ctx, 'channels', pattern === undefined ? {} : { pattern })
    const counts = new Map<string, { subscribers: number; rate: number }>()
    for (const answer of answers) {
      for (const [channel, size, rate = 0] of answer.channels) {
        const seen = counts.get(channel)
        // Every node subscribed to a channel sees all its messages: the rate is the largest seen.
        counts.set(channel, {
          subscribers: (seen?.subscribers ?? 0) + size,
          rate: Math.max(seen?.rate ?? 0, rate),
        })
      }
    }
    const channels = [...counts]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([channel, { subscribers, rate }]) => ({
        channel,
        subscribers,
        messagesPerSecond: rate,
        history: ctx.rules.get(channel).history?.size ?? 0,
      }))
    return { channels, truncated: answers.some((a) => a.truncated), nodes }
  },

  async info(ctx) {
    const { answers, nodes } = await everyNode(ctx, 'info', {})
    return {
      version: ctx.version,
      connections: answers.reduce((sum, a) => sum + a.connections, 0),
      nodes: answers.sort((a, b) => (a.node < b.node ? -1 : 1)),
      reached: nodes.reached,
    }
  },

  async subscribe(ctx, body) {
    const { answers, nodes } = await everyNode(ctx, 'subscribe', {
      target: targetOf(body),
      channel: body.channel,
    })
    return {
      subscribed: answers.reduce((sum, a) => sum + a.subscribed, 0),
      failed: answers.flatMap((a) => a.failed).slice(0, 100),
      nodes,
    } as ResponseOf<'subscribe'>
  },

  async unsubscribe(ctx, body) {
    const { answers, nodes } = await everyNode(ctx, 'unsubscribe', {
      target: targetOf(body),
      channel: body.channel,
    })
    return { unsubscribed: answers.reduce((sum, a) => sum + a.unsubscribed, 0), nodes }
  },

  async revoke(ctx, { jti, user, issuedBefore }) {
    if (jti !== undefined && issuedBefore !== undefined) {
      throw new ApiError(ErrorCode.INVALID_FRAME, 'revoke: "issuedBefore" goes with "user", not "jti"', [
        { message: 'only with "user"', path: ['issuedBefore'] },
      ])
    }
    const request: RevokeRequest =
      jti !== undefined
        ? { jti }
        : { user: user!, ...(issuedBefore === undefined ? {} : { issuedBefore: issuedBefore * 1000 }) }
    const { expiresAt } = await ctx.revoke(request)
    return { expiresAt: expiresAt.getTime() / 1000 }
  },

  async disconnect(ctx, body) {
    const reason = body.reason ?? ''
    if (Buffer.byteLength(reason) > 123) {
      throw new ApiError(ErrorCode.INVALID_FRAME, 'disconnect: "reason" must be at most 123 bytes of UTF-8', [
        { message: 'at most 123 bytes of UTF-8', path: ['reason'] },
      ])
    }
    // The same path as `sb.disconnectUser`: terminal 4004 by default, 4103 with `reconnect`.
    return disconnectEverywhere(
      ctx.broker,
      targetOf(body),
      disconnectCode(body),
      reason,
      ctx.commandTimeoutMs,
    )
  },

  ...DASHBOARD_API_METHODS,
}
