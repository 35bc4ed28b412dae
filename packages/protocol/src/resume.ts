/**
 * The `resume` query parameter of a connection URL: the positions of the server-side
 * subscriptions a client had on its previous connection, so that when the server subscribes it
 * again (`sb.subscribe` in `on('connection')`) the subscription resumes after that position
 * instead of starting from now. Its value is JSON, `{ "<channel>": ["<epoch>", <offset>], … }`,
 * URL-encoded like any query value.
 */

import type { StreamPosition } from './frames.js'
import { DEFAULT_LIMITS, isValidChannel } from './limits.js'

/** The query parameter's name. */
export const RESUME_PARAM = 'resume'

/** Longest `resume` value a server reads, in characters once URL-decoded. */
export const MAX_RESUME_LENGTH = 8192

/** The `resume` value for these positions (not yet URL-encoded). */
export function encodeResume(positions: Iterable<readonly [string, StreamPosition]>): string {
  const out: Record<string, [string, number]> = {}
  for (const [channel, { epoch, offset }] of positions) out[channel] = [epoch, offset]
  return JSON.stringify(out)
}

/**
 * Reads a `resume` value: channel → position. Throws a TypeError that says what is wrong for a
 * value that is too long, not JSON, not an object of `[epoch, offset]` pairs, or that names an
 * invalid channel.
 */
export function parseResume(value: string): Map<string, StreamPosition> {
  if (value.length > MAX_RESUME_LENGTH) {
    throw new TypeError(`the resume parameter is over ${MAX_RESUME_LENGTH} characters`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    throw new TypeError('the resume parameter is not JSON')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new TypeError('the resume parameter must be an object of channel: [epoch, offset]')
  }
  const positions = new Map<string, StreamPosition>()
  for (const [channel, pair] of Object.entries(parsed)) {
    if (!isValidChannel(channel)) throw new TypeError(`the resume parameter names an invalid channel`)
    const [epoch, offset] = Array.isArray(pair) ? pair : []
    if (
      typeof epoch !== 'string' ||
      epoch.length === 0 ||
      epoch.length > DEFAULT_LIMITS.maxIdLength ||
      !Number.isSafeInteger(offset) ||
      (offset as number) < 0
    ) {
      throw new TypeError(`the resume position of "${channel}" must be [epoch, offset]`)
    }
    positions.set(channel, { epoch, offset: offset as number })
  }
  return positions
}
