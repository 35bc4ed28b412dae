/**
 * Per-channel options, given by pattern: `{ 'chat:*': { history: { size: 500, ttl: '10m' },
 * presence: true, clientPublish: true } }`. `*` matches any run of characters (it is not a valid
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

export interface ChannelOptions {
  /** Keep recent messages for recovery; a number is shorthand for `{ size }`. */
  history?: number | HistoryOptions
  /** Track who is subscribed and send join/leave frames. */
  presence?: boolean
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
  presence: boolean
  clientPublish: boolean
  schema: StandardSchemaV1 | undefined
  maxDataBytes: number | undefined
}

const NONE: ResolvedChannelOptions = Object.freeze({
  history: undefined,
  presence: false,
  clientPublish: false,
  schema: undefined,
  maxDataBytes: undefined,
})

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

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
    presence: options.presence ?? false,
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
