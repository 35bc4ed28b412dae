// `switchboard connect`: the built command as a real process against a real server — what
// arrives is printed as JSON lines, commands typed on stdin are sent, `quit` waits for answers.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { connectConfig, UsageError } from '@switchboard/cli'
import { createSwitchboard } from '@switchboard/server'
import { afterEach, describe, expect, it } from 'vitest'

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe('connectConfig', () => {
  it('takes a ws URL, a token, and channels to subscribe', () => {
    expect(connectConfig(['ws://h/ws', '--subscribe', 'a,b', '--token', 't'], {})).toEqual({
      url: 'ws://h/ws',
      token: 't',
      subscribe: ['a', 'b'],
    })
    expect(connectConfig(['wss://h/ws'], { SWITCHBOARD_TOKEN: 'e' }).token).toBe('e')
    expect(() => connectConfig([], {})).toThrow(UsageError)
    expect(() => connectConfig(['http://h/ws'], {})).toThrow(/not a ws/)
  })
})

/** `switchboard connect ARGS` as a process: the JSON lines it printed, its stdin, its exit. */
function runConnect(args: string[]) {
  const child = spawn(process.execPath, [bin, 'connect', ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
  cleanups.push(() => child.kill('SIGKILL'))
  const lines: Array<Record<string, unknown>> = []
  let buffered = ''
  child.stdout.on('data', (d) => {
    buffered += d
    const parts = buffered.split('\n')
    buffered = parts.pop() ?? ''
    for (const part of parts) lines.push(JSON.parse(part))
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, lines, exited }
}

describe('switchboard connect (process): what a user needs to see', () => {
  it('sends --origin, prints channels the server subscribed it to, and the close code and reason', async () => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build`)
    const sb = createSwitchboard({
      port: 0,
      host: '127.0.0.1',
      logger: false,
      allowedOrigins: ['https://app.example'],
    })
    cleanups.push(() => sb.close({ timeout: 200 }))
    const { url } = await sb.ready
    sb.on('connection', (conn) => void sb.subscribe(conn, 'team:7'))
    const { lines, exited } = runConnect([url, '--origin', 'https://app.example'])
    await expect.poll(() => sb.channelSize('team:7'), { timeout: 5000 }).toBe(1)
    await expect.poll(() => lines.find((l) => l.subscribed)).toEqual({ subscribed: { channel: 'team:7' } })
    await sb.publish('team:7', { hi: 1 })
    await expect
      .poll(() => lines.find((l) => l.message))
      .toMatchObject({ message: { channel: 'team:7', offset: 1, data: { hi: 1 } } })
    for (const conn of sb.connections.values()) conn.close(4003, 'banned')
    expect(await exited).toBe(0)
    expect(lines).toContainEqual({
      state: 'closed',
      reason: 'terminal_close',
      closeCode: 4003,
      closeReason: 'banned',
    })
  })

  it('quit exits within its flush timeout even while a publish waits for a server that is gone', async () => {
    const sb = createSwitchboard({ port: 0, host: '127.0.0.1', logger: false })
    const { url } = await sb.ready
    const { child, lines, exited } = runConnect([url])
    await expect.poll(() => sb.connections.size, { timeout: 5000 }).toBe(1)
    await sb.close({ timeout: 100 })
    await expect.poll(() => lines.find((l) => l.state === 'reconnecting')).toBeDefined()
    const start = Date.now()
    child.stdin.write('pub chat:x {"a":1}\nquit\n')
    expect(await exited).toBe(0)
    expect(Date.now() - start).toBeLessThan(10_000)
    expect(lines).toContainEqual({ error: expect.objectContaining({ code: 'disconnected' }) })
  })

  it('refuses an --origin that is not scheme://host', () => {
    expect(() => connectConfig(['ws://h/ws', '--origin', 'app.example'], {})).toThrow(/--origin must be/)
    expect(connectConfig(['ws://h/ws', '--origin', 'https://app.example:8443'], {}).origin).toBe(
      'https://app.example:8443',
    )
  })
})

describe('switchboard connect (process)', () => {
  it('prints messages, replies and publish positions; quit waits for the answers', async () => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build`)
    const sb = createSwitchboard({
      port: 0,
      host: '127.0.0.1',
      logger: false,
      channels: { 'chat:*': { history: 10, clientPublish: true } },
    })
    sb.handle('echo', (_conn, data) => data)
    sb.on('connection', (conn) => conn.send('notice', { text: 'welcome' }))
    cleanups.push(() => sb.close({ timeout: 200 }))
    const { url } = await sb.ready
    const child = spawn(process.execPath, [bin, 'connect', url, '--subscribe', 'chat:a'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    cleanups.push(() => child.kill('SIGKILL'))
    const lines: Array<Record<string, unknown>> = []
    let buffered = ''
    child.stdout.on('data', (d) => {
      buffered += d
      const parts = buffered.split('\n')
      buffered = parts.pop() ?? ''
      for (const part of parts) lines.push(JSON.parse(part))
    })
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))

    await expect.poll(() => sb.channelSize('chat:a'), { timeout: 5000 }).toBe(1)
    await sb.publish('chat:a', { n: 1 })
    await expect
      .poll(() => lines.find((l) => l.message))
      .toMatchObject({ message: { channel: 'chat:a', offset: 1, data: { n: 1 } } })

    child.stdin.write('pub chat:a {"n":2}\nreq echo {"x":1}\nreq nope\nquit\n')
    expect(await exited).toBe(0)
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ published: expect.objectContaining({ channel: 'chat:a', offset: 2 }) }),
        { reply: { event: 'echo', data: { x: 1 } } },
        { event: { event: 'notice', data: { text: 'welcome' } } },
        expect.objectContaining({ error: expect.objectContaining({ code: 'unknown_event' }) }),
      ]),
    )
  })
})
