// The HTTP API on two nodes sharing one Redis: two `api-node.mjs` server processes (one key
// prefix), a user with SDK clients on both nodes and another user's raw connection. A call to
// either node acts on every node: subscribe and unsubscribe by user reach the user's connections
// on both (the SDK surfaces them as `serverSubscribed` / `serverUnsubscribed`, and a publish
// through the API reaches both), by connection id the one connection wherever it lives; disconnect
// by user closes both with the code given; channels and info add up both nodes; a retried publish
// with one key lands once whichever node it reaches;
// presence, history and broadcast answer for the cluster. Needs the build (`npx tsc -b`): the nodes run
// from dist.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type Channel, SwitchboardClient } from '@switchboard/client'
import { connect } from '@switchboard/testing'
import { afterEach, beforeAll, expect, it } from 'vitest'
import { deleteKeys, SHARED_REDIS, startNodeProcess, uniquePrefix, until } from './redis-helpers.js'

const script = fileURLToPath(new URL('./fixtures/api-node.mjs', import.meta.url))
const built = fileURLToPath(new URL('../../server/dist/index.js', import.meta.url))
const KEY = 'cluster-key-0123456789abcdef'

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
}

async function startNode(prefix: string): Promise<Node> {
  const node = await startNodeProcess(
    script,
    [SHARED_REDIS, prefix, KEY],
    (c) => cleanups.push(c),
    /ws:\/\/\S+/,
    KEY,
  )
  const out = node.output()
  const ws = /ws:\/\/\S+/.exec(out)?.[0]
  if (!ws) throw new Error(`node did not start: ${out}`)
  return { ws, api: `${ws.replace(/^ws/, 'http').replace(/\/ws$/, '')}/api` }
}

async function cluster() {
  const prefix = uniquePrefix()
  cleanups.push(() => deleteKeys(SHARED_REDIS, prefix))
  return Promise.all([startNode(prefix), startNode(prefix)])
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

/** An SDK client of `user` on one node, recording the channels the server subscribes it to. */
async function sdk(node: Node, user: string) {
  const client = new SwitchboardClient(`${node.ws}?user=${user}`, { backoff: () => 100 })
  cleanups.push(() => client.close())
  const subscribed: Channel[] = []
  const unsubscribed: string[] = []
  const received: unknown[] = []
  const closes: number[] = []
  client.on('serverSubscribed', (channel) => {
    subscribed.push(channel)
    channel.on('publication', (p) => received.push(p.data))
  })
  client.on('serverUnsubscribed', (channel) => unsubscribed.push(channel.name))
  client.on('state', (s) => {
    if (s.closeCode !== undefined) closes.push(s.closeCode)
  })
  const { connectionId } = await new Promise<{ connectionId: string }>((resolve) =>
    client.once('connected', resolve),
  )
  return { client, id: connectionId, subscribed, unsubscribed, received, closes }
}

it('subscribe and unsubscribe by user reach the user’s connections on both nodes, from either node', async () => {
  const [a, b] = await cluster()
  const onA = await sdk(a!, 'ada')
  const onB = await sdk(b!, 'ada')
  const bob = await connect(`${b!.ws}?user=bob`)
  cleanups.push(() => bob.ws.terminate())

  const sub = await call(a!, 'subscribe', { user: 'ada', channel: 'chat:ada' })
  expect(sub).toEqual({ subscribed: 2, failed: [], nodes: { reached: 2, answered: 2 } })
  await until(
    () => onA.subscribed.length === 1 && onB.subscribed.length === 1,
    5000,
    'serverSubscribed on both',
  )
  expect([onA.subscribed[0]!.name, onB.subscribed[0]!.name]).toEqual(['chat:ada', 'chat:ada'])

  // Presence is the cluster's: ada is one member with two connections, one per node.
  const presence = await call(b!, 'presence', { channel: 'chat:ada' })
  expect(presence).toEqual({ connections: 2, users: 1, members: [{ userId: 'ada', connections: 2 }] })

  // Published through the other node's API: both of ada's connections get it, bob nothing.
  await call(b!, 'publish', { channel: 'chat:ada', data: { n: 1 } })
  await until(() => onA.received.length === 1 && onB.received.length === 1, 5000, 'the message on both')
  expect([onA.received, onB.received]).toEqual([[{ n: 1 }], [{ n: 1 }]])

  // The channel has two subscribers, one on each node; info adds both nodes up.
  const channels = await call(b!, 'channels', { pattern: 'chat:*' })
  expect(channels).toEqual({
    // The dashboard's columns too: the history size, and the publish rate (one message so far).
    channels: [{ channel: 'chat:ada', subscribers: 2, history: 100, messagesPerSecond: expect.any(Number) }],
    truncated: false,
    nodes: { reached: 2, answered: 2 },
  })
  const info = await call(a!, 'info', {})
  expect(info.connections).toBe(3)
  expect((info.nodes as Array<{ connections: number }>).map((n) => n.connections).sort()).toEqual([1, 2])
  expect(info.reached).toBe(2)

  const unsub = await call(b!, 'unsubscribe', { user: 'ada', channel: 'chat:ada' })
  expect(unsub).toEqual({ unsubscribed: 2, nodes: { reached: 2, answered: 2 } })
  await until(
    () => onA.unsubscribed.length === 1 && onB.unsubscribed.length === 1,
    5000,
    'serverUnsubscribed on both',
  )
  await call(a!, 'publish', { channel: 'chat:ada', data: { n: 2 } })
  // Nothing more arrives: a message published after the unsubscribe is not delivered.
  await new Promise((resolve) => setTimeout(resolve, 300))
  expect([onA.received.length, onB.received.length]).toEqual([1, 1])
  expect(bob.frames.filter((f) => f.type === 'subscribed' || f.type === 'message')).toEqual([])
})

it('by connection id: the one connection, on whichever node holds it, from either node', async () => {
  const [a, b] = await cluster()
  const onA = await sdk(a!, 'ada')
  const onB = await sdk(b!, 'ada')
  const sub = await call(a!, 'subscribe', { connection: onB.id, channel: 'chat:one' })
  expect(sub).toMatchObject({ subscribed: 1, nodes: { reached: 2, answered: 2 } })
  await until(() => onB.subscribed.length === 1, 5000, 'serverSubscribed on B')
  expect(onA.subscribed).toEqual([])
  const gone = await call(b!, 'disconnect', { connection: onA.id, code: 4000, reason: 'bye' })
  expect(gone).toMatchObject({ disconnected: 1 })
  await until(() => onA.closes.includes(4000), 5000, 'the close on A')
  expect(onA.client.state).toBe('closed')
  expect(onB.client.state).toBe('connected')
})

it('disconnect by user closes the user’s connections on both nodes with the code given', async () => {
  const [a, b] = await cluster()
  const onA = await sdk(a!, 'ada')
  const onB = await sdk(b!, 'ada')
  const bob = await sdk(b!, 'bob')
  const gone = await call(b!, 'disconnect', { user: 'ada', code: 4003, reason: 'banned' })
  expect(gone).toEqual({ disconnected: 2, nodes: { reached: 2, answered: 2 } })
  await until(() => onA.closes.includes(4003) && onB.closes.includes(4003), 5000, 'both closed')
  // 4003 is terminal: the SDK does not come back.
  expect([onA.client.state, onB.client.state]).toEqual(['closed', 'closed'])
  expect(bob.client.state).toBe('connected')
  const info = await call(a!, 'info', {})
  expect(info.connections).toBe(1)
})

it('a publish retried with one key lands once, whichever node each retry reaches', async () => {
  const [a, b] = await cluster()
  const watcher = await connect(`${a!.ws}?user=watch`)
  cleanups.push(() => watcher.ws.terminate())
  watcher.send({ type: 'subscribe', id: '1', channel: 'chat:pay' })
  await watcher.next('reply')
  const body = { channel: 'chat:pay', data: { amount: 5 }, key: 'payment-7' }
  const answers = await Promise.all([a, b, a, b, b, a].map((node) => call(node!, 'publish', body)))
  expect(new Set(answers.map((x) => JSON.stringify(x))).size).toBe(1)
  const history = await call(b!, 'history', { channel: 'chat:pay' })
  expect((history.messages as unknown[]).length).toBe(1)
  await until(() => watcher.frames.some((f) => f.type === 'message'), 5000, 'the message')
  await new Promise((resolve) => setTimeout(resolve, 200))
  expect(watcher.frames.filter((f) => f.type === 'message')).toHaveLength(1)
  // A broadcast through node B reaches the subscriber on node A.
  const broadcast = await call(b!, 'broadcast', { channels: ['chat:pay', 'chat:other'], data: 'all' })
  expect(
    (broadcast.results as Array<{ channel: string; offset: number }>).map((r) => [r.channel, r.offset]),
  ).toEqual([
    ['chat:pay', 2],
    ['chat:other', 1],
  ])
  await until(() => watcher.frames.filter((f) => f.type === 'message').length === 2, 5000, 'the broadcast')
})

it('presence across the nodes: the same user on both is one member, one join and one leave; counts add both nodes up', async () => {
  const [a, b] = await cluster()
  const bob = new SwitchboardClient(`${a!.ws}?user=bob`, { backoff: () => 100 })
  cleanups.push(() => bob.close())
  const room = bob.channel('chat:room')
  const changes: string[] = []
  room.on('presence', (p) => {
    for (const u of p.joins) changes.push(`+${u.userId}`)
    for (const u of p.leaves) changes.push(`-${u.userId}`)
  })
  await new Promise((resolve) => room.once('subscribed', resolve))
  const adaA = new SwitchboardClient(`${a!.ws}?user=ada`, { backoff: () => 100 })
  const adaB = new SwitchboardClient(`${b!.ws}?user=ada`, { backoff: () => 100 })
  cleanups.push(
    () => adaA.close(),
    () => adaB.close(),
  )
  adaA.channel('chat:room')
  adaB.channel('chat:room')
  await until(() => room.presenceCounts?.connections === 3, 5000, 'three connections on two nodes')
  expect(room.presenceCounts).toEqual({ connections: 3, users: 2 })
  expect(room.members.find((m) => m.userId === 'ada')).toMatchObject({ userId: 'ada' })

  // $presence through node b and the API of node a: the cluster's counts, the list per user.
  const raw = await connect(`${b!.ws}?user=cy`)
  cleanups.push(() => raw.ws.terminate())
  raw.send({ type: 'request', id: 'p', event: '$presence', data: { channel: 'chat:room', counts: true } })
  expect(await raw.next('reply')).toEqual({
    type: 'reply',
    id: 'p',
    ok: true,
    data: { connections: 3, users: 2 },
  })
  const listed = await call(a!, 'presence', { channel: 'chat:room' })
  expect(listed.connections).toBe(3)
  expect(
    (listed.members as Array<{ userId: string; connections: number }>).sort((x, y) =>
      x.userId.localeCompare(y.userId),
    ),
  ).toEqual([
    { userId: 'ada', connections: 2 },
    { userId: 'bob', connections: 1 },
  ])
  expect(await call(b!, 'presence', { channel: 'chat:room', counts: true })).toEqual({
    connections: 3,
    users: 2,
  })

  // Ada's connection on a goes: she is still there through b. Then the one on b: she leaves
  // after the grace window (3 s by default).
  adaA.close()
  await until(() => room.presenceCounts?.connections === 2, 5000, 'ada’s first connection gone')
  expect(room.members.map((m) => m.userId).sort()).toEqual(['ada', 'bob'])
  adaB.close()
  await until(() => changes.includes('-ada'), 8000, 'ada’s leave')
  // Bob's own join came first: presence frames go to every subscriber.
  expect(changes).toEqual(['+bob', '+ada', '-ada'])
  expect(room.presenceCounts).toEqual({ connections: 1, users: 1 })
}, 30_000)
