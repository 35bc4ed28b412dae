/**
 * The dashboard's session: a signed session token from the server (`POST /api/session`), made from
 * the API key typed in the login form or from a `switchboard dashboard-link` token in the URL's
 * fragment, and kept in sessionStorage (this tab only, gone when it closes) — the key itself is
 * never stored. `whoami` tells what the session may do.
 */
import { callApi } from './api.js'
import type { Access } from './api-types.js'

const STORAGE_KEY = 'switchboard.dashboard.session'

export interface Session {
  token: string
  access: Access
  expires: number
}

export function storedSession(now = Date.now()): Session | undefined {
  try {
    const session = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as Session | null
    return session && session.expires > now ? session : undefined
  } catch {
    return undefined
  }
}

export function endSession(): void {
  sessionStorage.removeItem(STORAGE_KEY)
}

/** Opens a session with a key or a link token; rejects with the server's refusal. */
export async function openSession(credential: string): Promise<Session> {
  const { token, access, expires } = await callApi('session', {}, credential)
  const session = { token, access, expires }
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session))
  return session
}

/** The link token in the URL's fragment (`#link=…`), removed from the address bar once read. */
export function takeLinkToken(): string | undefined {
  const match = /^#link=([\w.-]+)$/.exec(window.location.hash)
  if (!match) return undefined
  history.replaceState(null, '', `${window.location.pathname}${window.location.search}#/`)
  return match[1]
}
