/**
 * The operations dashboard's files (apps/dashboard/dist) at `/dashboard/` on the API's port, for
 * `switchboard serve --dashboard`. `/dashboard` redirects to `/dashboard/`; everything under it is
 * a static file, sent with headers that keep the page (which holds an API session) from being
 * framed, sniffed or made to talk to anything but this server.
 */
import { existsSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { fileURLToPath } from 'node:url'
import { serveStatic } from '@switchboard/server/static'

export const DASHBOARD_PATH = '/dashboard'

/** The built dashboard, when this command runs from the repository. */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../../apps/dashboard/dist', import.meta.url))

const HEADERS = {
  'content-security-policy':
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
}

/**
 * A handler for the dashboard's paths: true if it answered (the path is under `/dashboard`),
 * false for any other path.
 */
export function dashboardFiles(dir = DASHBOARD_DIR): (req: IncomingMessage, res: ServerResponse) => boolean {
  const built = existsSync(`${dir}/index.html`)
  const files = serveStatic(dir)
  return (req, res) => {
    const url = req.url ?? '/'
    const path = url.split('?')[0]!
    if (path !== DASHBOARD_PATH && !path.startsWith(`${DASHBOARD_PATH}/`)) return false
    if (path === DASHBOARD_PATH) {
      res.writeHead(301, { location: `${DASHBOARD_PATH}/` }).end()
      return true
    }
    if (!built) {
      res
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end('the dashboard is not built: run npm run build\n')
      return true
    }
    for (const [name, value] of Object.entries(HEADERS)) res.setHeader(name, value)
    req.url = url.slice(DASHBOARD_PATH.length)
    files(req, res)
    return true
  }
}
