// Token revocation across nodes: real server processes (`revoke-node.mjs`, jwtAuth, one key
// prefix) on the shared Redis. `POST /api/revoke` on node A closes the connection holding the
// token on node B within a second (4001) and both nodes refuse it at the handshake (401); a node
// started after the revocation refuses it too, and so does a node restarted. Needs the build
// (`npx tsc -b`): the nodes run from dist.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { SwitchboardClient } from '@switchboard/client'
import { connect } from '@switchboard/testing'
import { SignJWT } from 'jose'
import { afterEach, beforeAll, expect, it } from 'vitest'
import WebSocket from 'ws'
import { deleteKeys, SHARED_REDIS, startNodeProcess, uniquePrefix, until } from './redis-helpers.js'

const script = fileURLToPath(new URL('./fixtures/revoke-node.mjs', import.meta.url))
const built = fileURLToPath(new URL('../../server/dist/index.js', import.meta.url))
const KEY = 'cluster-key-0123456789abcdef'
const SECRET = 'a-cluster-secret-that-is-at-least-32-bytes'
const seconds = () => Math.floor(Date.now() / 1000)

const cleanups: Array<() => unknown> = []
beforeAll(() => {
  if (!existsSync(built)) throw new Error(`${built} is missing: build first with npx tsc -b`)
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

interface Node {
  ws: string
  api: string
  stop(): Promise<void>
}

async function startNode(prefix: string): Promise<Node> {
  let stop = async (): Promise<void> => {}
  const node = await startNodeProcess(
    script,
    [SHARED_REDIS, prefix, KEY, SECRET],
    (cleanup) => {
      stop = cleanup
      cleanups.push(cleanup)
    },
    /ws:\/\/\S+/,
  )
  const ws = /ws:\/\/\S+/.exec(node.output())![0]
  return { ws, api: `${ws.replace(/^ws/, 'http').replace(/\/ws$/, '')}/api`, stop }
}

function sign(sub: string, jti?: string, iat = seconds()): Promise<string> {
  const jwt = new SignJWT({ sub }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(iat)
  if (jti !== undefined) jwt.setJti(jti)
  return jwt.setExpirationTime(seconds() + 600).sign(new TextEncoder().encode(SECRET))
}

async function revoke(node: Node, body: unknown): Promise<void> {
  const res = await fetch(`${node.api}/revoke`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}` },
    body: JSON.stringify(body),
  })
  expect(res.status, await res.clone().text()).toBe(200)
}

/** The HTTP status of a handshake with this token in the header (101 when it opens). */
function handshakeStatus(node: Node, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(node.ws, 'switchboard.v1', { headers: { Authorization: `Bearer ${token}` } })
    ws.once('open', () => {
      ws.terminate()
      resolve(101)
    })
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    ws.once('error', reject)
  })
}

async function cluster(): Promise<{ prefix: string; a: Node; b: Node }> {
  const prefix = uniquePrefix()
  cleanups.push(() => deleteKeys(SHARED_REDIS, prefix))
  const [a, b] = await Promise.all([startNode(prefix), startNode(prefix)])
  return { prefix, a: a!, b: b! }
}

it('a token revoked through node A is closed on node B within a second and refused by both', async () => {
  const { a, b } = await cluster()
  const token = await sign('ada', 'ada-token-1')
  const calls: number[] = []
  const client = new SwitchboardClient(b.ws, {
    WebSocket: WebSocket as never,
    backoff: () => 10,
    getToken: () => {
      calls.push(Date.now())
      return token
    },
  })
  cleanups.push(() => client.close())
  client.on('error', () => {})
  const closes: number[] = []
  client.on('state', (s) => {
    if (s.closeCode !== undefined) closes.push(s.closeCode)
  })
  await until(() => client.state === 'connected', 5000, 'connected to B')
  const other = await connect(`${b.ws}?token=${await sign('ada', 'ada-token-2')}`)
  cleanups.push(() => other.ws.terminate())

  const started = Date.now()
  await revoke(a, { jti: 'ada-token-1' })
  await until(() => client.state === 'closed', 1000, 'the connection on B closed')
  expect(Date.now() - started).toBeLessThan(1000)
  expect(closes).toEqual([4001])
  expect(await handshakeStatus(b, token)).toBe(401)
  expect(await handshakeStatus(a, token)).toBe(401)
  // The SDK does not come back with the revoked token; the user's other token is untouched.
  await new Promise((r) => setTimeout(r, 300))
  expect(calls).toHaveLength(1)
  other.send({ type: 'ping', id: 'p' })
  expect(await other.next('pong')).toEqual({ type: 'pong', id: 'p' })
})

it('a node started after the revocation, and a node restarted, refuse the token', async () => {
  const { prefix, a, b } = await cluster()
  const t = seconds()
  const byId = await sign('bea', 'bea-token')
  const byUser = await sign('cy', undefined, t - 100)
  const held = await connect(`${b.ws}?token=${byUser}`)
  cleanups.push(() => held.ws.terminate())
  await revoke(a, { jti: 'bea-token' })
  await revoke(b, { user: 'cy', issuedBefore: t - 50 })
  expect((await held.closed).code).toBe(4001)

  const late = await startNode(prefix)
  expect(await handshakeStatus(late, byId)).toBe(401)
  expect(await handshakeStatus(late, byUser)).toBe(401)
  expect(await handshakeStatus(late, await sign('cy', undefined, t - 10))).toBe(101)

  await b.stop()
  const restarted = await startNode(prefix)
  expect(await handshakeStatus(restarted, byId)).toBe(401)
  expect(await handshakeStatus(restarted, byUser)).toBe(401)
  expect(await handshakeStatus(restarted, await sign('bea', 'another'))).toBe(101)
})
