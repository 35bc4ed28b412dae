/**
 * Protocol limits and name rules. The codec enforces the string limits on every decoded frame;
 * the server enforces the per-connection ones. The numbers are defaults a server may change and
 * announces in `hello.limits`.
 */

export const PROTOCOL_VERSION = 1
export const SUBPROTOCOL = 'switchboard.v1'

export const DEFAULT_LIMITS = {
  /** Largest frame in bytes; a bigger one closes the connection with 1009. */
  maxPayload: 64 * 1024,
  maxChannelLength: 256,
  maxEventLength: 128,
  maxIdLength: 64,
  maxKeyLength: 128,
  maxTokenLength: 8 * 1024,
  /** Deepest nesting of objects and arrays inside `data`. */
  maxDepth: 32,
  maxSubscriptions: 256,
  maxPendingRequests: 64,
  /** Milliseconds between heartbeats. */
  heartbeat: 25_000,
} as const

const CHANNEL_RE = /^[A-Za-z0-9_\-:.@/=+]+$/
const EVENT_RE = /^\$?[A-Za-z0-9_\-:./]+$/

/** A channel name: 1–256 characters from `A-Z a-z 0-9 _ - : . @ / = +`. `*` is kept for patterns. */
export function isValidChannel(name: string, maxLength: number = DEFAULT_LIMITS.maxChannelLength): boolean {
  return name.length > 0 && name.length <= maxLength && CHANNEL_RE.test(name)
}

/** A request or event name: 1–128 characters from `A-Z a-z 0-9 _ - : . /`; a leading `$` is reserved. */
export function isValidEventName(name: string, maxLength: number = DEFAULT_LIMITS.maxEventLength): boolean {
  return name.length > 0 && name.length <= maxLength && EVENT_RE.test(name)
}
