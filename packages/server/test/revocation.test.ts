// Token revocation on a real server with real clients (jwtAuth, the in-memory broker): a revoked
// `jti` is refused at the handshake (401, header and query) and in `auth` frames — the first one
// and a refresh — and a live connection holding it is closed within a second with 4001, after
// which the SDK stays closed instead of reconnecting with the same token. `{ user, issuedBefore }`
// covers the user's tokens issued before it (and those without `iat`), not later ones; an entry
// expires after `revocationTtl`. `POST /api/revoke` does the same with a full key, answers 403 to
// a publish-only key, and refuses malformed bodies.
import { SwitchboardClient } from '@switchboard/client'
import { jwtAuth } from '@switchboard/server/jwt'
import { connect, serverFixture, until } from '@switchboard/testing'
import { type JWTPayload, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { call, documentSchemas, KEYS, ok, PUBLISH_KEY } from './http-api-helpers.js'

const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long'
const secretKey = new TextEncoder().encode(SECRET)
const seconds = () => Math.floor(Date.now() / 1000)

interface SignOptions {
  sub?: string
  jti?: string
  /** Seconds since the epoch; null leaves `iat` out. Default now. */
  iat?: number | null
  claims?: JWTPayload
}

function sign({ sub = 'alice', jti, iat = seconds(), claims = {} }: SignOptions = {}): Promise<string> {
  const jwt = new SignJWT({ sub, ...claims }).setProtectedHeader({ alg: 'HS256' })
  if (jti !== undefined) jwt.setJti(jti)
  if (iat !== null) jwt.setIssuedAt(iat)
  jwt.setExpirationTime(seconds() + 600)
  return jwt.sign(secretKey)
}

const { setup, onCleanup } = serverFixture({
  ...jwtAuth({ secret: SECRET }),
  httpApi: { keys: KEYS },
})

/** The HTTP status of a handshake with this token in the header (101 when it opens). */
function handshakeStatus(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'switchboard.v1', { headers: { Authorization: `Bearer ${token}` } })
    ws.once('open', () => {
      ws.terminate()
      resolve(101)
    })
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    ws.once('error', reject)
  })
}

async function open(url: string, token: string) {
  const c = await connect(`${url}?token=${token}`)
  onCleanup(() => c.ws.terminate())
  return c
}

describe('a revoked token id', () => {
  it('is refused at the handshake (header and query) and in a first auth frame; other tokens still pass', async () => {
    const { sb, url } = await setup()
    const revoked = await sign({ jti: 'token-1' })
    const other = await sign({ jti: 'token-2' })
    expect(await handshakeStatus(url, revoked)).toBe(101)
    const { expiresAt } = await sb.revoke({ jti: 'token-1' })
    // Kept for the default revocationTtl, 24 h.
    expect(Math.abs(expiresAt.getTime() - (Date.now() + 86_400_000))).toBeLessThan(5000)
    expect(await handshakeStatus(url, revoked)).toBe(401)
    await expect(connect(`${url}?token=${revoked}`)).rejects.toThrow('HTTP 401')
    expect(await handshakeStatus(url, other)).toBe(101)
    // A pending connection's first auth frame: unauthorized, then 4001.
    const pending = await connect(url)
    onCleanup(() => pending.ws.terminate())
    pending.send({ type: 'auth', id: 'a', token: revoked })
    expect(await pending.next('reply')).toMatchObject({
      id: 'a',
      ok: false,
      error: { code: 'unauthorized', message: 'token revoked' },
    })
    expect(await pending.closed).toEqual({ code: 4001, reason: 'token revoked' })
  })

  it('in a refresh: answered unauthorized and the connection closed with 4001', async () => {
    const { sb, url } = await setup()
    const c = await open(url, await sign({ jti: 'first' }))
    await sb.revoke({ jti: 'second' })
    c.send({ type: 'auth', id: 'r', token: await sign({ jti: 'second' }) })
    expect(await c.next('reply')).toMatchObject({
      id: 'r',
      ok: false,
      error: { code: 'unauthorized', message: 'token revoked' },
    })
    expect(await c.closed).toEqual({ code: 4001, reason: 'token revoked' })
  })

  it('closes the live connection holding it within a second with 4001, and no other', async () => {
    const { sb, url } = await setup()
    const holder = await open(url, await sign({ jti: 'held' }))
    const bystander = await open(url, await sign({ jti: 'kept' }))
    // A refresh moves the connection onto another token: revoking the first one no longer hits it.
    const moved = await open(url, await sign({ jti: 'old' }))
    moved.send({ type: 'auth', id: 'm', token: await sign({ jti: 'new' }) })
    expect(await moved.next('reply')).toMatchObject({ id: 'm', ok: true })
    const started = Date.now()
    await sb.revoke({ jti: 'held' })
    await sb.revoke({ jti: 'old' })
    expect(await holder.closed).toEqual({ code: 4001, reason: 'token revoked' })
    expect(Date.now() - started).toBeLessThan(1000)
    for (const c of [bystander, moved]) {
      c.send({ type: 'ping', id: 'p' })
      expect(await c.next('pong')).toEqual({ type: 'pong', id: 'p' })
    }
    expect(sb.connections.size).toBe(2)
  })

  it('the SDK closed with 4001 stays closed: it does not reconnect with the same token', async () => {
    const { sb, url } = await setup()
    const token = await sign({ jti: 'sdk-token' })
    let calls = 0
    const client = new SwitchboardClient(url, {
      WebSocket: WebSocket as never,
      backoff: () => 10,
      getToken: () => {
        calls++
        return token
      },
    })
    onCleanup(() => client.close())
    client.on('error', () => {})
    const states: Array<{ newState: string; reason: string; closeCode?: number }> = []
    client.on('state', (s) => states.push(s))
    await until(() => client.state === 'connected', 3000)
    await sb.revoke({ jti: 'sdk-token' })
    await until(() => client.state === 'closed', 1000)
    expect(states.at(-1)).toMatchObject({ newState: 'closed', reason: 'terminal_close', closeCode: 4001 })
    await new Promise((r) => setTimeout(r, 300))
    expect(client.state).toBe('closed')
    expect(calls).toBe(1)
    expect(sb.connections.size).toBe(0)
  })
})

describe('a user’s tokens issued before a time', () => {
  it('covers tokens issued before it and tokens without iat, not those issued at or after it', async () => {
    const { sb, url } = await setup()
    const t = seconds()
    const before = await open(url, await sign({ iat: t - 100 }))
    const noIat = await open(url, await sign({ iat: null }))
    const bob = await open(url, await sign({ sub: 'bob', iat: t - 100 }))
    await sb.revoke({ user: 'alice', issuedBefore: new Date((t - 50) * 1000) })
    expect((await before.closed).code).toBe(4001)
    expect((await noIat.closed).code).toBe(4001)
    expect(await handshakeStatus(url, await sign({ iat: t - 100 }))).toBe(401)
    expect(await handshakeStatus(url, await sign({ iat: t - 50 }))).toBe(101)
    expect(await handshakeStatus(url, await sign({ iat: t }))).toBe(101)
    bob.send({ type: 'ping', id: 'b' })
    expect(await bob.next('pong')).toEqual({ type: 'pong', id: 'b' })
  })

  it('without issuedBefore: every token the user holds now; a later one passes', async () => {
    const { sb, url } = await setup()
    const c = await open(url, await sign({ iat: seconds() - 1 }))
    await sb.revoke({ user: 'alice' })
    expect(await c.closed).toEqual({ code: 4001, reason: 'token revoked' })
    await new Promise((r) => setTimeout(r, 1100))
    expect(await handshakeStatus(url, await sign())).toBe(101)
  })
})

describe('a user named by another claim (jwtAuth’s subject option)', () => {
  it('revoke({ user }) takes the name the application shows, the same one the user index holds', async () => {
    const { sb, url } = await setup({
      ...jwtAuth({
        secret: SECRET,
        subject: (claims) => (typeof claims.name === 'string' ? claims.name : ''),
      }),
    })
    const carol = await open(url, await sign({ sub: 'u123', iat: seconds() - 1, claims: { name: 'carol' } }))
    await until(async () => (await sb.broker.users.count('carol')) === 1, 5000, 'carol in the user index')
    // By the token's sub: nothing (it is not the user); by the name: closed.
    await sb.revoke({ user: 'u123' })
    carol.send({ type: 'ping', id: 'p' })
    expect(await carol.next('pong')).toEqual({ type: 'pong', id: 'p' })
    await sb.revoke({ user: 'carol' })
    expect(await carol.closed).toEqual({ code: 4001, reason: 'token revoked' })
    // A token whose chosen claim is missing names no subject: refused.
    expect(await handshakeStatus(url, await sign({ sub: 'u9' }))).toBe(401)
  })
})

describe('expiry and arguments', () => {
  it('forgets a revocation after revocationTtl: the token is accepted again', async () => {
    const { sb, url } = await setup({ revocationTtl: 800 })
    const token = await sign({ jti: 'brief' })
    const { expiresAt } = await sb.revoke({ jti: 'brief' })
    expect(expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(800)
    expect(await handshakeStatus(url, token)).toBe(401)
    await until(() => Date.now() > expiresAt.getTime() + 10, 2000)
    expect(await handshakeStatus(url, token)).toBe(101)
  })

  it('refuses malformed requests and options with a TypeError', async () => {
    const { sb } = await setup()
    await expect(sb.revoke({ jti: '' })).rejects.toThrow(TypeError)
    await expect(sb.revoke({ user: 'a', issuedBefore: Number.NaN })).rejects.toThrow(TypeError)
    await expect(sb.revoke({ user: 'a', issuedBefore: new Date('nonsense') })).rejects.toThrow(TypeError)
    await expect(sb.revoke({ jti: 'x', user: 'a' } as never)).rejects.toThrow(TypeError)
    await expect(sb.revoke({} as never)).rejects.toThrow(TypeError)
    await expect(setup({ revocationTtl: 0 })).rejects.toThrow(/revocationTtl/)
  })
})

describe('POST /api/revoke', () => {
  it('revokes with a full key (401 and 4001 follow); 403 for a publish-only key; 400 for malformed bodies', async () => {
    const { url, api } = await setup()
    const conforms = await documentSchemas(api!.url)
    const held = await open(url, await sign({ jti: 'api-1' }))
    const answer = await ok(conforms, call(api!.url, 'revoke', { jti: 'api-1' }), 'revoke')
    // Seconds since the epoch, 24 h ahead.
    expect(Math.abs((answer.expiresAt as number) - (Date.now() / 1000 + 86_400))).toBeLessThan(5)
    expect(await held.closed).toEqual({ code: 4001, reason: 'token revoked' })
    expect(await handshakeStatus(url, await sign({ jti: 'api-1' }))).toBe(401)

    // issuedBefore in seconds, as a JWT's iat.
    const t = seconds()
    const old = await open(url, await sign({ sub: 'carol', iat: t - 100 }))
    await ok(conforms, call(api!.url, 'revoke', { user: 'carol', issuedBefore: t - 50 }), 'revoke')
    expect((await old.closed).code).toBe(4001)
    expect(await handshakeStatus(url, await sign({ sub: 'carol', iat: t - 10 }))).toBe(101)

    const refused = await call(api!.url, 'revoke', { jti: 'api-2' }, PUBLISH_KEY)
    expect(refused.status).toBe(403)
    expect(await handshakeStatus(url, await sign({ jti: 'api-2' }))).toBe(101)
    for (const body of [
      {},
      { jti: 'a', user: 'b' },
      { jti: 'a', issuedBefore: t },
      { user: 'b', issuedBefore: 'yesterday' },
      { jti: '' },
    ]) {
      const bad = await call(api!.url, 'revoke', body)
      expect(bad.status, JSON.stringify(body)).toBe(400)
    }
  })
})
