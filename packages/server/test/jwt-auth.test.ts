// jwtAuth on a real server with real clients: every refused token (alg none, unsigned, wrong key,
// wrong iss/aud, expired, not yet valid, HS/RS confusion), the three token sources, pending connections, a JWKS served over HTTP (cached, bounded refetch),
// query-token redaction in logs, and expiry: refresh keeps the connection, no refresh closes 4001.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { inspect } from 'node:util'
import { SwitchboardClient } from '@switchboard/client'
import { createSwitchboard, type Logger, redactUrl, type SwitchboardOptions } from '@switchboard/server'
import { jwtAuth } from '@switchboard/server/jwt'
import { connect, serverFixture, until } from '@switchboard/testing'
import {
  type CryptoKey,
  exportJWK,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from 'jose'
import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import WebSocket from 'ws'
import { frame, RawClient } from './raw-websocket.js'

const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long'
const secretKey = new TextEncoder().encode(SECRET)
const now = () => Math.floor(Date.now() / 1000)

interface SignOptions {
  alg?: string
  key?: Uint8Array | CryptoKey
  kid?: string
  /** Seconds from now; null leaves `exp` out. */
  exp?: number | null
  nbf?: number
  claims?: JWTPayload
}

function sign({ alg = 'HS256', key = secretKey, kid, exp = 600, nbf, claims = {} }: SignOptions = {}) {
  const jwt = new SignJWT({ sub: 'alice', ...claims }).setProtectedHeader(kid ? { alg, kid } : { alg })
  jwt.setIssuedAt()
  if (exp !== null) jwt.setExpirationTime(now() + exp)
  if (nbf !== undefined) jwt.setNotBefore(now() + nbf)
  return jwt.sign(key)
}

const { setup, onCleanup } = serverFixture()

/** A real ws client with headers; resolves with the HTTP status when the handshake is refused. */
function openWith(url: string, headers: Record<string, string>): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'switchboard.v1', { headers })
    ws.once('open', () => {
      onCleanup(() => ws.terminate())
      resolve(ws)
    })
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    ws.once('error', reject)
  })
}

describe('configuration', () => {
  it('refuses key and algorithm mixes that invite confusion', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true })
    const pem = await exportSPKI(publicKey)
    // @ts-expect-error: a secret only verifies HS algorithms
    expect(() => jwtAuth({ secret: SECRET, algorithms: ['RS256'] })).toThrow(TypeError)
    // @ts-expect-error: an HS algorithm beside a public key is the HS/RS confusion
    expect(() => jwtAuth({ publicKey: pem, algorithms: ['RS256', 'HS256'] })).toThrow(TypeError)
    // @ts-expect-error: never 'none'
    expect(() => jwtAuth({ publicKey: pem, algorithms: ['none'] })).toThrow(TypeError)
    expect(() => jwtAuth({ publicKey: pem, algorithms: [] })).toThrow(TypeError)
    expect(() => jwtAuth({ publicKey: privateKey, algorithms: ['RS256'] })).toThrow(/private key/)
    // A private key's PEM (which Node would read as its public half) is refused too.
    const privatePem = await exportPKCS8(privateKey)
    expect(() => jwtAuth({ publicKey: privatePem, algorithms: ['RS256'] })).toThrow(/is a private key/)
    // A key that cannot verify the algorithms given: every token would be refused.
    const ec = await exportSPKI((await generateKeyPair('ES256', { extractable: true })).publicKey)
    expect(() => jwtAuth({ publicKey: ec, algorithms: ['RS256'] })).toThrow(
      /the public key is an EC key \(prime256v1\), which cannot verify RS256/,
    )
    expect(() => jwtAuth({ publicKey: ec, algorithms: ['ES384'] })).toThrow(/cannot verify ES384/)
    expect(() => jwtAuth({ publicKey: pem, algorithms: ['ES256'] })).toThrow(
      /an RSA key, which cannot verify ES256/,
    )
    expect(() => jwtAuth({ publicKey: ec, algorithms: ['ES256'] })).not.toThrow()
    expect(() => jwtAuth({ publicKey: pem, algorithms: ['RS256', 'PS256'] })).not.toThrow()
    expect(() => jwtAuth({ secret: '' })).toThrow(TypeError)
    expect(() =>
      createSwitchboard({ ...jwtAuth({ secret: SECRET }), authenticate: () => ({}), port: 0, logger: false }),
    ).toThrow(/tokenAuth replaces authenticate/)
  })
})

describe('types', () => {
  it('conn.data is typed by the claims (checked by tsc, never run against a server)', () => {
    const typed = () => {
      const sb = createSwitchboard({ ...jwtAuth({ secret: SECRET }) })
      sb.on('connection', (conn) => expectTypeOf(conn.data.userId).toEqualTypeOf<string>())
      const mapped = createSwitchboard({ ...jwtAuth({ secret: SECRET, claims: (p) => ({ user: p.sub }) }) })
      mapped.on('connection', (conn) => expectTypeOf(conn.data).toEqualTypeOf<{ user: string }>())
    }
    expect(typeof typed).toBe('function')
  })
})

describe('token sources', () => {
  it('takes a token from the Authorization header: claims on conn.data, sub as userId', async () => {
    const { sb, url } = await setup(jwtAuth({ secret: SECRET }))
    const seen: unknown[] = []
    sb.on('connection', (conn) => seen.push(conn.data))
    const ws = await openWith(url, { Authorization: `Bearer ${await sign({ claims: { role: 'admin' } })}` })
    expect(ws).toBeInstanceOf(WebSocket)
    await until(() => seen.length === 1)
    expect(seen[0]).toMatchObject({ sub: 'alice', userId: 'alice', role: 'admin' })
    expect(await openWith(url, { Authorization: 'Bearer not-a-jwt' })).toBe(401)
  })

  it('takes a token from the ?token= query, and maps claims with the claims hook', async () => {
    const { sb, url } = await setup(
      jwtAuth({ secret: SECRET, claims: (p) => ({ user: p.sub, admin: !!p.admin }) }),
    )
    const seen: unknown[] = []
    sb.on('connection', (conn) => seen.push(conn.data))
    const c = await connect(`${url}?token=${await sign({ claims: { admin: true } })}`)
    // Authenticated by the handshake: the hello does not ask for a token.
    expect(c.frames[0]).not.toHaveProperty('auth')
    c.send({ type: 'subscribe', id: '1', channel: 'room' })
    expect(await c.next('reply')).toMatchObject({ id: '1', ok: true })
    expect(seen).toEqual([{ user: 'alice', admin: true }])
  })

  it('a connection without a token may only authenticate: everything else is unauthorized', async () => {
    const { sb, url } = await setup(jwtAuth({ secret: SECRET }))
    sb.handle('whoami', (conn) => conn.data as never)
    const seen: unknown[] = []
    sb.on('connection', (conn) => seen.push(conn.data))
    const c = await connect(url)
    expect(c.frames[0]).toMatchObject({ type: 'hello', auth: 'required' })
    c.send({ type: 'subscribe', id: 's1', channel: 'room' })
    c.send({ type: 'publish', id: 'p1', channel: 'room', data: 1 })
    c.send({ type: 'request', id: 'r1', event: 'whoami' })
    c.send({ type: 'unsubscribe', id: 'u1', channel: 'room' })
    c.send({ type: 'ping', id: 'still' })
    for (const id of ['s1', 'p1', 'r1', 'u1']) {
      expect(await c.next('reply', (r) => r.id === id)).toMatchObject({
        ok: false,
        error: { code: 'unauthorized' },
      })
    }
    expect(await c.next('pong')).toEqual({ type: 'pong', id: 'still' })
    // The `connection` event waits for the token.
    expect(seen).toEqual([])
    c.send({ type: 'auth', id: 'a1', token: await sign() })
    expect(await c.next('reply', (r) => r.id === 'a1')).toMatchObject({ ok: true })
    expect(seen).toEqual([expect.objectContaining({ userId: 'alice' })])
    c.send({ type: 'request', id: 'r2', event: 'whoami' })
    expect(await c.next('reply', (r) => r.id === 'r2')).toMatchObject({ ok: true, data: { userId: 'alice' } })
  })

  it('closes a connection that sends no token within authTimeout with 4001', async () => {
    const { url } = await setup(jwtAuth({ secret: SECRET, authTimeout: 200 }))
    const c = await connect(url)
    expect(await c.closed).toEqual({ code: 4001, reason: 'no token in time' })
  })

  it('without the frame source, a handshake without a token is refused with 401', async () => {
    const { url } = await setup(jwtAuth({ secret: SECRET, sources: ['header'] }))
    await expect(connect(url)).rejects.toThrow('HTTP 401')
    // and the query is not a source then
    await expect(connect(`${url}?token=${await sign()}`)).rejects.toThrow('HTTP 401')
  })
})

describe('refused tokens (the authentication attacks)', () => {
  let rsa: { publicKey: CryptoKey; privateKey: CryptoKey; pem: string }
  let otherRsa: CryptoKey
  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true })
    rsa = { ...pair, pem: await exportSPKI(pair.publicKey) }
    otherRsa = (await generateKeyPair('RS256')).privateKey
  })

  const iss = 'https://auth.example'
  const aud = 'switchboard'
  const valid = (o: SignOptions = {}) => sign({ ...o, claims: { iss, aud, ...o.claims } })
  const hsCases: Array<[string, () => Promise<string>, string]> = [
    [
      'alg none',
      async () => new UnsecuredJWT({ sub: 'alice', iss, aud, exp: now() + 600 }).encode(),
      'token algorithm not allowed',
    ],
    [
      'unsigned (HS256 header, no signature)',
      async () => {
        const [header, payload] = (await valid()).split('.')
        return `${header}.${payload}.`
      },
      'token signature invalid',
    ],
    [
      'wrong key',
      () => valid({ key: new TextEncoder().encode('another-secret-of-sufficient-length!!') }),
      'token signature invalid',
    ],
    ['wrong iss', () => valid({ claims: { iss: 'https://evil.example' } }), 'token claim "iss" rejected'],
    ['wrong aud', () => valid({ claims: { aud: 'someone-else' } }), 'token claim "aud" rejected'],
    ['expired', () => valid({ exp: -10 }), 'token expired'],
    ['not yet valid (nbf in the future)', () => valid({ nbf: 300 }), 'token claim "nbf" rejected'],
    ['no exp', () => valid({ exp: null }), 'token claim "exp" missing'],
    ['no sub', () => valid({ claims: { sub: undefined } }), 'token claim "sub" missing'],
    ['HS384 when only HS256 is allowed', () => valid({ alg: 'HS384' }), 'token algorithm not allowed'],
    ['garbage', async () => 'not.a.jwt', 'token malformed'],
  ]
  const hsOptions = { secret: SECRET, issuer: iss, audience: aud }

  it('accepts the well-formed token these cases are variations of', async () => {
    const { url } = await setup(jwtAuth(hsOptions))
    const c = await connect(`${url}?token=${await valid()}`)
    c.send({ type: 'subscribe', id: '1', channel: 'room' })
    expect(await c.next('reply')).toMatchObject({ ok: true })
  })

  it.each(hsCases)(
    '%s: 401 on the handshake; unauthorized and 4001 in an auth frame',
    async (_name, make, why) => {
      const { url } = await setup(jwtAuth(hsOptions))
      const token = await make()
      await expect(connect(`${url}?token=${encodeURIComponent(token)}`)).rejects.toThrow('HTTP 401')
      expect(await openWith(url, { Authorization: `Bearer ${token}` })).toBe(401)
      const c = await connect(url)
      c.send({ type: 'auth', id: 'a', token })
      expect(await c.next('reply')).toEqual({
        type: 'reply',
        id: 'a',
        ok: false,
        error: { code: 'unauthorized', message: why },
      })
      expect(await c.closed).toEqual({ code: 4001, reason: why })
    },
  )

  it('RS256 with a public key: the right key passes, another key and HS/RS confusion fail', async () => {
    const { url } = await setup(jwtAuth({ publicKey: rsa.pem, algorithms: ['RS256'] }))
    const good = await sign({ alg: 'RS256', key: rsa.privateKey })
    const c = await connect(`${url}?token=${good}`)
    c.send({ type: 'ping', id: 'p' })
    expect(await c.next('pong')).toBeTruthy()
    const wrongKey = await sign({ alg: 'RS256', key: otherRsa })
    await expect(connect(`${url}?token=${wrongKey}`)).rejects.toThrow('HTTP 401')
    // The classic confusion: an HS256 token whose "secret" is the server's public key text.
    const confused = await sign({ alg: 'HS256', key: new TextEncoder().encode(rsa.pem) })
    await expect(connect(`${url}?token=${confused}`)).rejects.toThrow('HTTP 401')
    const confusedDer = await sign({
      alg: 'HS256',
      key: new Uint8Array(await crypto.subtle.exportKey('spki', rsa.publicKey)),
    })
    await expect(connect(`${url}?token=${confusedDer}`)).rejects.toThrow('HTTP 401')
  })
})

describe('JWKS', () => {
  async function jwksServer() {
    const keys = new Map<string, { privateKey: CryptoKey; jwk: object }>()
    const addKey = async (kid: string) => {
      const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
      keys.set(kid, { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } })
      return privateKey
    }
    const published = new Set<string>()
    let fetches = 0
    const server: Server = createServer((_req, res) => {
      fetches++
      const body = { keys: [...published].map((kid) => keys.get(kid)!.jwk) }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    onCleanup(() => new Promise((resolve) => server.close(resolve)))
    const { port } = server.address() as AddressInfo
    return {
      url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
      addKey,
      publish: (kid: string) => published.add(kid),
      fetches: () => fetches,
    }
  }

  it('fetches the key set once, and refetches for an unknown kid at most once per cooldown', async () => {
    const jwks = await jwksServer()
    const k1 = await jwks.addKey('k1')
    jwks.publish('k1')
    const { url } = await setup(jwtAuth({ jwks: jwks.url, algorithms: ['ES256'], jwksCooldown: 1000 }))
    expect(jwks.fetches()).toBe(0)
    await connect(`${url}?token=${await sign({ alg: 'ES256', key: k1, kid: 'k1' })}`)
    expect(jwks.fetches()).toBe(1)
    // The second connection uses the cached set.
    await connect(`${url}?token=${await sign({ alg: 'ES256', key: k1, kid: 'k1' })}`)
    expect(jwks.fetches()).toBe(1)
    // Unknown kids right after a fetch: refused without hammering the key server.
    const k2 = await jwks.addKey('k2')
    for (let i = 0; i < 5; i++) {
      const token = await sign({ alg: 'ES256', key: k2, kid: 'k2' })
      await expect(connect(`${url}?token=${token}`)).rejects.toThrow('HTTP 401')
    }
    expect(jwks.fetches()).toBe(1)
    // Once the cooldown has passed, a rotated-in key is fetched (once) and accepted.
    jwks.publish('k2')
    await new Promise((r) => setTimeout(r, 1100))
    await connect(`${url}?token=${await sign({ alg: 'ES256', key: k2, kid: 'k2' })}`)
    expect(jwks.fetches()).toBe(2)
    for (let i = 0; i < 5; i++) {
      const token = await sign({ alg: 'ES256', key: k1, kid: `unknown-${i}` })
      await expect(connect(`${url}?token=${token}`)).rejects.toThrow('HTTP 401')
    }
    expect(jwks.fetches()).toBe(2)
  })

  it('a key server that is down answers 503 (try again), not 401', async () => {
    const jwks = await jwksServer()
    const k1 = await jwks.addKey('k1')
    const dead = createServer()
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve))
    const { port } = dead.address() as AddressInfo
    await new Promise((resolve) => dead.close(resolve))
    const { url } = await setup(
      jwtAuth({ jwks: `http://127.0.0.1:${port}/jwks.json`, algorithms: ['ES256'], jwksTimeout: 1000 }),
    )
    const token = await sign({ alg: 'ES256', key: k1, kid: 'k1' })
    expect(await openWith(url, { Authorization: `Bearer ${token}` })).toBe(503)
  })
})

describe('logs', () => {
  it('never write a token from the query string (or anywhere else)', async () => {
    const lines: string[] = []
    const logger: Logger = {
      info: (m) => lines.push(m),
      warn: (m) => lines.push(m),
      error: (m, err) => lines.push(`${m} ${inspect(err, { depth: 5 })}`),
    }
    const k = await generateKeyPair('ES256')
    const dead = createServer()
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve))
    const { port } = dead.address() as AddressInfo
    await new Promise((resolve) => dead.close(resolve))
    const tokens: string[] = []
    const token = async (t: Promise<string> | string) => {
      const s = await t
      tokens.push(s)
      return s
    }

    const hs = await setup({ ...jwtAuth({ secret: SECRET }), logger })
    hs.sb.handle('boom', () => {
      throw new Error('handler failure')
    })
    const ok = await connect(`${hs.url}?token=${await token(sign())}`)
    ok.send({ type: 'request', id: '1', event: 'boom' })
    await ok.next('reply')
    await expect(connect(`${hs.url}?token=${await token(sign({ exp: -5 }))}`)).rejects.toThrow('HTTP 401')
    await expect(
      connect(`${hs.url}?token=${await token(sign({ key: new Uint8Array(32) }))}`),
    ).rejects.toThrow()
    await expect(connect(`${hs.url}?token=${await token('garbage.garbage.garbage')}`)).rejects.toThrow()
    const pending = await connect(hs.url)
    pending.send({ type: 'auth', id: 'a', token: await token(sign({ exp: -5 })) })
    await pending.closed

    const jwks = await setup({
      ...jwtAuth({ jwks: `http://127.0.0.1:${port}/jwks.json`, algorithms: ['ES256'] }),
      logger,
    })
    const t = await token(sign({ alg: 'ES256', key: k.privateKey, kid: 'k' }))
    await expect(connect(`${jwks.url}?token=${t}&name=x`)).rejects.toThrow('HTTP 503')
    const raw = await RawClient.open(jwks.port, RawClient.handshake(`/ws?token=${t}`))
    expect(await raw.status()).toBe(503)
    expect(raw.response).not.toContain(t)

    // Something was logged (the handler failure, the unreachable key server)…
    expect(lines.some((l) => l.includes('handler failure'))).toBe(true)
    expect(lines.some((l) => l.includes('could not get the verification keys'))).toBe(true)
    // …and no line holds a token, or even its signature.
    for (const line of lines) {
      for (const tok of tokens) {
        expect(line).not.toContain(tok)
        const signature = tok.split('.')[2]
        if (signature) expect(line).not.toContain(signature)
      }
    }
  })

  it('redactUrl hides token parameters for logs the application writes', () => {
    expect(redactUrl('/ws?name=ada&token=abc.def.ghi&x=1')).toBe('/ws?name=ada&token=[redacted]&x=1')
    expect(redactUrl('/ws?access_token=abc&JWT=def')).toBe('/ws?access_token=[redacted]&JWT=[redacted]')
    expect(redactUrl('/ws?t%6Fken=abc')).toBe('/ws?t%6Fken=[redacted]')
    expect(redactUrl('/ws?sig=abc', ['sig'])).toBe('/ws?sig=[redacted]')
    expect(redactUrl('/ws')).toBe('/ws')
    expect(redactUrl(undefined)).toBe('')
  })
})

describe('expiry and refresh', () => {
  const shortLived = (options: Partial<SwitchboardOptions> = {}) => ({
    ...jwtAuth({ secret: SECRET, refreshBefore: 1000 }),
    ...options,
  })

  it('asks for a refresh before exp; a fresh token for the same sub keeps the connection', async () => {
    const { sb, url } = await setup(shortLived())
    sb.handle('whoami', (conn) => conn.data as never)
    const c = await connect(`${url}?token=${await sign({ exp: 2 })}`)
    const refresh = await c.next('refresh')
    expect(refresh.expiresIn).toBeGreaterThan(0)
    expect(refresh.expiresIn).toBeLessThanOrEqual(2000)
    c.send({ type: 'auth', id: 'r', token: await sign({ exp: 600, claims: { role: 'renewed' } }) })
    expect(await c.next('reply', (r) => r.id === 'r')).toMatchObject({ ok: true })
    // Past the first token's exp: still open, with the new claims.
    await new Promise((r) => setTimeout(r, refresh.expiresIn + 300))
    c.send({ type: 'request', id: 'w', event: 'whoami' })
    expect(await c.next('reply', (r) => r.id === 'w')).toMatchObject({ ok: true, data: { role: 'renewed' } })
  })

  it('a token valid for 40 days (beyond the range of setTimeout) neither expires nor asks for a refresh now', async () => {
    const { url } = await setup(shortLived())
    const c = await connect(`${url}?token=${await sign({ exp: 40 * 86_400 })}`)
    await new Promise((r) => setTimeout(r, 200))
    c.send({ type: 'ping', id: 'alive' })
    expect(await c.next('pong')).toEqual({ type: 'pong', id: 'alive' })
    expect(c.frames.map((f) => f.type)).toEqual(['hello', 'pong'])
  })

  it('closes with 4001 at exp when no refresh comes', async () => {
    const { url } = await setup(shortLived())
    const c = await connect(`${url}?token=${await sign({ exp: 2 })}`)
    await c.next('refresh')
    expect(await c.closed).toEqual({ code: 4001, reason: 'token expired' })
  })

  it('a refused refresh leaves the old token in force until its exp, then 4001', async () => {
    const { url } = await setup(shortLived())
    const c = await connect(`${url}?token=${await sign({ exp: 2 })}`)
    await c.next('refresh')
    c.send({ type: 'auth', id: 'bad', token: await sign({ exp: -5 }) })
    expect(await c.next('reply')).toMatchObject({ id: 'bad', ok: false, error: { code: 'unauthorized' } })
    c.send({ type: 'ping', id: 'still' })
    expect(await c.next('pong')).toEqual({ type: 'pong', id: 'still' })
    expect((await c.closed).code).toBe(4001)
  })

  it('a refresh for another sub is forbidden and closes with 4003', async () => {
    const { url } = await setup(shortLived())
    const c = await connect(`${url}?token=${await sign({ exp: 600 })}`)
    c.send({ type: 'auth', id: 'x', token: await sign({ claims: { sub: 'mallory' } }) })
    expect(await c.next('reply')).toMatchObject({ id: 'x', ok: false, error: { code: 'forbidden' } })
    expect(await c.closed).toEqual({ code: 4003, reason: 'token subject changed' })
  })

  it('the client refreshes through getToken and stays connected, subscribed, on one connection', async () => {
    const { sb, url } = await setup({ ...shortLived(), channels: { 'room:*': { history: 100 } } })
    let issued = 0
    const client = new SwitchboardClient(url, {
      WebSocket: WebSocket as never,
      getToken: () => {
        issued++
        return sign({ exp: 2 })
      },
    })
    onCleanup(() => client.close())
    const errors: unknown[] = []
    client.on('error', (e) => errors.push(e))
    const received: unknown[] = []
    client.channel('room:1').on('publication', ({ data }) => received.push(data))
    await until(() => client.state === 'connected')
    const id = client.connectionId
    await until(() => sb.channelSize('room:1') === 1)
    // Three token lifetimes (1–2 s each): every one replaced before it ran out.
    const end = Date.now() + 4500
    let n = 0
    while (Date.now() < end) {
      await sb.publish('room:1', n++)
      await new Promise((r) => setTimeout(r, 250))
    }
    await until(() => received.length === n)
    expect(received).toEqual([...Array(n).keys()])
    expect(issued).toBeGreaterThanOrEqual(3)
    expect(client.state).toBe('connected')
    expect(client.connectionId).toBe(id)
    expect(errors).toEqual([])
  })

  it('a getToken that keeps returning the same cached token is asked once per token, and the failure is surfaced', async () => {
    // The server asks for a refresh again at half the remaining life each time it gets the same
    // token back: a client that kept answering would call getToken at halving intervals.
    const { url } = await setup(jwtAuth({ secret: SECRET, refreshBefore: 30_000 }))
    const cached = await sign({ exp: 4 })
    let calls = 0
    const client = new SwitchboardClient(url, {
      WebSocket: WebSocket as never,
      backoff: () => 60_000,
      getToken: () => {
        calls++
        return cached
      },
    })
    onCleanup(() => client.close())
    const errors: string[] = []
    client.on('error', (e) => errors.push(e.code))
    await until(() => client.state === 'connected', 3000)
    await new Promise((r) => setTimeout(r, 3000))
    // One call to connect, one for the first refresh; then no more until a new token.
    expect(calls).toBe(2)
    expect(errors).toEqual(['unauthorized'])
  })

  it('a client without getToken stops at once when the hello asks for a token (not at authTimeout)', async () => {
    const { sb, url } = await setup(jwtAuth({ secret: SECRET, authTimeout: 10_000 }))
    const client = new SwitchboardClient(url, { WebSocket: WebSocket as never, backoff: () => 10 })
    onCleanup(() => client.close())
    const states: Array<{ newState: string; reason: string; closeCode?: number }> = []
    client.on('state', (s) => states.push(s))
    const errors: string[] = []
    client.on('error', (e) => errors.push(`${e.code}: ${e.message}`))
    const started = Date.now()
    await until(() => client.state === 'closed', 3000)
    expect(Date.now() - started).toBeLessThan(3000)
    expect(states.map((s) => s.newState)).not.toContain('connected')
    expect(states.at(-1)).toMatchObject({ newState: 'closed', reason: 'auth_failed', closeCode: 4001 })
    expect(errors).toEqual(['unauthorized: the server requires a token: set getToken'])
    await until(() => sb.connections.size === 0, 3000)
  })

  it('a client that cannot refresh is closed with 4001 and stops reconnecting', async () => {
    const { sb, url } = await setup(shortLived())
    let calls = 0
    const client = new SwitchboardClient(url, {
      WebSocket: WebSocket as never,
      backoff: () => 10,
      getToken: () => {
        calls++
        if (calls > 1) throw new Error('identity provider unreachable')
        return sign({ exp: 2 })
      },
    })
    onCleanup(() => client.close())
    const states: Array<{ newState: string; reason: string; closeCode?: number }> = []
    client.on('state', (s) => states.push(s))
    client.on('error', () => {})
    await until(() => client.state === 'closed', 5000)
    expect(states.at(-1)).toMatchObject({ newState: 'closed', reason: 'terminal_close', closeCode: 4001 })
    await new Promise((r) => setTimeout(r, 300))
    expect(client.state).toBe('closed')
    expect(calls).toBe(2)
    expect(sb.connections.size).toBe(0)
  })
})

describe('raw frames on a header-authenticated socket', () => {
  it('works without any SDK: Authorization header, hello, subscribe', async () => {
    const { port } = await setup(jwtAuth({ secret: SECRET }))
    const raw = await RawClient.open(
      port,
      RawClient.handshake('/ws', { Authorization: `Bearer ${await sign()}` }),
    )
    expect(await raw.status()).toBe(101)
    raw.send(frame({ opcode: 1, payload: JSON.stringify({ type: 'subscribe', id: '1', channel: 'c' }) }))
    await until(() => raw.texts().length >= 2)
    expect(raw.texts()[0]).toMatchObject({ type: 'hello' })
    expect(raw.texts()[1]).toMatchObject({ type: 'reply', id: '1', ok: true })
    raw.socket.destroy()
  })
})
