/**
 * `signDashboardLink(key, options)`: a dashboard link's token, signed with an API key (what
 * `switchboard dashboard-link` prints inside a URL). The dashboard exchanges it for a session at
 * once (`POST /api/session`); until then, and after `ttlSeconds`, it is good for nothing else.
 */
import { type KeyAccess, signToken } from './signed-tokens.js'

export interface DashboardLinkOptions {
  /** Seconds the link may be used for; default 600 (10 minutes). */
  ttlSeconds?: number
  /** What the session it opens may do; default `full` (a read-only key's link is refused for it). */
  access?: Exclude<KeyAccess, 'publish'>
  /** Clock in milliseconds; default Date.now. */
  now?: number
}

export function signDashboardLink(key: string, options: DashboardLinkOptions = {}): string {
  const ttl = options.ttlSeconds ?? 600
  if (!Number.isInteger(ttl) || ttl < 1) throw new TypeError('ttlSeconds must be a positive integer')
  const expires = (options.now ?? Date.now()) + ttl * 1000
  return signToken(key, { kind: 'link', access: options.access ?? 'full', expires })
}
