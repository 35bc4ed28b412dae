// `switchboard bench`: the built command as a real process — against its own in-process server,
// against a server started here (through worker processes), against a channel that refuses
// client publishes, and against a fake server that loses and repeats messages.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { type BenchResult, benchConfig, UsageError } from '@switchboard/cli'
import { createSwitchboard } from '@switchboard/server'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function run(args: string[]): Promise<Run> {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run npx tsc -b packages/cli`)
  const child = spawn(process.execPath, [bin, 'bench', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  cleanups.push(() => child.kill('SIGKILL'))
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => {
    stdout += d
  })
  child.stderr.on('data', (d) => {
    stderr += d
  })
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}

const json = (r: Run): BenchResult => JSON.parse(r.stdout)

describe('benchConfig', () => {
  it('has defaults, one worker per 5000 clients, and refuses what it cannot read', () => {
    expect(benchConfig([], {})).toEqual({
      url: undefined,
      clients: 100,
      channel: 'bench:load',
      rate: 10,
      duration: 10,
      payload: 64,
      token: undefined,
      workers: 1,
      json: false,
    })
    const c = benchConfig(['wss://h/ws', '--clients', '12000', '--rate=0.5', '--json'], {
      SWITCHBOARD_TOKEN: 't',
    })
    expect(c).toMatchObject({
      url: 'wss://h/ws',
      clients: 12000,
      workers: 3,
      rate: 0.5,
      token: 't',
      json: true,
    })
    expect(() => benchConfig(['http://h/ws'], {})).toThrow(/not a ws/)
    expect(() => benchConfig(['--clients', '0'], {})).toThrow(UsageError)
    expect(() => benchConfig(['--rate', '-1'], {})).toThrow(UsageError)
    expect(() => benchConfig(['--channel', 'a*'], {})).toThrow(UsageError)
    expect(() => benchConfig(['--clients', '2', '--workers', '3'], {})).toThrow(UsageError)
  })
})

describe('switchboard bench (process)', () => {
  it('benchmarks an in-process server without a URL: every message to every subscriber', async () => {
    const r = await run(['--clients', '50', '--rate', '20', '--duration', '2', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const result = json(r)
    expect(result).toMatchObject({
      server: 'in-process',
      ok: true,
      clients: { requested: 50, connected: 50, failed: 0 },
      published: 40,
      lost: 0,
      outOfOrder: 0,
      error: null,
    })
    expect(result.delivered).toBe(result.published * 50)
    expect(result.expected).toBe(result.delivered)
    const { p50, p90, p99, max, count } = result.latencyMs
    expect(count).toBe(result.delivered)
    expect(p50).toBeGreaterThan(0)
    expect(p50).toBeLessThanOrEqual(p90)
    expect(p90).toBeLessThanOrEqual(p99)
    expect(p99).toBeLessThanOrEqual(max)
    expect(max).toBeLessThan(2000)
    expect(result.deliveredPerSecond).toBeGreaterThan(0)
  })

  it('loads a server at a URL through worker processes, and stops on a refused publish', async () => {
    const sb = createSwitchboard({
      port: 0,
      host: '127.0.0.1',
      logger: false,
      channels: { 'load:*': { clientPublish: true }, 'quiet:*': {} },
    })
    cleanups.push(() => sb.close({ timeout: 200 }))
    const { url } = await sb.ready
    let connections = 0
    sb.on('connection', () => connections++)

    const args = [
      '--channel',
      'load:a',
      '--clients',
      '40',
      '--workers',
      '2',
      '--rate',
      '20',
      '--duration',
      '1',
    ]
    const ok = await run([url, ...args, '--json'])
    expect(ok.code, ok.stderr).toBe(0)
    const result = json(ok)
    expect(result).toMatchObject({
      server: 'remote',
      workers: 2,
      clients: { connected: 40, perWorker: [20, 20] },
    })
    expect(result.published).toBe(20)
    expect(result.delivered).toBe(20 * 40)
    expect(connections).toBe(41) // 40 subscribers and the publisher

    const refused = await run([url, '--channel', 'quiet:a', '--clients', '5', '--duration', '1'])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toMatch(/error +forbidden: publish refused by the server/)
    expect(refused.stdout).toMatch(/FAILED/)
  })

  it('counts lost and repeated messages, and exits 1', async () => {
    // A fake server: answers the handshake and publishes, but never delivers offset 2, and sends
    // offset 1 a second time after offset 3.
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    cleanups.push(() => new Promise((resolve) => wss.close(resolve)))
    await new Promise((resolve) => wss.once('listening', resolve))
    const subscribers = new Set<import('ws').WebSocket>()
    let offset = 0
    let first = ''
    wss.on('connection', (ws) => {
      ws.send(JSON.stringify({ type: 'hello', version: 1, connectionId: 'x', heartbeat: 25000, limits: {} }))
      ws.on('message', (raw) => {
        const frame = JSON.parse(String(raw))
        if (frame.type === 'subscribe') {
          subscribers.add(ws)
          ws.send(JSON.stringify({ type: 'reply', id: frame.id, ok: true, data: { epoch: 'e', offset: 0 } }))
        } else if (frame.type === 'publish') {
          offset++
          const message = JSON.stringify({
            type: 'message',
            channel: frame.channel,
            epoch: 'e',
            offset,
            data: frame.data,
          })
          if (offset === 1) first = message
          for (const s of subscribers) {
            if (offset !== 2) s.send(message)
            if (offset === 3) s.send(first)
          }
          ws.send(JSON.stringify({ type: 'reply', id: frame.id, ok: true, data: { epoch: 'e', offset } }))
        }
      })
    })
    const { port } = wss.address() as AddressInfo
    const r = await run([
      `ws://127.0.0.1:${port}`,
      '--clients',
      '4',
      '--rate',
      '20',
      '--duration',
      '0.5',
      '--json',
    ])
    expect(r.code).toBe(1)
    const result = json(r)
    expect(result).toMatchObject({
      ok: false,
      published: 10,
      expected: 40,
      delivered: 36,
      lost: 4,
      outOfOrder: 4,
    })
  })

  it('exits 2 on a usage error', async () => {
    const r = await run(['--clients', 'abc'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--clients must be an integer/)
  })
})
