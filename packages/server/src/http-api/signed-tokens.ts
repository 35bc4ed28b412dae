/**
 * Signed tokens for the dashboard: a credential the API accepts in place of a key, made without
 * sending the key anywhere. A token is `sbt1.<kind>.<access>.<expires>.<nonce>.<signature>`, the
 * signature an HMAC-SHA256 of everything before it, keyed with one of the API keys; it grants at
 * most what that key grants, until `expires` (seconds since the epoch).
 *
 * - `link`: what `switchboard dashboard-link` prints (short-lived, minutes). It may only be
 *   exchanged for a session (`POST /api/session`).
 * - `session`: what the dashboard keeps in sessionStorage (hours), from a key or a link.
 *
 * Nothing is stored on the server: removing or changing the key invalidates its tokens.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/** What a credential allows: every method, the read methods, or publish and broadcast. */
export type KeyAccess = 'full' | 'read' | 'publish'
export type TokenKind = 'link' | 'session'

const PREFIX = 'sbt1'
const KINDS: readonly TokenKind[] = ['link', 'session']
const ACCESS: readonly KeyAccess[] = ['full', 'read', 'publish']

export interface TokenClaims {
  kind: TokenKind
  access: KeyAccess
  /** Milliseconds since the epoch. */
  expires: number
}

const sign = (key: string, body: string) => createHmac('sha256', key).update(body, 'utf8').digest('base64url')

/** A token signed with `key` (the caller makes sure `access` is no more than the key's own). */
export function signToken(key: string, claims: TokenClaims): string {
  const body = [
    PREFIX,
    claims.kind,
    claims.access,
    Math.floor(claims.expires / 1000),
    randomBytes(6).toString('base64url'),
  ].join('.')
  return `${body}.${sign(key, body)}`
}

export const isSignedToken = (text: string) => text.startsWith(`${PREFIX}.`)

/**
 * The claims of a token signed with `key`, or undefined if it is malformed, signed with another
 * key, or expired at `now`.
 */
export function verifyToken(key: string, token: string, now = Date.now()): TokenClaims | undefined {
  const parts = token.split('.')
  if (parts.length !== 6 || parts[0] !== PREFIX) return undefined
  const [, kind, access, expires] = parts as [string, TokenKind, KeyAccess, string]
  const body = parts.slice(0, 5).join('.')
  const given = Buffer.from(parts[5]!, 'base64url')
  const expected = Buffer.from(sign(key, body), 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
  if (!KINDS.includes(kind) || !ACCESS.includes(access) || !/^\d{1,12}$/.test(expires)) return undefined
  const at = Number(expires) * 1000
  return at > now ? { kind, access, expires: at } : undefined
}
