/**
 * A small static-file handler for the HTTP side of a Switchboard server, so a built web app (the
 * chat app) can be served at `/` next to the WebSocket endpoint. GET and HEAD only; paths are
 * resolved inside the root and anything that escapes it (`..`, encoded or not, or a symbolic link
 * that points outside the root) is a 404.
 * Not a CDN: no ranges, no compression, a short cache for HTML and a long one for hashed assets.
 */
import { createReadStream } from 'node:fs'
import { realpath, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, resolve, sep } from 'node:path'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${text}\n`)
}

/** Returns a request handler serving files under `dir` (`index.html` for directories). */
export function serveStatic(dir: string): (req: IncomingMessage, res: ServerResponse) => void {
  const root = resolve(dir)
  const inside = (path: string, base: string) => path === base || path.startsWith(base + sep)
  return (req, res) => {
    void (async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'method not allowed')
      let pathname: string
      try {
        pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
      } catch {
        return plain(res, 400, 'bad request')
      }
      let file = resolve(join(root, pathname))
      if (!inside(file, root)) return plain(res, 404, 'not found')
      try {
        // Links are followed only to where they really lead, and that must be inside the root too.
        const realRoot = await realpath(root)
        file = await realpath(file)
        let info = await stat(file)
        if (info.isDirectory()) file = await realpath(join(file, 'index.html'))
        if (!inside(file, realRoot)) return plain(res, 404, 'not found')
        info = await stat(file)
        if (!info.isFile()) return plain(res, 404, 'not found')
        const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream'
        res.writeHead(200, {
          'content-type': type,
          'content-length': info.size,
          'cache-control': type.startsWith('text/html') ? 'no-cache' : 'public, max-age=3600',
          'x-content-type-options': 'nosniff',
        })
        if (req.method === 'HEAD') return res.end()
        createReadStream(file)
          .on('error', () => res.destroy())
          .pipe(res)
      } catch {
        plain(res, 404, 'not found')
      }
    })()
  }
}
