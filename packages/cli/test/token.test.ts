// `switchboard token`: flag parsing, and the real command's output verified with jose and
// accepted by a server configured with jwtAuth({ secret }).
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { signToken, tokenConfig, UsageError } from '@switchboard/cli'
import { createSwitchboard } from '@switchboard/server'
import { jwtAuth } from '@switchboard/server/jwt'
import { decodeProtectedHeader, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
const run = promisify(execFile)
const SECRET = 'dev-secret-dev-secret-dev-secret-42'
const key = new TextEncoder().encode(SECRET)

describe('tokenConfig', () => {
  it('reads the flags, repeated --claim with JSON values, and JWT_SECRET', () => {
    const config = tokenConfig(
      [
        '--sub',
        'alice',
        '--ttl',
        '15m',
        '--claim',
        'role=admin',
        '--claim=rooms=["a","b"]',
        '--claim',
        'n=42',
      ],
      { JWT_SECRET: 'from-env' },
    )
    expect(config).toEqual({
      secret: 'from-env',
      sub: 'alice',
      ttl: 900,
      claims: { role: 'admin', rooms: ['a', 'b'], n: 42 },
      iss: undefined,
      aud: undefined,
    })
    expect(tokenConfig(['--secret', 's', '--sub', 'bob'], { JWT_SECRET: 'x' })).toMatchObject({
      secret: 's',
      ttl: 3600,
    })
  })

  it('refuses what it cannot sign sensibly', () => {
    expect(() => tokenConfig(['--sub', 'alice'], {})).toThrow(/--secret/)
    expect(() => tokenConfig(['--secret', 's'], {})).toThrow(/--sub is required/)
    expect(() => tokenConfig(['--secret', 's', '--sub', 'a', '--ttl', 'soon'], {})).toThrow(UsageError)
    expect(() => tokenConfig(['--secret', 's', '--sub', 'a', '--ttl', '500ms'], {})).toThrow(/at least 1s/)
    expect(() => tokenConfig(['--secret', 's', '--sub', 'a', '--claim', 'exp=1'], {})).toThrow(/--ttl/)
    expect(() => tokenConfig(['--secret', 's', '--sub', 'a', '--claim', 'sub=b'], {})).toThrow(/--sub/)
    expect(() => tokenConfig(['--secret', 's', '--sub', 'a', '--claim', '__proto__=1'], {})).toThrow(
      UsageError,
    )
    expect(() => tokenConfig(['--secret', 's', '--sub', 'a', '--claim', 'novalue'], {})).toThrow(UsageError)
    expect(() => tokenConfig(['--secret', 's', '--sub', 'a', '--sbu', 'x'], {})).toThrow(/unknown option/)
  })

  it('signs HS256 with sub, iat and exp', async () => {
    const config = tokenConfig(['--secret', SECRET, '--sub', 'alice', '--ttl', '2h', '--iss', 'dev'], {})
    const token = await signToken(config, Date.UTC(2030, 0, 1))
    const { payload } = await jwtVerify(token, key, {
      algorithms: ['HS256'],
      issuer: 'dev',
      currentDate: new Date(Date.UTC(2030, 0, 1, 1)),
    })
    expect(payload).toMatchObject({ sub: 'alice', iss: 'dev', iat: Date.UTC(2030, 0, 1) / 1000 })
    expect(payload.exp! - payload.iat!).toBe(7200)
  })
})

describe('switchboard token (the built command)', () => {
  it('prints a token that jose verifies and a jwtAuth server accepts', async () => {
    const { stdout } = await run(
      process.execPath,
      [bin, 'token', '--sub', 'alice', '--ttl', '10m', '--claim', 'role=admin'],
      { env: { ...process.env, JWT_SECRET: SECRET } },
    )
    const token = stdout.trim()
    expect(token.split('.')).toHaveLength(3)
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' })
    const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'] })
    expect(payload).toMatchObject({ sub: 'alice', role: 'admin' })
    expect(payload.exp! - payload.iat!).toBe(600)
    expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(60)

    const sb = createSwitchboard({
      port: 0,
      host: '127.0.0.1',
      logger: false,
      ...jwtAuth({ secret: SECRET }),
    })
    const { url } = await sb.ready
    const seen: unknown[] = []
    sb.on('connection', (conn) => seen.push(conn.data))
    const ws = new WebSocket(url, 'switchboard.v1', { headers: { Authorization: `Bearer ${token}` } })
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    expect(seen).toEqual([expect.objectContaining({ userId: 'alice', role: 'admin' })])
    ws.terminate()
    await sb.close({ timeout: 300 })
  })

  it('exits 2 with the usage on bad flags', async () => {
    const failed = await run(process.execPath, [bin, 'token', '--sub', 'alice'], {
      env: { ...process.env, JWT_SECRET: '' },
    }).catch((err: { code: number; stderr: string }) => err)
    expect(failed).toMatchObject({ code: 2 })
    expect((failed as { stderr: string }).stderr).toContain('--secret (or JWT_SECRET) is required')
  })
})
