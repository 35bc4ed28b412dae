/**
 * What a hook is told of a connection's handshake: the headers and cookies its config lists,
 * nothing else, and the token (an `Authorization: Bearer` header, else the `token` query
 * parameter). These values are secrets: they go into hook request bodies and nowhere else —
 * never into a log line or an error message.
 */
import type { IncomingMessage } from 'node:http'
import type { ProxyHook } from './proxy-options.js'

export interface Forwarded {
  headers?: Record<string, string>
  cookies?: Record<string, string>
}

/** The handshake's headers and cookies that `hook` lists (empty parts left out). */
export function forwardedFor(req: IncomingMessage, hook: ProxyHook): Forwarded {
  const out: Forwarded = {}
  if (hook.forwardHeaders?.length) {
    const headers: Record<string, string> = {}
    for (const name of hook.forwardHeaders) {
      const key = name.toLowerCase()
      const value = req.headers[key]
      if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value
    }
    out.headers = headers
  }
  if (hook.forwardCookies?.length) {
    const all = parseCookies(req.headers.cookie)
    const cookies: Record<string, string> = {}
    for (const name of hook.forwardCookies) {
      const value = all.get(name)
      if (value !== undefined) cookies[name] = value
    }
    out.cookies = cookies
  }
  return out
}

/** The token a handshake carries: `Authorization: Bearer <token>`, else `?token=`. */
export function handshakeToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization
  const bearer = header === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1]
  if (bearer !== undefined) return bearer
  const query = new URL(req.url ?? '/', 'http://x').searchParams.get('token')
  return query === null || query === '' ? undefined : query
}

/** A Cookie header's pairs (RFC 6265 §5.4): `a=1; b=2`, values unquoted and left as sent. */
function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>()
  if (!header) return cookies
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const name = part.slice(0, eq).trim()
    let value = part.slice(eq + 1).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    if (name && !cookies.has(name)) cookies.set(name, value)
  }
  return cookies
}
