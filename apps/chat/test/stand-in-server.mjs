// A stand-in for `switchboard serve` (dev mode) until packages/cli has it: the same contract —
// the built chat app at `/`, the WebSocket at `/ws`, `chat:*` with history (500), presence and
// client publish, `typing:*` with client publish, identity from `?name=` (presence userId = the
// name), and the built-in `$history` / `$presence` requests. The e2e test prefers the real CLI
// (packages/cli/dist/bin.js) whenever it exists. Usage: node stand-in-server.mjs --port 8080
import { readFile } from 'node:fs/promises'
import { extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createSwitchboard } from '@switchboard/server'

const dist = fileURLToPath(new URL('../dist/', import.meta.url))
const portArg = process.argv.indexOf('--port')
const port = portArg === -1 ? 8080 : Number(process.argv[portArg + 1])
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
}

async function serveStatic(req, res) {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
  const file = normalize(join(dist, path === '/' ? 'index.html' : path))
  if (!file.startsWith(dist)) return res.writeHead(403).end()
  try {
    const body = await readFile(file)
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body)
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
  }
}

const sb = createSwitchboard({
  port,
  host: '127.0.0.1',
  logger: false,
  onRequest: (req, res) => void serveStatic(req, res),
  channels: {
    'chat:*': { history: 500, presence: true, clientPublish: true },
    'typing:*': { clientPublish: true },
  },
  authenticate: (req) => {
    const name = new URL(req.url ?? '/', 'http://x').searchParams.get('name')?.trim()
    return { name: name || 'guest' }
  },
  presence: (conn) => ({ userId: conn.data.name }),
})

sb.handle('$history', async (_conn, { channel, limit = 100 }) => {
  const position = await sb.broker.position(channel)
  const since = { epoch: position.epoch, offset: Math.max(0, position.offset - Math.min(limit, 500)) }
  const result = await sb.broker.history(channel, since)
  return {
    epoch: result.position.epoch,
    offset: result.position.offset,
    messages: result.messages.map((m) => ({ offset: m.offset, data: m.data })),
  }
})
sb.handle('$presence', async (_conn, { channel }) => ({ members: await sb.broker.presence.list(channel) }))

const address = await sb.ready
console.log(`stand-in switchboard serve listening on http://127.0.0.1:${address.port}`)
process.on('SIGTERM', () => {
  sb.close({ timeout: 2000 }).then(() => process.exit(0))
})
