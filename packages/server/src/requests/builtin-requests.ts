/**
 * Requests every Switchboard server answers, under the reserved `$` prefix (docs/protocol.md):
 * `$history` — the latest retained messages of a channel with history, for an app that wants
 * "the last 50 messages" on join rather than a resume, or (with `before` and `epoch`) the latest of
 * those older than an offset, for reading further back a page at a time; `$presence` — who is in a presence-enabled
 * channel, or only how many (`counts: true`, and always on `'counts'` channels). Both are read-only and allowed only where the connection may subscribe.
 */

import type { Broker } from '@switchboard/broker'
import { ErrorCode, isValidChannel, type JsonValue } from '@switchboard/protocol'
import type { ChannelRules } from '../channels/channel-options.js'
import { readPresence } from '../channels/presence-read.js'
import { SwitchboardError } from '../errors.js'
import type { AnyHandler } from './handlers.js'

/** The most messages one `$history` request returns. */
export const MAX_HISTORY_LIMIT = 1000

export interface BuiltinContext<C> {
  broker: Broker
  rules: ChannelRules
  /** Whether the connection may subscribe to the channel (the server's authorize hook). */
  maySubscribe(conn: C, channel: string): Promise<boolean>
}

function channelOf(data: unknown): string {
  const channel = (data as { channel?: unknown } | null)?.channel
  if (typeof channel !== 'string' || !isValidChannel(channel)) {
    throw new SwitchboardError(ErrorCode.INVALID_PAYLOAD, 'data.channel must be a valid channel name')
  }
  return channel
}

function limitOf(data: unknown): number {
  const limit = (data as { limit?: unknown }).limit
  if (limit === undefined) return 100
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0 || limit > MAX_HISTORY_LIMIT) {
    throw new SwitchboardError(
      ErrorCode.INVALID_PAYLOAD,
      `data.limit must be an integer from 0 to ${MAX_HISTORY_LIMIT}`,
    )
  }
  return limit
}

/** `before` and `epoch` of a `$history` request: both or neither. */
function pageOf(data: unknown): { before: number; epoch: string } | undefined {
  const { before, epoch } = data as { before?: unknown; epoch?: unknown }
  if (before === undefined && epoch === undefined) return undefined
  if (
    typeof before !== 'number' ||
    !Number.isSafeInteger(before) ||
    before < 0 ||
    typeof epoch !== 'string'
  ) {
    throw new SwitchboardError(
      ErrorCode.INVALID_PAYLOAD,
      'data.before (an offset, a non-negative integer) and data.epoch (its epoch) go together',
    )
  }
  return { before, epoch }
}

export function builtinRequests<C>(ctx: BuiltinContext<C>): Record<string, AnyHandler<C>> {
  const allowed = async (conn: C, channel: string) => {
    if (!(await ctx.maySubscribe(conn, channel))) {
      throw new SwitchboardError(ErrorCode.FORBIDDEN, `may not read "${channel}"`)
    }
  }
  return {
    async $history(conn, data): Promise<JsonValue> {
      const channel = channelOf(data)
      const limit = limitOf(data)
      const page = pageOf(data)
      await allowed(conn, channel)
      if (!ctx.rules.get(channel).history) {
        throw new SwitchboardError(ErrorCode.FORBIDDEN, `"${channel}" keeps no history`)
      }
      const { messages, position } = await ctx.broker.recent(
        channel,
        limit,
        page ? { before: page.before } : undefined,
      )
      // Offsets name messages only within their epoch: of another epoch, nothing is older than
      // `before`. The reply's epoch tells the caller to start again from the newest.
      if (page && page.epoch !== position.epoch) {
        return { epoch: position.epoch, offset: position.offset, messages: [] }
      }
      return {
        epoch: position.epoch,
        offset: position.offset,
        messages: messages.map((m) => ({ epoch: m.epoch, offset: m.offset, data: m.data })),
      }
    },
    async $presence(conn, data): Promise<JsonValue> {
      const channel = channelOf(data)
      const counts = (data as { counts?: unknown }).counts
      if (counts !== undefined && typeof counts !== 'boolean') {
        throw new SwitchboardError(ErrorCode.INVALID_PAYLOAD, 'data.counts must be a boolean')
      }
      await allowed(conn, channel)
      const presence = ctx.rules.get(channel).presence
      if (!presence) throw new SwitchboardError(ErrorCode.FORBIDDEN, `"${channel}" has no presence`)
      return (await readPresence(ctx.broker, channel, presence, counts === true)) as unknown as JsonValue
    },
  }
}
