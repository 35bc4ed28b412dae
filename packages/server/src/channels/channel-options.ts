/**
 * Per-channel options, given by pattern: `{ 'chat:*': { history: { size: 500, ttl: '10m' },
 * presence: 'members', clientPublish: true } }`. `*` matches any run of characters (it is not a valid
 * channel character, so it can only mean a pattern). An exact name wins over patterns; among
 * patterns the longest one wins, so `chat:admin:*` can override `chat:*`.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec'
import type { ResolvedHistory } from '@switchboard/broker'

export interface HistoryOptions {
  /** How many of the latest messages to keep. */
  size: number
  /** How long to keep a message: milliseconds, or a string such as `'30s'`, `'10m'`, `'2h'`. */
  ttl?: number | string
}

/** `'members'`: who is there, per user, with joins, leaves and updates; `'counts'`: only how many. */
export type PresenceMode = 'members' | 'counts'

export interface PresenceOptions {
  /** Default `'members'`. */
  mode?: PresenceMode
  /**
   * Presence changes within this window go out as one `presence` frame per subscriber:
   * milliseconds or a duration string. Default 100 ms for `'members'`, 1 s for `'counts'`; 0 sends
   * each change on its own at once (no coalescing).
   */
  window?: number | string
  /**
   * How long a user whose last connection closed stays a member, so a reconnecting page does not
   * flap (an unsubscribe leaves at once): milliseconds or a duration string. Default 3 s; 0 for none.
   */
  grace?: number | string
  /** Let clients replace their own `info` with a `presence_update` frame (`'members'` only). Default false. */
  clientUpdate?: boolean
}

/** A channel's presence as the server resolved it. */
export interface ResolvedPresence {
  mode: PresenceMode
  /** Milliseconds of the coalescing window; 0: none. */
  windowMs: number
  /** Milliseconds of the leave grace window; 0: none. */
  graceMs: number
  clientUpdate: boolean
}

/** The coalescing window by default, per mode, in ms. */
export const PRESENCE_WINDOW_MS: Readonly<Record<PresenceMode, number>> = { members: 100, counts: 1000 }
/** The leave grace window by default, in ms. */
export const PRESENCE_GRACE_MS = 3000

export interface ChannelOptions {
  /** Keep recent messages for recovery; a number is shorthand for `{ size }`. */
  history?: number | HistoryOptions
  /**
   * Track who is subscribed: `'members'` (or `true`) keeps the member list per user, sent as
   * coalesced joins, leaves and updates; `'counts'` keeps only the connection and user counts, for
   * channels with thousands of members; an object sets the windows too.
   */
  presence?: boolean | PresenceMode | PresenceOptions
  /** Let clients publish with a `publish` frame (otherwise only the server publishes). */
  clientPublish?: boolean
  /**
   * A Standard Schema validator (zod, valibot…) every publication must pass — a client's publish
   * frame and `sb.publish` alike; a failure answers `invalid_payload` with the issues. What it
   * gives (after any transform) is what is published, stored and delivered.
   */
  schema?: StandardSchemaV1
  /**
   * The largest publication this channel takes, in bytes: the size of its data as JSON text, with
   * each bytes value counted as its own length (not its base64). A bigger one — a client's
   * publish frame, `sb.publish`, the HTTP API — is refused with `invalid_payload`. For channels
   * whose data has no schema, a bound well under `maxPayload` (which limits a whole frame).
   * Default: none.
   */
  maxDataBytes?: number
}

export type ChannelOptionsMap = Record<string, ChannelOptions>

export interface ResolvedChannelOptions {
  history: ResolvedHistory | undefined
  /** Undefined on channels without presence. */
  presence: ResolvedPresence | undefined
  clientPublish: boolean
  schema: StandardSchemaV1 | undefined
  maxDataBytes: number | undefined
}

const NONE: ResolvedChannelOptions = Object.freeze({
  history: undefined,
  presence: undefined,
  clientPublish: false,
  schema: undefined,
  maxDataBytes: undefined,
})

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** Parses a duration that may be 0 (a window that is off). */
function parseWindow(value: number | string | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback
  if (value === 0 || value === '0') return 0
  try {
    return parseDuration(value)
  } catch (err) {
    throw new RangeError(`presence.${what}: ${(err as Error).message}`)
  }
}

/** The presence option, resolved: undefined when off. */
export function resolvePresence(option: ChannelOptions['presence']): ResolvedPresence | undefined {
  if (option === undefined || option === false) return undefined
  const o: PresenceOptions = option === true ? {} : typeof option === 'string' ? { mode: option } : option
  const mode = o.mode ?? 'members'
  if (mode !== 'members' && mode !== 'counts')
    throw new RangeError(`presence.mode must be 'members' or 'counts'`)
  return Object.freeze({
    mode,
    windowMs: parseWindow(o.window, PRESENCE_WINDOW_MS[mode], 'window'),
    graceMs: parseWindow(o.grace, PRESENCE_GRACE_MS, 'grace'),
    clientUpdate: mode === 'members' && o.clientUpdate === true,
  })
}

/** Parses `'10m'`, `'30s'`, `'500ms'` or a number of milliseconds. */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') {
    if (!(value > 0)) throw new RangeError(`duration must be positive, got ${value}`)
    return value
  }
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(value.trim())
  if (!match) throw new RangeError(`cannot read duration "${value}" (use e.g. 500ms, 30s, 10m, 2h)`)
  return Number(match[1]) * UNITS[match[2]!]!
}

function resolve(options: ChannelOptions): ResolvedChannelOptions {
  let history: ResolvedHistory | undefined
  if (options.history !== undefined) {
    const h = typeof options.history === 'number' ? { size: options.history } : options.history
    if (!Number.isSafeInteger(h.size) || h.size < 1)
      throw new RangeError('history.size must be a positive integer')
    history = { size: h.size, ttlMs: h.ttl === undefined ? Number.POSITIVE_INFINITY : parseDuration(h.ttl) }
  }
  const { maxDataBytes } = options
  if (maxDataBytes !== undefined && !(Number.isSafeInteger(maxDataBytes) && maxDataBytes > 0))
    throw new RangeError(`maxDataBytes must be a positive integer, got ${maxDataBytes}`)
  return Object.freeze({
    history,
    presence: resolvePresence(options.presence),
    clientPublish: options.clientPublish ?? false,
    schema: options.schema,
    maxDataBytes,
  })
}

export function patternToRegExp(pattern: string): RegExp {
  const escaped = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*')
  return new RegExp(`^${escaped}$`)
}

/**
 * The channel options with the validators of a schema map (`schemas.channels`) added by pattern;
 * a pattern's own `schema` option wins.
 */
export function withChannelSchemas(
  map: ChannelOptionsMap = {},
  schemas: Record<string, StandardSchemaV1> = {},
): ChannelOptionsMap {
  const merged: ChannelOptionsMap = { ...map }
  for (const [pattern, schema] of Object.entries(schemas)) {
    merged[pattern] = { schema, ...merged[pattern] }
  }
  return merged
}

/** The options of every channel, resolved once per name and cached (the cache is bounded). */
export class ChannelRules {
  private readonly exact = new Map<string, ResolvedChannelOptions>()
  private readonly patterns: Array<{ re: RegExp; length: number; options: ResolvedChannelOptions }> = []
  private readonly cache = new Map<string, ResolvedChannelOptions>()

  constructor(map: ChannelOptionsMap = {}) {
    for (const [pattern, options] of Object.entries(map)) {
      const resolved = resolve(options)
      if (pattern.includes('*')) {
        this.patterns.push({ re: patternToRegExp(pattern), length: pattern.length, options: resolved })
      } else {
        this.exact.set(pattern, resolved)
      }
    }
    this.patterns.sort((a, b) => b.length - a.length)
  }

  get(channel: string): ResolvedChannelOptions {
    const cached = this.cache.get(channel)
    if (cached) return cached
    const found = this.exact.get(channel) ?? this.patterns.find((p) => p.re.test(channel))?.options ?? NONE
    // Channel names come from clients: bound the cache so random names cannot grow it forever.
    if (this.cache.size >= 10_000) this.cache.clear()
    this.cache.set(channel, found)
    return found
  }
}
