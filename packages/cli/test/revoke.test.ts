// `switchboard revoke`: flag parsing, and the built command as a real process against a real
// server with jwtAuth and the HTTP API — `--jti` closes the connection holding that token with
// 4001 and the server refuses it afterwards; `--user` with `--issued-before` (seconds or ISO)
// covers the user's older tokens only; a publish-only key exits 1 with the server's error and
// without the key.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { revokeConfig, UsageError } from '@switchboard/cli'
import { jwtAuth } from '@switchboard/server/jwt'
import { connect, serverFixture } from '@switchboard/testing'
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
const KEY = 'cli-key-0123456789abcdef'
const PUBLISH_KEY = 'cli-publish-0123456789abcdef'
const SECRET = 'a-cli-secret-that-is-at-least-32-bytes-long'

interface Run {
  code: number
  stdout: string
  stderr: string
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run npx tsc -b packages/cli`)
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, 'revoke', ...args],
      { timeout: 10_000, env: { ...process.env, SWITCHBOARD_API_KEY: '', SWITCHBOARD_API: '', ...env } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

function sign(sub: string, options: { jti?: string; iat?: number } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const jwt = new SignJWT({ sub }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(options.iat ?? now)
  if (options.jti !== undefined) jwt.setJti(options.jti)
  return jwt.setExpirationTime(now + 600).sign(new TextEncoder().encode(SECRET))
}

describe('revokeConfig', () => {
  it('reads --jti, or --user with --issued-before in seconds or ISO 8601, the API and the key', () => {
    expect(revokeConfig(['--jti', 't-1', '--api', 'http://h:1', '--key', 'k'], {})).toEqual({
      api: 'http://h:1/api',
      key: 'k',
      body: { jti: 't-1' },
    })
    expect(revokeConfig(['--user', 'ada'], { SWITCHBOARD_API_KEY: 'env' })).toEqual({
      api: 'http://localhost:8080/api',
      key: 'env',
      body: { user: 'ada' },
    })
    expect(revokeConfig(['--user', 'ada', '--issued-before', '1767348000', '--key', 'k'], {}).body).toEqual({
      user: 'ada',
      issuedBefore: 1767348000,
    })
    expect(
      revokeConfig(['--user', 'ada', '--issued-before', '2026-01-02T10:00:00Z', '--key', 'k'], {}).body,
    ).toEqual({ user: 'ada', issuedBefore: Date.UTC(2026, 0, 2, 10) / 1000 })
  })

  it('refuses what it cannot use', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--key', 'k'], /give either --jti or --user/],
      [['--jti', 'a', '--user', 'b', '--key', 'k'], /give either --jti or --user/],
      [['--jti', 'a', '--issued-before', '1', '--key', 'k'], /--issued-before goes with --user/],
      [['--user', 'a', '--issued-before', 'yesterday', '--key', 'k'], /--issued-before must be/],
      [['--jti', 'a'], /--key \(or SWITCHBOARD_API_KEY\) is required/],
      [['extra', '--jti', 'a', '--key', 'k'], /options only/],
      [['--jti', 'a', '--key', 'k', '--api', 'ws://h/ws'], /--api must be an http/],
    ]
    for (const [argv, message] of cases) {
      expect(() => revokeConfig(argv, {}), argv.join(' ')).toThrow(UsageError)
      expect(() => revokeConfig(argv, {}), argv.join(' ')).toThrow(message)
    }
  })
})

describe('switchboard revoke (process)', () => {
  const { setup } = serverFixture({
    ...jwtAuth({ secret: SECRET }),
    httpApi: { keys: [{ key: KEY }, { key: PUBLISH_KEY, publishOnly: true }] },
  })

  it('--jti closes the connection holding the token (4001) and the server refuses it afterwards', async () => {
    const { url, api } = await setup()
    const token = await sign('ada', { jti: 'cli-1' })
    const held = await connect(`${url}?token=${token}`)
    const r = await run(['--jti', 'cli-1', '--api', api!.url], { SWITCHBOARD_API_KEY: KEY })
    expect(r.code, r.stderr).toBe(0)
    const { expiresAt } = JSON.parse(r.stdout) as { expiresAt: number }
    expect(Math.abs(expiresAt - (Date.now() / 1000 + 86_400))).toBeLessThan(30)
    expect(await held.closed).toEqual({ code: 4001, reason: 'token revoked' })
    await expect(connect(`${url}?token=${token}`)).rejects.toThrow('HTTP 401')
  })

  it('--user --issued-before covers the older tokens only; a publish-only key exits 1 without the key', async () => {
    const { url, api } = await setup()
    const now = Math.floor(Date.now() / 1000)
    const old = await connect(`${url}?token=${await sign('bo', { iat: now - 100 })}`)
    const recent = await connect(`${url}?token=${await sign('bo', { iat: now - 10 })}`)
    const r = await run([
      '--user',
      'bo',
      '--issued-before',
      String(now - 50),
      '--api',
      api!.url,
      '--key',
      KEY,
    ])
    expect(r.code, r.stderr).toBe(0)
    expect((await old.closed).code).toBe(4001)
    recent.send({ type: 'ping', id: 'p' })
    expect(await recent.next('pong')).toEqual({ type: 'pong', id: 'p' })
    recent.ws.terminate()

    const refused = await run(['--user', 'bo', '--api', api!.url], { SWITCHBOARD_API_KEY: PUBLISH_KEY })
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/revoke refused: 403 forbidden/)
    expect(refused.stderr + refused.stdout).not.toContain(PUBLISH_KEY)
  })
})
