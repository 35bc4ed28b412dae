/**
 * Who the user of this browser is, kept across reloads: the dev login's name and this browser's
 * random id (so one name in two browsers is two members — the server makes the presence user
 * `name#id`), or, on a server that requires JWTs, the sign-in token. A token arrives in the page's
 * URL (`?token=…`, as `switchboard token` prints it) or pasted on the sign-in screen; it is kept
 * in localStorage and taken out of the address bar, so a reload or another tab finds it and the
 * newest token for a user is what `getToken` gives the server when it asks for a fresh one.
 */

const NAME_KEY = 'switchboard.name'
const BROWSER_KEY = 'switchboard.browser'
const TOKEN_KEY = 'switchboard.token'

/** Who the chat shows as "you". */
export interface Me {
  /** Display name: a message's `user`. */
  name: string
  /** The presence user id the server gives this connection. */
  userId: string
  /** A token vouches for the name (JWT); a typed name is only claimed. */
  verified: boolean
}

export function savedName(): string | undefined {
  return localStorage.getItem(NAME_KEY) || undefined
}

export function saveName(name: string | undefined): void {
  if (name === undefined) localStorage.removeItem(NAME_KEY)
  else localStorage.setItem(NAME_KEY, name)
}

/** This browser's random id, made once and kept. */
export function browserId(): string {
  let id = localStorage.getItem(BROWSER_KEY)
  if (!id || !/^[A-Za-z0-9_-]{1,36}$/.test(id)) {
    id = crypto.randomUUID().replace(/-/g, '').slice(0, 10)
    localStorage.setItem(BROWSER_KEY, id)
  }
  return id
}

/** The dev login: the name typed, in this browser. */
export function namedMe(name: string): Me {
  return { name, userId: `${name}#${browserId()}`, verified: false }
}

/** What the app reads from a token (the server verifies it; this only decodes). */
export interface TokenClaims {
  sub: string
  /** `name`, else `sub`: the user, as the server reads it. */
  name: string
  /** Expiry, ms since the epoch; undefined for a token without `exp`. */
  expiresAt: number | undefined
}

/** Decodes a JWT's claims; undefined when it is not a JWT with a `sub`. */
export function claimsOf(token: string): TokenClaims | undefined {
  try {
    const payload = token.split('.')[1]
    if (!payload || token.split('.').length !== 3) return undefined
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/')
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))
    const claims = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>
    const sub = claims.sub
    if (typeof sub !== 'string' || sub === '') return undefined
    const name = typeof claims.name === 'string' && claims.name !== '' ? claims.name : sub
    const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined
    return { sub, name, expiresAt: exp }
  } catch {
    return undefined
  }
}

export function storedToken(): string | undefined {
  const token = localStorage.getItem(TOKEN_KEY) ?? undefined
  return token && claimsOf(token) ? token : undefined
}

/** Keeps `token` unless the stored one is for the same user and lasts longer. */
export function storeToken(token: string): void {
  const claims = claimsOf(token)
  if (!claims) return
  const current = storedToken()
  const kept = current ? claimsOf(current) : undefined
  if (kept && kept.sub === claims.sub && (kept.expiresAt ?? Infinity) > (claims.expiresAt ?? Infinity)) return
  localStorage.setItem(TOKEN_KEY, token)
}

export function forgetToken(): void {
  localStorage.removeItem(TOKEN_KEY)
}

/**
 * The token of the page's URL (stored, then taken out of the address bar, which history, logs and
 * screenshots would keep) or else the stored one.
 */
export function takePageToken(): string | undefined {
  const url = new URL(location.href)
  const token = url.searchParams.get('token')
  if (token) {
    if (claimsOf(token)) storeToken(token)
    url.searchParams.delete('token')
    history.replaceState(null, '', url.href)
    // A token that is not even a JWT is kept for this page only, so the server's refusal is shown.
    if (!claimsOf(token)) return token
  }
  return storedToken()
}

/** The freshest token stored for `sub` (another tab or the sign-in field may have stored one). */
export function freshestToken(sub: string, fallback: string): string {
  const stored = storedToken()
  return stored && claimsOf(stored)?.sub === sub ? stored : fallback
}
