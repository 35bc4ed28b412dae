// A node that missed a revocation's notification still enforces it: two servers on a private
// Redis, node B's pub/sub connection frozen behind a TCP proxy (open, but nothing passes) while
// node A revokes. B's liveness probe restarts the connection; on reconnect B reads the whole list
// again, closes the connection it still held with the revoked token (4001) and refuses the token
// at the handshake. Also the broker's own part: `resync` after every pub/sub reconnect, and the
// list survives it.
import { RedisBroker } from '@switchboard/redis'
import { createSwitchboard } from '@switchboard/server'
import { jwtAuth } from '@switchboard/server/jwt'
import { connect } from '@switchboard/testing'
import { SignJWT } from 'jose'
import { expect, it } from 'vitest'
import { privateRedisFixture, until } from './redis-helpers.js'
import { TcpProxy } from './tcp-proxy.js'

const SECRET = 'a-resync-secret-that-is-at-least-32-bytes'
const fx = privateRedisFixture({ restart: true, flush: true })
const { cleanups } = fx

async function node(url: string, probe?: { intervalMs: number; timeoutMs: number }) {
  const broker = new RedisBroker({ url, logger: { warn() {} }, ...(probe ? { probe } : {}) })
  await broker.ready
  cleanups.push(() => broker.close())
  const sb = createSwitchboard({
    port: 0,
    host: '127.0.0.1',
    logger: false,
    broker,
    ...jwtAuth({ secret: SECRET }),
  })
  const { url: ws } = await sb.ready
  cleanups.push(() => sb.close({ timeout: 300 }))
  return { sb, broker, ws }
}

function sign(sub: string, jti: string): Promise<string> {
  const seconds = Math.floor(Date.now() / 1000)
  return new SignJWT({ sub, jti })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt(seconds)
    .setExpirationTime(seconds + 600)
    .sign(new TextEncoder().encode(SECRET))
}

it('a node whose pub/sub link was silent during the revocation closes the connection once it reconnects', async () => {
  const proxy = await TcpProxy.start(fx.redis.port)
  cleanups.push(() => proxy.close())
  const a = await node(fx.redis.url)
  const b = await node(proxy.url, { intervalMs: 300, timeoutMs: 300 })
  const token = await sign('ada', 'missed')
  const held = await connect(`${b.ws}?token=${token}`)
  cleanups.push(() => held.ws.terminate())

  expect(proxy.freeze('subscribe')).toBe(1)
  await a.sb.revoke({ jti: 'missed' })
  // B did not hear of it: its connection is still open a moment later.
  await new Promise((r) => setTimeout(r, 100))
  held.send({ type: 'ping', id: 'p' })
  const pong = await Promise.race([held.next('pong'), held.closed])
  expect(pong).toEqual({ type: 'pong', id: 'p' })

  // The probe finds the silent connection, restarts it, and B reads the list again.
  expect(await held.closed).toEqual({ code: 4001, reason: 'token revoked' })
  await expect(connect(`${b.ws}?token=${token}`)).rejects.toThrow('HTTP 401')
})

it('the broker tells its listener `resync` after a pub/sub reconnect, and the list is still there', async () => {
  const b = new RedisBroker({ url: fx.redis.url, logger: { warn() {} } })
  await b.ready
  cleanups.push(() => b.close())
  const events: string[] = []
  b.revocations.onRevocation((e) => events.push(e.kind))
  const expiresAt = Date.now() + 60_000
  await b.revocations.add({ jti: 'kept', expiresAt })
  await until(() => events.length === 1, 5000, 'the notification')
  await fx.redis.command('CLIENT', 'KILL', 'TYPE', 'pubsub')
  await until(() => events.includes('resync'), 5000, 'resync')
  expect(events).toEqual(['revoked', 'resync'])
  expect(await b.revocations.list()).toEqual([{ jti: 'kept', expiresAt }])
})
