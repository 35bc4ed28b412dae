// `switchboard serve`: flag and env parsing, the server it runs, and a real process drained by SIGTERM.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { serve, serveConfig, signToken, UsageError } from '@switchboard/cli'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'

const quiet = { info() {}, warn() {}, error() {} }

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 10))
  }
}

function open(url: string): Promise<{ ws: WebSocket; first: Promise<unknown>; closed: Promise<number> }> {
  const ws = new WebSocket(url, 'switchboard.v1')
  const first = new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))))
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, first, closed }))
    ws.once('error', reject)
  })
}

describe('serveConfig', () => {
  it('reads flags, then PORT, then defaults to 8080', () => {
    expect(serveConfig([], {}).config).toMatchObject({ port: 8080, path: '/ws' })
    expect(serveConfig([], {}).config.host).toBeUndefined()
    expect(serveConfig([], { PORT: '9000' }).config.port).toBe(9000)
    expect(serveConfig(['--port', '0', '--host=127.0.0.1'], { PORT: '9000' }).config).toMatchObject({
      port: 0,
      host: '127.0.0.1',
    })
  })

  it('refuses bad input instead of guessing', () => {
    expect(() => serveConfig(['--port', 'x'], {})).toThrow(UsageError)
    expect(() => serveConfig(['--prot', '1'], {})).toThrow(/unknown option --prot/)
    expect(() => serveConfig(['--port'], {})).toThrow(/needs a value/)
    expect(() => serveConfig([], { PORT: '70000' })).toThrow(UsageError)
  })
})

describe('serve', () => {
  it('runs a server with chat channels, static files and /healthz, and drains on stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-static-'))
    writeFileSync(join(dir, 'index.html'), '<h1>chat</h1>')
    const running = await serve(
      serveConfig(['--port', '0', '--host', '127.0.0.1', '--static', dir], {}),
      quiet,
    )
    const { port, url } = running.address
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200)
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('<h1>chat</h1>')
    expect((await fetch(`http://127.0.0.1:${port}/..%2f..%2fetc%2fpasswd`)).status).toBe(404)
    const c = await open(`${url}?name=Ann`)
    expect(await c.first).toMatchObject({ type: 'hello' })
    c.ws.send(JSON.stringify({ type: 'subscribe', id: '1', channel: 'chat:general' }))
    c.ws.send(
      JSON.stringify({
        type: 'publish',
        id: '2',
        channel: 'chat:general',
        data: { user: 'Ann', text: 'hi' },
      }),
    )
    const frames: Array<{ type: string }> = []
    c.ws.on('message', (d) => frames.push(JSON.parse(String(d))))
    await new Promise((r) => setTimeout(r, 100))
    expect(frames.map((f) => f.type)).toEqual(expect.arrayContaining(['reply', 'message']))
    await running.stop()
    expect(await c.closed).toBe(1012)
  })

  it('tells the app its WebSocket path (relative to the app) and how users sign in, at switchboard.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-static-'))
    writeFileSync(join(dir, 'index.html'), '<h1>chat</h1>')
    const plain = await serve(serveConfig(['--port', '0', '--host', '127.0.0.1', '--static', dir], {}), quiet)
    const custom = await serve(
      serveConfig(['--port', '0', '--host', '127.0.0.1', '--static', dir, '--path', '/rt/ws'], {
        JWT_SECRET: 's3cret',
      }),
      quiet,
    )
    try {
      const read = async (port: number) => {
        const res = await fetch(`http://127.0.0.1:${port}/switchboard.json`)
        expect(res.headers.get('content-type')).toMatch(/^application\/json/)
        return res.json()
      }
      expect(await read(plain.address.port)).toEqual({ websocket: 'ws', auth: 'name' })
      expect(await read(custom.address.port)).toEqual({ websocket: 'rt/ws', auth: 'jwt' })
      expect(custom.address.url).toMatch(/\/rt\/ws$/)
    } finally {
      await plain.stop()
      await custom.stop()
    }
  })

  it('makes one name claimed in two browsers two members, each marked unverified', async () => {
    const running = await serve(serveConfig(['--port', '0', '--host', '127.0.0.1'], {}), quiet)
    try {
      const { url } = running.address
      const members = async (query: string) => {
        const c = await open(`${url}?${query}`)
        await c.first
        const reply = new Promise<{ data: { members: Array<{ userId: string; info: unknown }> } }>(
          (resolve) =>
            c.ws.on('message', (d) => {
              const f = JSON.parse(String(d))
              if (f.type === 'reply' && f.id === 'm') resolve(f)
            }),
        )
        c.ws.send(JSON.stringify({ type: 'subscribe', id: 'm', channel: 'chat:twins' }))
        return (await reply).data.members
      }
      await members('name=Ada&id=browser-1')
      const seen = await members('name=Ada&id=browser-2')
      expect(seen).toEqual([
        { userId: 'Ada#browser-1', info: { name: 'Ada', verified: false }, connections: 1 },
        { userId: 'Ada#browser-2', info: { name: 'Ada', verified: false }, connections: 1 },
      ])
      // Without an id (a client other than the chat app), the name is the user, as before.
      expect((await members('name=Bo')).map((m) => m.userId)).toContain('Bo')
    } finally {
      await running.stop()
    }
  })
})

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))

describe('serve --jwt-secret --metrics', () => {
  it('takes the user from a verified token, refuses a bad one, and serves /metrics', async () => {
    const config = serveConfig(['--port', '0', '--host', '127.0.0.1', '--metrics'], { JWT_SECRET: 's3cret' })
    expect(config.config).toMatchObject({ jwt: { secret: 's3cret' }, metrics: true })
    const running = await serve(config, quiet)
    try {
      const { port, url } = running.address
      const sign = (secret: string) =>
        signToken({ secret, sub: 'u1', ttl: 60, claims: { name: 'Alice' }, iss: undefined, aud: undefined })
      const token = await sign('s3cret')
      const forged = await sign('other')
      // A token signed with another secret is refused at the handshake.
      await expect(open(`${url}?token=${forged}`)).rejects.toThrow(/401/)
      const c = await open(`${url}?token=${token}`)
      expect(await c.first).toMatchObject({ type: 'hello' })
      const reply = new Promise<{ data: { members: Array<{ userId: string }> } }>((resolve) =>
        c.ws.on('message', (d) => {
          const f = JSON.parse(String(d))
          if (f.type === 'reply' && f.id === 'p') resolve(f)
        }),
      )
      c.ws.send(JSON.stringify({ type: 'subscribe', id: 'p', channel: 'chat:general' }))
      expect((await reply).data.members.map((m) => m.userId)).toEqual(['Alice'])
      // A message may only speak for the token's user.
      const answers = new Map<string, { ok: boolean; error?: { code: string } }>()
      c.ws.on('message', (d) => {
        const f = JSON.parse(String(d))
        if (f.type === 'reply') answers.set(f.id, f)
      })
      const publish = (id: string, user: string) =>
        c.ws.send(
          JSON.stringify({ type: 'publish', id, channel: 'chat:general', data: { user, text: 'hi' } }),
        )
      publish('as-mallory', 'Mallory')
      publish('as-alice', 'Alice')
      await until(() => answers.size === 2)
      expect(answers.get('as-mallory')).toMatchObject({ ok: false, error: { code: 'forbidden' } })
      expect(answers.get('as-alice')).toMatchObject({ ok: true })
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
      expect(metrics).toMatch(/^switchboard_connections 1$/m)
      c.ws.close()
    } finally {
      await running.stop()
    }
  })

  it('serves no /metrics unless asked', async () => {
    const running = await serve(serveConfig(['--port', '0', '--host', '127.0.0.1'], {}), quiet)
    try {
      expect((await fetch(`http://127.0.0.1:${running.address.port}/metrics`)).status).toBe(404)
    } finally {
      await running.stop()
    }
  })
})

describe('switchboard serve (process)', () => {
  it('logs its URL, serves, and exits cleanly on SIGTERM with clients told 1012', async () => {
    // `npm test` builds first; a missing build is a failure here, never a silent skip.
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build`)
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--host', '127.0.0.1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    const start = Date.now()
    while (!/ws:\/\/\S+/.test(out)) {
      if (Date.now() - start > 10_000) throw new Error(`no URL logged: ${out}`)
      await new Promise((r) => setTimeout(r, 20))
    }
    const url = /ws:\/\/\S+/.exec(out)![0]
    const c = await open(url)
    expect(await c.first).toMatchObject({ type: 'hello' })
    child.kill('SIGTERM')
    expect(await c.closed).toBe(1012)
    expect(await exited).toBe(0)
    expect(out).toContain('switchboard stopped')
  })
})
