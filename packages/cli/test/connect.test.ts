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
