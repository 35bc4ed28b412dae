// The example backend (backend.py, on Debian's /usr/bin/python3) deciding for a real server:
// cookie and token sign-in, the user's own channel subscribed at connect, room presence info,
// admin-only channels, a banned user closed with 4003, a wrong shared secret refused — and the
// other way round, the backend publishing to a user's every connection through the HTTP API.
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Switchboard } from '@switchboard/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createProxiedServer } from './server.js'

const script = fileURLToPath(new URL('./backend.py', import.meta.url))
let backend: ChildProcess
let base = ''
const servers: Switchboard[] = []

beforeAll(async () => {
  backend = spawn('/usr/bin/python3', [script, '--port', '0', '--secret', 'example-secret'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const line = await new Promise<string>((resolve, reject) => {
    backend.once('error', reject)
    createInterface({ input: backend.stdout! }).once('line', resolve)
  })
  base = `http://127.0.0.1:${(JSON.parse(line) as { listening: number }).listening}`
})
afterAll(async () => {
  for (const sb of servers) await sb.close({ timeout: 300 })
  backend.kill()
})

/** Starts backend.py; resolves with its base URL once it listens. */
async function startBackend(args: string[]) {
  const child = spawn('/usr/bin/python3', [script, '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const line = await new Promise<string>((resolve, reject) => {
    child.once('error', reject)
    createInterface({ input: child.stdout! }).once('line', resolve)
  })
  return { child, base: `http://127.0.0.1:${(JSON.parse(line) as { listening: number }).listening}` }
}

async function start(secret = 'example-secret') {
  const sb = createProxiedServer(base, secret, { port: 0, host: '127.0.0.1', logger: false })
  servers.push(sb)
  return (await sb.ready).url
}

type Frame = { type: string; [key: string]: unknown }

/** A raw client: its frames, or how its handshake ended. */
function dial(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, 'switchboard.v1', { headers })
  const frames: Frame[] = []
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Frame))
  ws.on('error', () => {})
  const ended = new Promise<{ status?: number; close?: number }>((resolve) => {
    ws.once('unexpected-response', (_q, res) => resolve({ status: res.statusCode }))
    ws.once('close', (code) => resolve({ close: code }))
  })
  const until = async (match: (f: Frame) => boolean) => {
    for (let i = 0; i < 500; i++) {
      const found = frames.find(match)
      if (found) return found
      await new Promise((r) => setTimeout(r, 10))
    }
    throw new Error(`not seen; got ${JSON.stringify(frames)}`)
  }
  let n = 0
  const ask = async (frame: Frame) => {
    const id = `q${++n}`
    ws.send(JSON.stringify({ ...frame, id }))
    return until((f) => f.type === 'reply' && f.id === id)
  }
  return { ws, frames, ended, until, ask }
}

describe('the example Python backend', () => {
  it('signs in by cookie, subscribes the user channel at connect, decides rooms and admin channels', async () => {
    const url = await start()
    const alice = dial(url, { cookie: 'sid=sid-alice' })
    expect(await alice.until((f) => f.type === 'subscribed')).toMatchObject({ channel: 'user:alice' })
    expect(await alice.ask({ type: 'subscribe', channel: 'room:lobby' })).toMatchObject({
      ok: true,
      data: { members: [{ userId: 'alice', info: { name: 'Alice' } }] },
    })
    expect(await alice.ask({ type: 'subscribe', channel: 'admin:ops' })).toMatchObject({ ok: true })

    const bob = dial(`${url}?token=sid-bob`)
    await bob.until((f) => f.type === 'hello')
    expect(await bob.ask({ type: 'subscribe', channel: 'admin:ops' })).toMatchObject({
      ok: false,
      error: { code: 'forbidden', message: 'not your channel' },
    })
    expect(await bob.ask({ type: 'subscribe', channel: 'user:alice' })).toMatchObject({ ok: false })
    alice.ws.terminate()
    bob.ws.terminate()
  })

  it('publishes through the HTTP API: its /app/notify reaches every connection of the user', async () => {
    const key = 'example-api-key-0123456789'
    const sb = createProxiedServer(base, 'example-secret', {
      port: 0,
      host: '127.0.0.1',
      logger: false,
      httpApi: { keys: [{ key, publishOnly: true }] },
    })
    servers.push(sb)
    const { url, port } = await sb.ready
    const notifier = await startBackend([
      '--secret',
      'app-secret',
      '--api',
      `http://127.0.0.1:${port}/api`,
      '--api-key',
      key,
    ])
    try {
      const phone = dial(url, { cookie: 'sid=sid-alice' })
      const laptop = dial(`${url}?token=sid-alice`)
      for (const device of [phone, laptop]) await device.until((f) => f.type === 'subscribed')
      const res = await fetch(`${notifier.base}/app/notify`, {
        method: 'POST',
        headers: { 'x-switchboard-secret': 'app-secret', 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'alice', text: 'your order shipped' }),
      })
      expect(await res.json()).toMatchObject({ published: { offset: 1 } })
      for (const device of [phone, laptop]) {
        expect(await device.until((f) => f.type === 'message')).toMatchObject({
          channel: 'user:alice',
          data: { text: 'your order shipped' },
        })
        device.ws.terminate()
      }
    } finally {
      notifier.child.kill()
    }
  })

  it('refuses strangers (401), closes the banned (4003), and a server with the wrong secret lets no one in', async () => {
    const url = await start()
    expect(await dial(url).ended).toEqual({ status: 401 })
    expect(await dial(url, { cookie: 'sid=sid-mallory' }).ended).toEqual({ close: 4003 })
    // The backend answers HTTP 403 to a caller without the secret: a malformed answer, a denial.
    const wrong = await start('guess')
    expect(await dial(wrong, { cookie: 'sid=sid-alice' }).ended).toEqual({ status: 403 })
  })
})
