// Lifecycle webhooks on two nodes sharing one Redis (two `webhook-node.mjs` processes, one key
// prefix) and a real receiver (python/webhook_receiver.py): one node at a time delivers (the
// lease), so the receiver gets each event from one sender in order; and when the node that holds
// the lease is killed with SIGKILL while the receiver is failing, the other node takes over and
// delivers what the dead one had taken but not finished — nothing decided is lost. Needs the
// build (`npx tsc -b`): the nodes run from dist.
import type { ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { connect, startWebhookReceiver, type WebhookReceiver } from '@switchboard/testing'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { deleteKeys, SHARED_REDIS, startNodeProcess, uniquePrefix, until } from './redis-helpers.js'

const script = fileURLToPath(new URL('./fixtures/webhook-node.mjs', import.meta.url))
const built = fileURLToPath(new URL('../../server/dist/index.js', import.meta.url))
const SECRET = 'cluster-webhook-secret-0123'

const cleanups: Array<() => unknown> = []
beforeAll(() => {
  if (!existsSync(built)) throw new Error(`${built} is missing: build first with npx tsc -b`)
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

interface Node {
  ws: string
  child: ChildProcess
}

const CONNECTIONS = 'connection.open,connection.close'
const USERS_AND_CHANNELS = 'user.online,user.offline,channel.occupied,channel.vacated'

async function startNode(prefix: string, hook: WebhookReceiver, events = CONNECTIONS): Promise<Node> {
  const node = await startNodeProcess(
    script,
    [SHARED_REDIS, prefix, hook.url, SECRET, events],
    (c) => cleanups.push(c),
    /ws:\/\/\S+/,
    SECRET,
  )
  const out = node.output()
  const child = node.child
  const ws = /ws:\/\/\S+/.exec(out)?.[0]
  if (!ws) throw new Error(`node did not start: ${out}`)
  return { ws, child }
}

async function setup() {
  const prefix = uniquePrefix()
  cleanups.push(() => deleteKeys(SHARED_REDIS, prefix))
  const hook = await startWebhookReceiver(SECRET)
  cleanups.push(() => hook.stop())
  return { prefix, hook }
}

/** Opens a connection for `user` on `node` and closes it: a connection.open and a connection.close. */
async function visit(node: Node, user: string): Promise<void> {
  const c = await connect(`${node.ws}?user=${user}`)
  c.ws.close()
  await new Promise((resolve) => c.ws.once('close', resolve))
}

describe('webhooks on two nodes', () => {
  it('each event reaches the receiver once, from one node, in the order it was decided', async () => {
    const { prefix, hook } = await setup()
    const [a, b] = await Promise.all([startNode(prefix, hook), startNode(prefix, hook)])
    await visit(a!, 'ann')
    await visit(b!, 'bob')
    await visit(a!, 'cy')
    await until(async () => (await hook.delivered()).length >= 6, 10_000, 'six events')
    const got = await hook.delivered()
    expect(got.every((r) => r.signed)).toBe(true)
    expect(new Set(got.map((r) => r.id)).size).toBe(6)
    // In the log's order (a connection's close is decided when its node sees it, which may be
    // after the next visit opened), so each user's open comes before its close.
    expect(got.map((r) => r.id)).toEqual(got.map((r) => r.id).sort(byStreamId))
    for (const user of ['ann', 'bob', 'cy']) {
      expect(got.filter((r) => r.event.user === user).map((r) => r.event.type)).toEqual([
        'connection.open',
        'connection.close',
      ])
    }
  })

  it('when the delivering node is killed, the other node delivers what it had taken, then the rest', async () => {
    const { prefix, hook } = await setup()
    await hook.fail(true)
    const a = await startNode(prefix, hook)
    await visit(a, 'ann')
    // Node a has taken ann's events and keeps failing to deliver the first one.
    await until(async () => (await hook.received()).length >= 2, 10_000, 'failed attempts from node a')
    const b = await startNode(prefix, hook)
    a.child.kill('SIGKILL')
    await visit(b, 'bob')
    await hook.fail(false)
    await until(async () => (await hook.delivered()).length >= 4, 10_000, 'four events from node b')
    const got = await hook.delivered()
    expect(got.map((r) => `${r.event.type} ${r.event.user}`)).toEqual([
      'connection.open ann',
      'connection.close ann',
      'connection.open bob',
      'connection.close bob',
    ])
    expect(got.every((r) => r.signed)).toBe(true)
  })
})

describe('users and channels on two nodes', () => {
  it('one user.online for a user on both nodes, and user.offline from the reaper when its node is SIGKILLed', async () => {
    const { prefix, hook } = await setup()
    const [a, b] = await Promise.all([
      startNode(prefix, hook, USERS_AND_CHANNELS),
      startNode(prefix, hook, USERS_AND_CHANNELS),
    ])
    const onA = await connect(`${a!.ws}?user=ann`)
    const onB = await connect(`${b!.ws}?user=ann`)
    const dave = await connect(`${a!.ws}?user=dave`)
    for (const c of [onA, onB]) {
      c.send({ type: 'subscribe', id: 's', channel: 'room:1' })
      await c.next('reply')
    }
    await until(async () => (await hook.delivered()).length >= 3, 10_000, 'online twice and occupied')
    // ann leaves node b, within the grace window of nothing: she is still on node a.
    onB.ws.close()
    await new Promise((r) => setTimeout(r, 800))
    const killedAt = Date.now()
    a!.child.kill('SIGKILL')
    await until(
      async () => (await hook.delivered()).length >= 6,
      10_000,
      'offline and vacated from the reaper',
    )
    const took = Date.now() - killedAt
    const got = (await hook.delivered()).map(
      (r) => `${r.event.type} ${String(r.event.user ?? r.event.channel)}`,
    )
    expect(got.slice(0, 3).sort()).toEqual(['channel.occupied room:1', 'user.online ann', 'user.online dave'])
    expect(got.slice(3).sort()).toEqual(['channel.vacated room:1', 'user.offline ann', 'user.offline dave'])
    // Reaped within nodeTtl + heartbeat (1.2 s), then the grace window (0.3 s) and a settle, then sent.
    expect(took).toBeLessThan(8000)
    dave.ws.terminate()
  })
})

function byStreamId(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number]
  const [bm, bs] = b.split('-').map(Number) as [number, number]
  return am - bm || as - bs
}
