/**
 * Where the chat app connects, and how its users sign in: read from `switchboard.json` next to the
 * page (written by `switchboard serve`: the WebSocket path relative to the app, and `jwt` or
 * `name`). The WebSocket URL is resolved against the page's own location, so the app works under
 * any base path — at `/`, behind a proxy at `/chat/`, or with `serve --path /rt/ws` — never a
 * fixed `/ws`.
 */

export type AuthMode = 'jwt' | 'name' | 'connect-hook'

export interface AppConfig {
  /** The WebSocket endpoint's absolute URL (`ws:` or `wss:`). */
  url: string
  auth: AuthMode
}

/** The directory the page was served from: `https://host/chat/` for `https://host/chat/?x#room`. */
export function appBase(): URL {
  return new URL('.', location.href)
}

/** The WebSocket URL of `path` (relative to the app), with the page's scheme made `ws`/`wss`. */
export function websocketUrl(path: string): string {
  const url = new URL(path, appBase())
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  url.search = ''
  url.hash = ''
  return url.href
}

function isAuthMode(value: unknown): value is AuthMode {
  return value === 'jwt' || value === 'name' || value === 'connect-hook'
}

/**
 * Reads `switchboard.json`. A server that does not write one (an older `serve`, Vite's dev server
 * without the proxy) gets the defaults: `ws` next to the app, names.
 */
export async function loadAppConfig(): Promise<AppConfig> {
  let websocket = 'ws'
  let auth: AuthMode = 'name'
  try {
    const res = await fetch(new URL('switchboard.json', appBase()), { cache: 'no-cache' })
    if (res.ok) {
      const body = (await res.json()) as { websocket?: unknown; auth?: unknown }
      if (typeof body.websocket === 'string' && body.websocket !== '') websocket = body.websocket
      if (isAuthMode(body.auth)) auth = body.auth
    }
  } catch {
    // Offline at load, or no such file: the defaults.
  }
  return { url: websocketUrl(websocket), auth }
}
