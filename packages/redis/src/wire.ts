/**
 * The broker's own encodings in Redis: what travels on a channel's pub/sub channel, what a
 * history entry and a presence entry hold, and what a routed event carries. All are JSON text;
 * the pub/sub and history arrays are built by string concatenation in the Lua scripts around the
 * data, which the publishing node stringifies once (`dataJson`). Everything is decoded here
 * (`parse`), where anything malformed — another program writing under our prefix — is dropped,
 * never thrown.
 *
 *   pub/sub message:  ["m", epoch, offset, except | null, data]
 *   pub/sub presence: ["p", "join" | "leave" | "update" | "count", user | null, connections, users]
 *   history entry:    [storedAtMs, offset, except | null, data]
 *   presence entry:   nodeId \n member
 *   presence user:    the user's JSON members without braces, `"userId":…,"info":…` (the scripts
 *                     wrap it with its connection count)
 *   routed event:     [connectionId, event, data?]
 *
 * Bytes in data (a `Uint8Array`, `Buffer` or `ArrayBuffer` at any depth, presence `info`
 * included) are written in the protocol's JSON form, an object whose single key is `$bin` holding
 * standard base64 — `{"$bin":"AQID"}` — and read back as a `Uint8Array`. That is the one encoding
 * on every path. JSON rather than MessagePack: data without bytes is stored exactly as before
 * (existing keys stay readable, `redis-cli` shows it), the Lua scripts keep building arrays by
 * concatenation, and only payloads that hold bytes pay for it — the replacer runs only when
 * `checkData` found bytes, the reviver only when the text contains `"$bin"`. Base64 is Node's
 * (`Buffer`), many times faster than the portable one for anything but tiny values.
 */

import type { BrokerData, BrokerMessage } from '@switchboard/broker'
import {
  BINARY_KEY,
  checkData,
  type DataValue,
  type PresenceMember,
  type PresenceUser,
} from '@switchboard/protocol'

export interface HistoryEntry {
  at: number
  message: BrokerMessage
}

/**
 * JSON text of data (or of anything holding data: a member, a routed event), bytes in the `$bin`
 * form. Throws a SwitchboardError `invalid_payload` for a value no codec can carry (see
 * `checkData`) — before anything reaches Redis. Without bytes it is plain `JSON.stringify`: the
 * same text as ever.
 */
export function dataJson(value: unknown): string {
  return checkData(value) === 0 ? JSON.stringify(value) : JSON.stringify(value, bytesReplacer)
}

/** Writes bytes as `{"$bin": base64}`; reads the holder's own value, so a Buffer is seen before its toJSON. */
function bytesReplacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key]
  if (raw instanceof Uint8Array) {
    return { [BINARY_KEY]: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') }
  }
  if (raw instanceof ArrayBuffer) return { [BINARY_KEY]: Buffer.from(raw).toString('base64') }
  return value
}

/** Thrown inside JSON.parse for a `$bin` that is not base64: the whole payload is dropped. */
const NOT_BASE64 = new Error('not base64')

/** Turns `{"$bin": base64}` (that one key, a string) back into a fresh `Uint8Array`. */
function bytesReviver(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  const text = (value as Record<string, unknown>)[BINARY_KEY]
  if (typeof text !== 'string' || Object.keys(value).length !== 1) return value
  const decoded = Buffer.from(text, 'base64')
  // Buffer skips what is not base64; a length that does not add up means the text was not base64.
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0
  if (text.length % 4 !== 0 || decoded.length !== (text.length / 4) * 3 - padding) throw NOT_BASE64
  // A copy: a small Buffer is a view into a shared pool, which must not leak to the application.
  return new Uint8Array(decoded)
}

/** Parses JSON text of ours; undefined if it is not JSON. Pays for the reviver only when bytes may be in it. */
export function parse(text: string): unknown {
  try {
    return text.includes(`"${BINARY_KEY}"`) ? JSON.parse(text, bytesReviver) : JSON.parse(text)
  } catch {
    return undefined
  }
}

function isMember(value: unknown): value is PresenceMember {
  if (typeof value !== 'object' || value === null) return false
  const m = value as Record<string, unknown>
  return typeof m.userId === 'string' && typeof m.connectionId === 'string'
}

/** A user as the scripts write it (`{…, "connections": n}`); undefined if it is not one. */
export function toUser(value: unknown): PresenceUser | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const u = value as Record<string, unknown>
  if (typeof u.userId !== 'string' || !Number.isSafeInteger(u.connections)) return undefined
  const user: PresenceUser = { userId: u.userId, connections: u.connections as number }
  if (u.info !== undefined) user.info = u.info as DataValue
  return user
}

const ACTIONS = new Set(['join', 'leave', 'update', 'count'])
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0

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
    data: data as DataValue,
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
  if (v[0] === 'p' && v.length === 5 && ACTIONS.has(v[1]) && isCount(v[3]) && isCount(v[4])) {
    const action = v[1] as 'join' | 'leave' | 'update' | 'count'
    const counts = { connections: v[3], users: v[4] }
    if (action === 'count') {
      const user = v[2] === null ? undefined : toUser(v[2])
      return user
        ? { kind: 'presence', channel, action, user, counts }
        : { kind: 'presence', channel, action, counts }
    }
    const user = toUser(v[2])
    return user && { kind: 'presence', channel, action, user, counts }
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

/** A member's user as the scripts keep it: `dataJson({ userId, info })` without its braces. */
export function userText(member: PresenceMember): string {
  const user: { userId: string; info?: unknown } = { userId: member.userId }
  if (member.info !== undefined) user.info = member.info
  return dataJson(user).slice(1, -1)
}

/** A presence hash entry: the node that added the member, a newline, the member. */
export function presenceEntry(nodeId: string, memberText: string): string {
  return `${nodeId}\n${memberText}`
}

export function decodePresenceEntry(entry: string): PresenceMember | undefined {
  const v = parse(entry.slice(entry.indexOf('\n') + 1))
  return isMember(v) ? v : undefined
}
