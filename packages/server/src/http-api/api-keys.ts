/**
 * The API's keys: `Authorization: Bearer <key>` against the configured keys, each full,
 * read-only or publish-only. Keys are compared as SHA-256 digests with `timingSafeEqual`, against
 * every key each time, so neither the time an answer takes nor where it stops tells anything
 * about a key. A bearer that is a signed token (signed-tokens.ts: the dashboard's link and
 * session) is checked against each key's HMAC and grants at most that key's access. Keys are
 * never logged, and never part of an error message.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { isSignedToken, type KeyAccess, type TokenKind, verifyToken } from './signed-tokens.js'

export interface ApiKey {
  key: string
  /** Only `publish` and `broadcast`; every other method answers 403. */
  publishOnly?: boolean
  /** The methods that read (info, channels, history, presence, connections…); those that act answer 403. */
  readOnly?: boolean
}

/** The shortest key accepted: 16 characters (an `openssl rand -hex 16` is 32). */
export const MIN_KEY_LENGTH = 16

/** Who is calling: what they may do, and with what (a key, or a signed token of that kind). */
export interface Credential {
  access: KeyAccess
  via: 'key' | TokenKind
  /** The key it is (or was signed with): a session token is signed with it. */
  key: string
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest()

/** Whether a credential with `have` may use something that needs `need`. */
export function grants(have: KeyAccess, need: KeyAccess): boolean {
  return have === 'full' || have === need
}

export class ApiKeys {
  private readonly keys: ReadonlyArray<{ digest: Buffer; access: KeyAccess; key: string }>

  constructor(keys: readonly ApiKey[]) {
    if (!Array.isArray(keys) || keys.length === 0) throw new TypeError('httpApi.keys: give at least one key')
    this.keys = keys.map((k, i) => {
      if (typeof k?.key !== 'string' || k.key.length < MIN_KEY_LENGTH || /\s/.test(k.key)) {
        // Which key, by position: never its text.
        throw new TypeError(
          `httpApi.keys[${i}].key must be a string of at least ${MIN_KEY_LENGTH} characters without spaces`,
        )
      }
      if (k.publishOnly === true && k.readOnly === true) {
        throw new TypeError(`httpApi.keys[${i}]: a key is publishOnly or readOnly, not both`)
      }
      const access: KeyAccess = k.publishOnly === true ? 'publish' : k.readOnly === true ? 'read' : 'full'
      return { digest: digest(k.key), access, key: k.key }
    })
  }

  /** The request's credential, or undefined without a valid key or token. */
  credentialOf(req: IncomingMessage): Credential | undefined {
    const header = req.headers.authorization
    const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header)
    if (!match) return undefined
    const bearer = match[1]!
    if (isSignedToken(bearer)) return this.tokenCredential(bearer)
    const given = digest(bearer)
    let found: Credential | undefined
    for (const key of this.keys) {
      if (timingSafeEqual(given, key.digest) && found?.access !== 'full') {
        found = { access: key.access, via: 'key', key: key.key }
      }
    }
    return found
  }

  private tokenCredential(token: string): Credential | undefined {
    for (const key of this.keys) {
      const claims = verifyToken(key.key, token)
      // A token claims no more than its key grants (a read-only key cannot sign a full token).
      if (claims && grants(key.access, claims.access)) {
        return { access: claims.access, via: claims.kind, key: key.key }
      }
    }
    return undefined
  }
}
