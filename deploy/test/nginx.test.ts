// deploy/nginx/switchboard.conf, run by the real nginx binary in front of real `switchboard serve`
// processes (and, for the header and streaming checks, in front of a small recording upstream).
// nginx missing is a failure with the command that installs it, never a skip.

import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, get, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SwitchboardClient } from '@switchboard/client'
import { DEFAULT_LIMITS } from '@switchboard/protocol'
import { launchChromium } from '@switchboard/testing/browser'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import {
  deployDir,
  findBinary,
  freePort,
  kill,
  type Node,
  type Proc,
  repoRoot,
  requireBuiltCli,
  serve,
  start,
  waitFor,
  waitForPort,
} from './support.js'

const CONF = join(deployDir, 'nginx/switchboard.conf')

/** The nginx binary; its absence fails each test that needs it (CI installs it), never skips one. */
function nginxBinary(): string {
  const found = findBinary('nginx')
  if (!found) {
    throw new Error(
      'nginx is not installed, and deploy/nginx/switchboard.conf is tested with the real binary: ' +
        '`apt-get install -y --no-install-recommends nginx` (.ci/run installs it)',
    )
  }
  return found
}

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/**
 * The deploy conf with this test's upstream ports and listen port put in. Each substitution must
 * match, so a conf that drifts from its documented shape fails here instead of testing nothing.
 */
function substitute(conf: string, upstreamPorts: readonly number[], listenPort: number): string {
  const blocks = [...conf.matchAll(/^upstream (\w+) \{\n([\s\S]*?)^\}/gm)]
  if (blocks.length === 0) throw new Error('no upstream block')
  let out = conf
  for (const [block, name, body = ''] of blocks) {
    const nodes = [...body.matchAll(/^(\s*)server 127\.0\.0\.1:\d+( [^;\n]*)?;\n/gm)]
    if (nodes.length < 2)
      throw new Error(`upstream ${name} should list several \`server 127.0.0.1:PORT\` nodes`)
    const [first, ...rest] = nodes
    const lines = upstreamPorts.map((port) => `${first![1]}server 127.0.0.1:${port}${first![2] ?? ''};\n`)
    let replaced = body.replace(first![0], lines.join(''))
    for (const node of rest) replaced = replaced.replace(node[0], '')
    out = out.replace(block, block.replace(body, replaced))
  }
  const listens = [...out.matchAll(/^\s*listen (80|\[::\]:80);\n/gm)]
  if (listens.length !== 2) throw new Error('the server should `listen 80;` and `listen [::]:80;`')
  return out.replace(listens[0]![0], `    listen 127.0.0.1:${listenPort};\n`).replace(listens[1]![0], '')
}

interface Nginx extends Proc {
  port: number
  base: string
  conf: string
}

/** Runs nginx (as this user, in a scratch prefix) with the deploy conf in front of `ports`. */
async function startNginx(ports: readonly number[], httpExtra = ''): Promise<Nginx> {
  const nginxBin = nginxBinary()
  const dir = mkdtempSync(join(tmpdir(), 'sb-nginx-'))
  mkdirSync(join(dir, 'tmp'))
  const port = await freePort()
  const conf = substitute(readFileSync(CONF, 'utf8'), ports, port)
  writeFileSync(join(dir, 'switchboard.conf'), conf)
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => `  ${kind}_temp_path ${join(dir, 'tmp', kind)};`)
    .join('\n')
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      // As root nginx would hand its workers to `nobody`, who cannot enter this private directory.
      process.getuid?.() === 0 ? 'user root;' : '',
      'worker_processes 1;',
      `error_log ${join(dir, 'error.log')} notice;`,
      `pid ${join(dir, 'nginx.pid')};`,
      'events { worker_connections 512; }',
      'http {',
      `  access_log ${join(dir, 'access.log')};`,
      `  ${httpExtra}`,
      temp,
      `  include ${join(dir, 'switchboard.conf')};`,
      '}',
      '',
    ].join('\n'),
  )
  const args = ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')]
  const check = start(nginxBin, ['-t', ...args])
  if ((await check.exited) !== 0) throw new Error(`nginx -t refused the conf:\n${check.output()}`)
  const proc = start(nginxBin, [...args, '-g', 'daemon off;'])
  cleanups.push(async () => {
    if (proc.child.exitCode === null) {
      proc.child.kill('SIGTERM')
      await proc.exited
    }
    rmSync(dir, { recursive: true, force: true })
  })
  await Promise.race([
    waitForPort(port, 'nginx to listen'),
    proc.exited.then((code) => {
      throw new Error(`nginx exited with ${code}:\n${proc.output()}\n${readFileSync(join(dir, 'error.log'))}`)
    }),
  ])
  return { ...proc, port, base: `http://127.0.0.1:${port}`, conf }
}

async function node(staticDir: string): Promise<Node> {
  requireBuiltCli()
  const n = await serve([
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--static',
    staticDir,
    '--drain-timeout',
    '3000',
  ])
  cleanups.push(() => kill(n))
  return n
}

/** A client straight to one node, for looking at that node's presence: its users. */
async function presenceOn(url: string, channel: string): Promise<string[]> {
  const probe = new SwitchboardClient(url)
  try {
    const reply = (await probe.request('$presence', { channel })) as {
      members: Array<{ userId: string }>
    }
    return reply.members.map((m) => m.userId)
  } finally {
    probe.close()
  }
}

/** An SSE stream read as the transport's events: the `session` event's id, then one frame per `data:`. */
function openSse(url: string) {
  const state = {
    session: undefined as string | undefined,
    frames: [] as Array<{ type: string; id?: string }>,
    close: () => {},
  }
  let buffer = ''
  const req = get(url, (res) => {
    res.setEncoding('utf8')
    res.on('data', (chunk: string) => {
      buffer += chunk
      for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
        const event = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const data = /^data: (.*)$/m.exec(event)?.[1]
        if (data === undefined) continue
        if (/^event: session$/m.test(event)) state.session = data
        else state.frames.push(JSON.parse(data) as { type: string; id?: string })
      }
    })
  })
  req.on('error', () => {})
  state.close = () => req.destroy()
  return state
}

function seconds(value: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(value)
  if (!m) throw new Error(`not an nginx time: ${value}`)
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] ?? 's'] ?? 1
  return Number(m[1]) * unit
}

describe('deploy/nginx/switchboard.conf', () => {
  it('keeps proxied connections open across heartbeats, and frees dead ones within minutes', () => {
    const conf = readFileSync(CONF, 'utf8')
    const timeouts = [...conf.matchAll(/proxy_read_timeout (\S+);/g)].map((m) => seconds(m[1]!))
    expect(timeouts.length).toBeGreaterThanOrEqual(3)
    for (const t of timeouts) {
      // The server pings every `heartbeat` ms: the proxy must outlast two intervals of silence.
      expect(t).toBeGreaterThanOrEqual((2 * DEFAULT_LIMITS.heartbeat) / 1000)
      expect(t).toBeLessThanOrEqual(600)
    }
    expect(conf).toMatch(/map \$http_upgrade \$connection_upgrade \{/)
    // Every upstream lists the same nodes (an operator adding one must not forget a list).
    const lists = [...conf.matchAll(/^upstream \w+ \{\n([\s\S]*?)^\}/gm)].map((b) =>
      [...b[1]!.matchAll(/^\s*server (\S+)/gm)].map((m) => m[1]),
    )
    expect(lists.length).toBe(2)
    expect(lists[1]).toEqual(lists[0])
  })

  it('proxies a Switchboard client: subscribe, publish, request; on SIGTERM it gets 1012 and moves node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-static-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    writeFileSync(join(dir, 'index.html'), '<h1>switchboard via nginx</h1>')
    const nodes = await Promise.all([node(dir), node(dir)])
    const proxy = await startNginx(nodes.map((n) => n.port))

    expect((await fetch(`${proxy.base}/healthz`)).status).toBe(200)
    expect(await (await fetch(`${proxy.base}/`)).text()).toBe('<h1>switchboard via nginx</h1>')
    expect((await fetch(`${proxy.base}/metrics`)).status).toBe(403)

    const client = new SwitchboardClient(`ws://127.0.0.1:${proxy.port}/ws?name=ada`)
    cleanups.push(() => client.close())
    const states: Array<{ newState: string; closeCode?: number }> = []
    client.on('state', (s) => states.push(s))
    const room = client.channel('chat:deploy')
    const received: string[] = []
    room.on('publication', ({ data }) => received.push((data as { text: string }).text))
    await waitFor(() => room.state === 'subscribed', 'the subscription through nginx')

    await room.publish({ text: 'one' })
    await waitFor(() => received.includes('one'), 'the message back through nginx')
    const history = (await client.request('$history', { channel: 'chat:deploy' })) as {
      messages: Array<{ data: { text: string } }>
    }
    expect(history.messages.map((m) => m.data.text)).toEqual(['one'])

    // Which node holds the connection: presence is per node with the in-memory broker, and the
    // client is its only user (`ada`).
    const first = client.connectionId!
    const on = await Promise.all(nodes.map((n) => presenceOn(n.url, 'chat:deploy')))
    expect(on.flat()).toEqual(['ada'])
    const holder = on.findIndex((users) => users.includes('ada'))
    const [draining, other] = holder === 0 ? [nodes[0]!, nodes[1]!] : [nodes[1]!, nodes[0]!]

    draining.child.kill('SIGTERM')
    await waitFor(
      () => states.some((s) => s.newState === 'reconnecting' && s.closeCode === 1012),
      'the client to see 1012',
    )
    await waitFor(() => client.state === 'connected' && client.connectionId !== first, 'a reconnect')
    expect(await draining.exited).toBe(0)
    expect(draining.output()).toContain('switchboard stopped')

    await waitFor(() => room.state === 'subscribed', 'the resubscribe')
    expect(await presenceOn(other.url, 'chat:deploy')).toEqual(['ada'])
    await room.publish({ text: 'two' })
    await waitFor(() => received.includes('two'), 'a message on the other node')
    expect(received).toEqual(['one', 'two'])
  })

  it('keeps every request of an SSE or long-poll session on the node that opened it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-static-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const nodes = await Promise.all([node(dir), node(dir)])
    const proxy = await startNginx(nodes.map((n) => n.port))
    const request = (id: string) =>
      JSON.stringify({ type: 'request', id, event: '$history', data: { channel: 'chat:fallback' } })

    // SSE: the stream stays open on one node; frames are POSTed to /ws/sse/<id> separately, and
    // while the stream holds a connection there, a least-connections choice would pick the other node.
    const stream = openSse(`${proxy.base}/ws/sse`)
    cleanups.push(() => stream.close())
    const session = await waitFor(() => stream.session, 'the SSE session id')
    await waitFor(() => stream.frames.some((f) => f.type === 'hello'), 'hello over SSE')
    for (const id of ['s1', 's2', 's3']) {
      const res = await fetch(`${proxy.base}/ws/sse/${session}`, { method: 'POST', body: request(id) })
      expect(res.status, await res.text()).toBe(204)
      await waitFor(
        () => stream.frames.some((f) => f.type === 'reply' && f.id === id),
        `reply ${id} over SSE`,
      )
    }

    // Long-polling: open, then alternate POSTs of frames and GETs of what the node queued.
    const opened = await fetch(`${proxy.base}/ws/poll`, { method: 'POST' })
    expect(opened.status).toBe(200)
    const { session: poll } = (await opened.json()) as { session: string }
    const frames: Array<{ type: string; id?: string }> = []
    const get = async () => {
      const res = await fetch(`${proxy.base}/ws/poll/${poll}`)
      expect(res.status).toBe(200)
      frames.push(...((await res.json()) as typeof frames))
    }
    await get()
    expect(frames[0]?.type).toBe('hello')
    for (const id of ['p1', 'p2', 'p3']) {
      const res = await fetch(`${proxy.base}/ws/poll/${poll}`, { method: 'POST', body: request(id) })
      expect(res.status, await res.text()).toBe(204)
      while (!frames.some((f) => f.type === 'reply' && f.id === id)) await get()
    }
    await fetch(`${proxy.base}/ws/poll/${poll}`, { method: 'DELETE' })
  })
})

describe('deploy/nginx/switchboard.conf, the chat app under /chat/', () => {
  it('serves the chat app at /chat/ in Chromium: it finds its WebSocket at /chat/ws and two people chat', async () => {
    // The real app, built from its sources if they changed since its last build.
    const built = spawnSync(process.execPath, ['scripts/build-apps.mjs', 'chat'], {
      cwd: repoRoot,
      encoding: 'utf8',
    })
    if (built.status !== 0) throw new Error(`building the chat app failed:\n${built.stdout}${built.stderr}`)
    // One node: with the in-memory broker two nodes would not share the room's members.
    const chat = await node(join(repoRoot, 'apps/chat/dist'))
    const proxy = await startNginx([chat.port])
    expect((await fetch(`${proxy.base}/chat`, { redirect: 'manual' })).headers.get('location')).toMatch(
      /\/chat\/$/,
    )
    expect(await (await fetch(`${proxy.base}/chat/switchboard.json`)).json()).toEqual({
      websocket: 'ws',
      auth: 'name',
    })
    expect((await fetch(`${proxy.base}/chat/metrics`)).status).toBe(403)

    const browser = await launchChromium()
    cleanups.push(() => browser.close())
    const open = async (name: string) => {
      const page = await (await browser.newContext()).newPage()
      const sockets: string[] = []
      page.on('websocket', (ws) => sockets.push(new URL(ws.url()).pathname))
      await page.goto(`${proxy.base}/chat/#prefix`)
      await page.locator('#name').fill(name)
      await page.getByRole('button', { name: 'Start chatting' }).click()
      await waitFor(
        async () => (await page.getByTestId('connection').getAttribute('data-state')) === 'connected',
        `${name} connected through nginx`,
      )
      return { page, sockets }
    }
    const ann = await open('Ann')
    const ben = await open('Ben')
    expect(ann.sockets).toEqual(['/chat/ws'])
    const names = (page: typeof ann.page) =>
      page.locator('[data-testid=members] .member-name').allTextContents()
    await waitFor(async () => (await names(ann.page)).length === 2, 'both members')
    await ann.page.locator('.composer textarea').fill('through nginx at /chat/')
    await ann.page.locator('.composer textarea').press('Enter')
    await waitFor(
      async () =>
        (await ben.page.locator('[data-testid=message] .message-content').allTextContents()).join() ===
        'through nginx at /chat/',
      'the message through nginx',
    )
  }, 60_000)
})

describe('deploy/nginx/switchboard.conf, as seen from a node', () => {
  /**
   * An upstream that records what reaches it: the request headers on /ws (as the WebSocket's first
   * message) and on any other path; on /ws/sse and /ws/poll a stream that sends one event and stays
   * open, or with `?bulk=MB` that many megabytes, as fast as the connection takes them.
   */
  async function recorder() {
    const stream = { written: 0, ended: false }
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://upstream')
      if (url.pathname === '/ws/sse' || url.pathname === '/ws/poll') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
        res.on('close', () => {
          stream.ended = true
        })
        const bulk = Number(url.searchParams.get('bulk') ?? 0) * 1024 * 1024
        if (bulk === 0) {
          res.write('data: first\n\n')
          return // left open: a buffering or compressing proxy would sit on the first event
        }
        const chunk = `data: ${'x'.repeat(64 * 1024 - 8)}\n\n`
        const pump = () => {
          while (stream.written < bulk && !res.destroyed) {
            stream.written += chunk.length
            if (!res.write(chunk)) return void res.once('drain', pump)
          }
        }
        pump()
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.headers))
    })
    const wss = new WebSocketServer({ server, path: '/ws' })
    wss.on('connection', (ws, req) => ws.send(JSON.stringify(req.headers)))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const ws of wss.clients) ws.terminate()
          server.closeAllConnections()
          server.close(() => resolve())
        }),
    )
    return { port: (server.address() as AddressInfo).port, stream }
  }

  it('passes the upgrade, the host and the client address on the WebSocket handshake', async () => {
    const upstream = await recorder()
    const proxy = await startNginx([upstream.port])
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/ws?x=1`, {
      headers: { 'X-Forwarded-For': '203.0.113.9' },
    })
    cleanups.push(() => ws.terminate())
    const headers = await new Promise<IncomingHttpHeaders>((resolve, reject) => {
      ws.once('message', (d) => resolve(JSON.parse(String(d))))
      ws.once('error', reject)
    })
    expect(headers.upgrade).toBe('websocket')
    expect(headers.connection).toBe('upgrade')
    expect(headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1')
    expect(headers['x-real-ip']).toBe('127.0.0.1')
    expect(headers['x-forwarded-proto']).toBe('http')
    expect(headers.host).toBe('127.0.0.1')

    // Plain requests go without `Connection: close`, so nginx can keep its upstream connections.
    const plain = (await (await fetch(`${proxy.base}/anything`)).json()) as IncomingHttpHeaders
    expect(plain.connection).toBeUndefined()
    expect(plain.upgrade).toBeUndefined()
    expect(plain['x-forwarded-for']).toBe('127.0.0.1')
  })

  for (const path of ['/ws/sse', '/ws/poll']) {
    it(`streams ${path} event by event, even where gzip is on for the whole server`, async () => {
      const upstream = await recorder()
      const proxy = await startNginx(
        [upstream.port],
        'gzip on; gzip_min_length 1; gzip_types text/event-stream;',
      )
      const first = await new Promise<{ chunk: string; encoding: string | undefined }>((resolve, reject) => {
        const req = get(`${proxy.base}${path}`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
          res.setEncoding('latin1')
          res.once('data', (chunk: string) => resolve({ chunk, encoding: res.headers['content-encoding'] }))
        })
        req.once('error', reject)
        cleanups.push(() => req.destroy())
      })
      expect(first).toEqual({ chunk: 'data: first\n\n', encoding: undefined })
      expect(upstream.stream.ended).toBe(false)
    })
  }

  it('lets a client that stops reading hold its node back, instead of nginx spooling the stream to disk', async () => {
    // Switchboard bounds what it queues for a slow client and cuts it off past the bound; that only
    // works if the proxy passes the pressure back. With proxy_buffering on, nginx would read the
    // whole stream into a temp file (up to 1 GiB) and the node would never see a slow consumer.
    const upstream = await recorder()
    const proxy = await startNginx([upstream.port])
    const total = 256 * 1024 * 1024
    const req = get(`${proxy.base}/ws/sse?bulk=${total / 1024 / 1024}`, (res) => res.pause())
    req.on('error', () => {})
    cleanups.push(() => req.destroy())
    // Wait until the upstream stops making progress (kernel buffers full: a few MB on loopback) or
    // has sent everything (what nginx does when it buffers: the rest goes to a temp file).
    let last = -1
    await waitFor(
      async () => {
        await new Promise((r) => setTimeout(r, 500))
        const now = upstream.stream.written
        const settled = now === last || now >= total
        last = now
        return settled && now > 0
      },
      'the stream to stall or finish',
      60_000,
    )
    expect(upstream.stream.written).toBeLessThan(total / 2)
  })
})
