/**
 * What `switchboard serve` tells the web app it serves: `GET <app>/switchboard.json`, read by the
 * chat app before it connects. The WebSocket endpoint is given relative to the app's own URL, so
 * the page finds it under whatever prefix a proxy put in front (nginx at `/chat/` stripping it:
 * the page at `/chat/` connects to `/chat/ws`), and whatever `--path` the server was given. `auth`
 * says how a user is known, so the app can explain a missing token before it tries to connect.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { EffectiveConfig } from './config/load-config.js'

/** The path of the app's configuration, under the app's root. */
export const APP_CONFIG_PATH = '/switchboard.json'

/** The body of `switchboard.json`. */
export interface AppConfig {
  /** The WebSocket endpoint, relative to the app's root URL (`ws` for `--path /ws`). */
  websocket: string
  /**
   * How a connection says who it is: `jwt` (a token is required), `name` (the dev login's
   * `?name=`, unverified), `connect-hook` (the application's backend decides).
   */
  auth: 'jwt' | 'name' | 'connect-hook'
}

export function appConfig(config: EffectiveConfig): AppConfig {
  return {
    websocket: config.path.replace(/^\/+/, ''),
    auth: config.proxy?.connect ? 'connect-hook' : config.jwt ? 'jwt' : 'name',
  }
}

/** Answers `GET /switchboard.json` (returns true), or leaves the request alone (false). */
export function appConfigHandler(
  config: EffectiveConfig,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const body = JSON.stringify(appConfig(config))
  return (req, res) => {
    if ((req.url ?? '').split('?')[0] !== APP_CONFIG_PATH) return false
    if (req.method !== 'GET' && req.method !== 'HEAD') return false
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    })
    res.end(req.method === 'HEAD' ? undefined : body)
    return true
  }
}
