/**
 * The API's keys: `Authorization: Bearer <key>` against the configured keys, each full or
 * publish-only. Keys are compared as SHA-256 digests with `timingSafeEqual`, against every key
 * each time, so neither the time an answer takes nor where it stops tells anything about a key.
 * Keys are never logged, and never part of an error message.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Access } from './schemas.js'

export interface ApiKey {
  key: string
  /** Only `publish` and `broadcast`; every other method answers 403. */
  publishOnly?: boolean
}

/** The shortest key accepted: 16 characters (an `openssl rand -hex 16` is 32). */
export const MIN_KEY_LENGTH = 16

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest()

export class ApiKeys {
  private readonly keys: ReadonlyArray<{ digest: Buffer; access: Access }>

  constructor(keys: readonly ApiKey[]) {
    if (!Array.isArray(keys) || keys.length === 0) throw new TypeError('httpApi.keys: give at least one key')
    this.keys = keys.map((k, i) => {
      if (typeof k?.key !== 'string' || k.key.length < MIN_KEY_LENGTH || /\s/.test(k.key)) {
        // Which key, by position: never its text.
        throw new TypeError(
          `httpApi.keys[${i}].key must be a string of at least ${MIN_KEY_LENGTH} characters without spaces`,
        )
      }
      return { digest: digest(k.key), access: k.publishOnly === true ? 'publish' : 'full' }
    })
  }

  /** What the request's key allows, or undefined without a valid key. */
  accessOf(req: IncomingMessage): Access | undefined {
    const header = req.headers.authorization
    const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header)
    if (!match) return undefined
    const given = digest(match[1]!)
    let access: Access | undefined
    for (const key of this.keys) {
      if (timingSafeEqual(given, key.digest) && access !== 'full') access = key.access
    }
    return access
  }
}
