// The user layer on two nodes sharing one Redis: two `users-node.mjs` server processes (one key
// prefix) and the real SDK. `POST /api/disconnect` on either node closes the user's connections
// on both (4004: the SDK stays closed; `reconnect: true`: 4103, and it connects again); the user
// index of a SIGKILLed node is reaped by the other within nodeTtl + heartbeat (1 s + 200 ms); and
// `maxConnectionsPerUser` holds for the user's connections on both nodes — refusing (also when
// connections race on both nodes at once) or closing the oldest on the other node. Needs the
// build (`npx tsc -b`): the nodes run from dist.
import type { ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { SwitchboardClient } from '@switchboard/client'
import { Redis } from 'ioredis'
import { afterEach, beforeAll, expect, it } from 'vitest'
import { deleteKeys, SHARED_REDIS, startNodeProcess, uniquePrefix, until } from './redis-helpers.js'

const script = fileURLToPath(new URL('./fixtures/users-node.mjs', import.meta.url))
const built = fileURLToPath(new URL('../../server/dist/index.js', import.meta.url))
const KEY = 'users-key-0123456789abcdef'
/** The nodes' heartbeat and node ttl (users-node.mjs). */
const HEARTBEAT_MS = 200
const NODE_TTL_MS = 1000

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
  id: string
  child: ChildProcess
}

async function startNode(prefix: string, limit = '-', policy = '-'): Promise<Node> {
  const node = await startNodeProcess(
    script,
    [SHARED_REDIS, prefix, KEY, limit, policy],
    (c) => cleanups.push(c),
    /node \S+/,
  )
  const out = node.output()
  const child = node.child
  const found = /(ws:\/\/\S+) node (\S+)/.exec(out)
  if (!found) throw new Error(`node did not start: ${out}`)
  const ws = found[1]!
  return { ws, api: `${ws.replace(/^ws/, 'http').replace(/\/ws$/, '')}/api`, id: found[2]!, child }
}

async function cluster(limit?: string, policy?: string) {
  const prefix = uniquePrefix()
  cleanups.push(() => deleteKeys(SHARED_REDIS, prefix))
  const nodes = await Promise.all([startNode(prefix, limit, policy), startNode(prefix, limit, policy)])
  return { prefix, a: nodes[0]!, b: nodes[1]! }
}

async function call(node: Node, method: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${node.api}/${method}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}` },
    body: JSON.stringify(body),
  })
  const answer = (await res.json()) as Record<string, unknown>
  expect(res.status, JSON.stringify(answer)).toBe(200)
  return answer
}

/** An SDK client of `user` on a node that retries fast; the close codes and connects it saw. */
function sdk(node: Node, user: string) {
  const client = new SwitchboardClient(`${node.ws}?user=${user}`, { backoff: () => 50 })
  cleanups.push(() => client.close())
  const closes: Array<{ state: string; code: number }> = []
  let connects = 0
  client.on('state', (s) => {
    if (s.closeCode !== undefined) closes.push({ state: s.newState, code: s.closeCode })
  })
  client.on('connected', () => {
    connects++
  })
  return { client, closes, connects: () => connects }
}

async function connected(node: Node, user: string) {
  const c = sdk(node, user)
  await until(() => c.connects() > 0, 10_000, `${user} to connect`)
  return c
}

/** The user index as Redis holds it: the user's connection ids → their entries (keys.ts). */
async function indexOf(prefix: string, user: string): Promise<Record<string, string>> {
  const redis = new Redis(SHARED_REDIS)
  try {
    return await redis.hgetall(`${prefix}user:{${user}}`)
  } finally {
    redis.disconnect()
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

it('POST /api/disconnect on one node closes the user’s connections on both: 4004, not retried', async () => {
  const { prefix, a, b } = await cluster()
  const onA = await connected(a, 'ada')
  const onB = await connected(b, 'ada')
  const bob = await connected(b, 'bob')
  await until(async () => Object.keys(await indexOf(prefix, 'ada')).length === 2)
  const nodes = Object.values(await indexOf(prefix, 'ada')).map((e) => JSON.parse(e)[0])
  expect(nodes.sort()).toEqual([a.id, b.id].sort())

  expect(await call(a, 'disconnect', { user: 'ada', reason: 'account closed' })).toEqual({
    disconnected: 2,
    nodes: { reached: 2, answered: 2 },
  })
  for (const ada of [onA, onB]) {
    await until(() => ada.client.state === 'closed', 5000, 'ada to be closed')
    expect(ada.closes).toEqual([{ state: 'closed', code: 4004 }])
  }
  await sleep(400)
  expect([onA.connects(), onB.connects()]).toEqual([1, 1])
  expect(bob.client.state).toBe('connected')
  await until(async () => Object.keys(await indexOf(prefix, 'ada')).length === 0)
})

it('POST /api/disconnect with reconnect: 4103 on both nodes, and the SDK connects again', async () => {
  const { prefix, a, b } = await cluster()
  const onA = await connected(a, 'ada')
  const onB = await connected(b, 'ada')
  expect(await call(b, 'disconnect', { user: 'ada', reconnect: true })).toMatchObject({ disconnected: 2 })
  for (const ada of [onA, onB]) {
    await until(() => ada.connects() === 2, 10_000, 'ada to connect again')
    expect(ada.closes[0]).toMatchObject({ code: 4103 })
  }
  await until(async () => Object.keys(await indexOf(prefix, 'ada')).length === 2)
})

it('a SIGKILLed node’s user-index entries are reaped by the other within nodeTtl + heartbeat', async () => {
  const { prefix, a, b } = await cluster()
  await connected(a, 'ada')
  await connected(a, 'ada')
  await connected(b, 'ada')
  await until(async () => Object.keys(await indexOf(prefix, 'ada')).length === 3)
  const killed = Date.now()
  a.child.kill('SIGKILL')
  await until(
    async () => Object.keys(await indexOf(prefix, 'ada')).length === 1,
    NODE_TTL_MS + HEARTBEAT_MS + 2000,
    'the killed node’s entries to go',
  )
  const took = Date.now() - killed
  // Its liveness key outlives its last heartbeat by nodeTtl; the next heartbeat of the other reaps.
  expect(took).toBeLessThan(NODE_TTL_MS + HEARTBEAT_MS + 700)
  const [left] = Object.values(await indexOf(prefix, 'ada'))
  expect(JSON.parse(left!)[0]).toBe(b.id)
  // What is left is still the user's: the API on the live node finds it.
  expect(await call(b, 'disconnect', { user: 'ada' })).toMatchObject({ disconnected: 1 })
})

it('maxConnectionsPerUser refuse: the user’s connections on both nodes count, also when they race', async () => {
  const { prefix, a, b } = await cluster('2', 'refuse')
  await connected(a, 'ada')
  await connected(b, 'ada')
  for (const node of [a, b]) {
    const third = sdk(node, 'ada')
    await until(() => third.client.state === 'closed', 5000, 'the third to be refused')
    expect(third.closes).toEqual([{ state: 'closed', code: 4029 }])
    expect(third.connects()).toBe(0)
  }
  // Six connections of another user at once, three on each node: exactly two get in.
  const racing = Array.from({ length: 6 }, (_, i) => sdk(i % 2 === 0 ? a : b, 'bob'))
  await until(
    () => racing.every((r) => r.client.state === 'closed' || r.connects() > 0),
    10_000,
    'every racer to be let in or refused',
  )
  expect(racing.filter((r) => r.connects() > 0)).toHaveLength(2)
  expect(racing.filter((r) => r.closes.some((c) => c.code === 4029))).toHaveLength(4)
  expect(Object.keys(await indexOf(prefix, 'bob'))).toHaveLength(2)
})

it('maxConnectionsPerUser closeOldest: the oldest connection, on the other node, is closed with 4029', async () => {
  const { prefix, a, b } = await cluster('2', 'closeOldest')
  const oldest = await connected(a, 'ada')
  await sleep(5)
  const middle = await connected(b, 'ada')
  await sleep(5)
  const newest = await connected(b, 'ada')
  await until(() => oldest.client.state === 'closed', 5000, 'the oldest to be closed')
  expect(oldest.closes).toEqual([{ state: 'closed', code: 4029 }])
  await sleep(300)
  expect(oldest.connects()).toBe(1)
  expect([middle.client.state, newest.client.state]).toEqual(['connected', 'connected'])
  const ids = Object.keys(await indexOf(prefix, 'ada')).sort()
  expect(ids).toEqual([middle.client.connectionId, newest.client.connectionId].sort())
})
