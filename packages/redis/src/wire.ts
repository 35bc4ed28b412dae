/**
 * The broker's own encodings in Redis: what travels on a channel's pub/sub channel and what a
 * history entry holds. Both are JSON arrays built by string concatenation in the Lua scripts
 * (the published data is stringified once, by the publishing node), and decoded here, where
 * anything malformed — another program writing under our prefix — is dropped, never thrown.
 *
 *   pub/sub message:  ["m", epoch, offset, except | null, data]
 *   pub/sub presence: ["p", "join" | "leave", member]
 *   history entry:    [storedAtMs, offset, except | null, data]
 */

import type { BrokerData, BrokerMessage } from '@switchboard/broker'
import type { JsonValue, PresenceMember } from '@switchboard/protocol'

export interface HistoryEntry {
  at: number
  message: BrokerMessage
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function isMember(value: unknown): value is PresenceMember {
  if (typeof value !== 'object' || value === null) return false
  const m = value as Record<string, unknown>
  return typeof m.userId === 'string' && typeof m.connectionId === 'string'
}

function message(
  channel: string,
  epoch: string,
  offset: unknown,
  except: unknown,
  data: unknown,
): BrokerMessage | undefined {
  if (!Number.isSafeInteger(offset) || data === undefined) return undefined
  const m: BrokerMessage = {
    kind: 'message',
    channel,
    epoch,
    offset: offset as number,
    data: data as JsonValue,
  }
  if (typeof except === 'string') m.except = except
  return m
}

/** Decodes a pub/sub payload of `channel`; undefined if it is not one of ours. */
export function decodeEvent(channel: string, payload: string): BrokerData | undefined {
  const v = parse(payload)
  if (!Array.isArray(v)) return undefined
  if (v[0] === 'm' && v.length === 5 && typeof v[1] === 'string')
    return message(channel, v[1], v[2], v[3], v[4])
  if (v[0] === 'p' && v.length === 3 && (v[1] === 'join' || v[1] === 'leave') && isMember(v[2])) {
    return { kind: 'presence', channel, action: v[1], member: v[2] }
  }
  return undefined
}

/** Decodes a history entry of `channel` in `epoch`. */
export function decodeEntry(channel: string, epoch: string, entry: string): HistoryEntry | undefined {
  const v = parse(entry)
  if (!Array.isArray(v) || v.length !== 4 || typeof v[0] !== 'number') return undefined
  const m = message(channel, epoch, v[1], v[2], v[3])
  return m && { at: v[0], message: m }
}

/** The presence payload a node publishes on join (leaves are built by the Lua scripts). */
export function encodeJoin(member: PresenceMember): string {
  return `["p","join",${JSON.stringify(member)}]`
}

/** A presence hash entry: the node that added the member, a newline, the member. */
export function encodePresenceEntry(nodeId: string, member: PresenceMember): string {
  return `${nodeId}\n${JSON.stringify(member)}`
}

export function decodePresenceEntry(entry: string): PresenceMember | undefined {
  const v = parse(entry.slice(entry.indexOf('\n') + 1))
  return isMember(v) ? v : undefined
}
