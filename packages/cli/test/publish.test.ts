// `switchboard publish`: flag parsing, and the built command as a real process against a real
// server with the HTTP API — the message reaches a WebSocket subscriber, the position is printed,
// an idempotency key makes a second run land on the same position, data can come from stdin, and
// a refused call exits 1 with the server's error and without the key.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { publishConfig, UsageError } from '@switchboard/cli'
import { serverFixture, until } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
const KEY = 'cli-key-0123456789abcdef'

interface Run {
  code: number
  stdout: string
  stderr: string
}

function run(args: string[], env: Record<string, string> = {}, input?: string): Promise<Run> {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run npx tsc -b packages/cli`)
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, 'publish', ...args],
      { timeout: 10_000, env: { ...process.env, SWITCHBOARD_API_KEY: '', SWITCHBOARD_API: '', ...env } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0
        resolve({ code, stdout, stderr })
      },
    )
    child.stdin?.end(input ?? '')
  })
}

describe('publishConfig', () => {
  it('reads the channel, the data, the API address and the key (flags over the environment)', () => {
    expect(publishConfig(['chat:a', '{"x":1}', '--api', 'http://h:1', '--key', 'k'], {})).toEqual({
      channel: 'chat:a',
      data: '{"x":1}',
      api: 'http://h:1/api',
      key: 'k',
      idempotencyKey: undefined,
    })
    const fromEnv = publishConfig(['c', '42', '--idempotency-key', 'id-1'], {
      SWITCHBOARD_API_KEY: 'env-key',
      SWITCHBOARD_API: 'https://h/base/api/',
    })
    expect(fromEnv).toMatchObject({ api: 'https://h/base/api', key: 'env-key', idempotencyKey: 'id-1' })
    expect(publishConfig(['c', '-', '--key', 'k'], {}).data).toBe('-')
    expect(publishConfig(['c', '1', '--key', 'k'], {}).api).toBe('http://localhost:8080/api')
  })

  it('refuses what it cannot use', () => {
    const cases: Array<[string[], RegExp]> = [
      [['chat:a'], /give a channel and the data/],
      [['chat:a', '1', '2', '--key', 'k'], /give a channel and the data/],
      [['chat:a', '1'], /--key \(or SWITCHBOARD_API_KEY\) is required/],
      [['chat:a', 'not json', '--key', 'k'], /the data must be JSON/],
      [['chat:a', '1', '--key', 'k', '--api', 'ws://h/ws'], /--api must be an http/],
      [['chat:a', '1', '--key', 'k', '--nope', 'x'], /unknown option --nope/],
    ]
    for (const [argv, message] of cases) {
      expect(() => publishConfig(argv, {}), argv.join(' ')).toThrow(UsageError)
      expect(() => publishConfig(argv, {}), argv.join(' ')).toThrow(message)
    }
  })
})

describe('switchboard publish (process)', () => {
  const { setup } = serverFixture({
    httpApi: { keys: [{ key: KEY }] },
    channels: { 'chat:*': { history: 10 } },
  })

  it('publishes through the API: a subscriber gets it, the position is printed, a retried key lands once', async () => {
    const { client, api } = await setup()
    const c = await client()
    c.send({ type: 'subscribe', id: '1', channel: 'chat:cli' })
    await c.next('reply')
    const base = api!.url.replace(/\/api$/, '')
    const first = await run(['chat:cli', '{"text":"hello"}', '--api', base, '--key', KEY])
    expect(first, first.stderr).toMatchObject({ code: 0 })
    const position = JSON.parse(first.stdout) as { epoch: string; offset: number }
    expect(position.offset).toBe(1)
    const message = await c.next('message')
    expect(message).toMatchObject({
      channel: 'chat:cli',
      data: { text: 'hello' },
      offset: 1,
      epoch: position.epoch,
    })

    // The key from the environment, data from stdin, an idempotency key: twice, one message.
    const env = { SWITCHBOARD_API_KEY: KEY, SWITCHBOARD_API: api!.url }
    const runs = [
      await run(['chat:cli', '-', '--idempotency-key', 'job-9'], env, '[1, 2, 3]'),
      await run(['chat:cli', '-', '--idempotency-key', 'job-9'], env, '[1, 2, 3]'),
    ]
    for (const r of runs) expect(r, r.stderr).toMatchObject({ code: 0 })
    expect(JSON.parse(runs[0]!.stdout)).toEqual({ epoch: position.epoch, offset: 2 })
    expect(runs[1]!.stdout).toBe(runs[0]!.stdout)
    await until(() => c.frames.filter((f) => f.type === 'message').length === 2)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(
      c.frames.filter((f) => f.type === 'message').map((f) => (f.type === 'message' ? f.data : null)),
    ).toEqual([{ text: 'hello' }, [1, 2, 3]])
  })

  it('exits 1 with the server’s error for a refused call, never printing the key; 2 for a usage error', async () => {
    const { api } = await setup()
    const wrong = 'wrong-key-0123456789abcdef'
    const refused = await run(['chat:cli', '1', '--api', api!.url, '--key', wrong])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('publish refused: 401 unauthorized')
    expect(refused.stderr + refused.stdout).not.toContain(wrong)
    const invalid = await run(['bad channel', '1', '--api', api!.url, '--key', KEY])
    expect(invalid.code).toBe(1)
    expect(invalid.stderr).toContain('400 invalid_channel')
    const usage = await run(['chat:cli'])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('Usage: switchboard publish')
  })

  it('exits 1 saying where, without a stack trace, when nothing answers', async () => {
    const down = await run(['chat:cli', '1', '--api', 'http://127.0.0.1:1/api', '--key', KEY])
    expect(down.code).toBe(1)
    expect(down.stderr).toContain('could not reach http://127.0.0.1:1/api')
    expect(down.stderr).not.toContain('    at ')
  })
})
