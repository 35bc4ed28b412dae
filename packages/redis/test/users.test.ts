// The Redis user index beyond the contract: what a node does when Redis loses its entries (a
// restart that lost the data, or being reaped while cut off) — it adds them again on its next
// heartbeat — and that a node closing takes its own entries out.
import { RedisBroker } from '@switchboard/redis'
import { afterEach, expect, it } from 'vitest'
import { deleteKeys, SHARED_REDIS, uniquePrefix, until } from './redis-helpers.js'

const open: RedisBroker[] = []
const prefixes: string[] = []
afterEach(async () => {
  for (const b of open.splice(0)) await b.close()
  for (const prefix of prefixes.splice(0)) await deleteKeys(SHARED_REDIS, prefix)
})

async function node(prefix: string): Promise<RedisBroker> {
  const b = new RedisBroker({
    url: SHARED_REDIS,
    prefix,
    presence: { heartbeatMs: 100, nodeTtlMs: 500 },
    logger: { warn() {} },
  })
  open.push(b)
  await b.ready
  return b
}

function freshPrefix(): string {
  const prefix = uniquePrefix()
  prefixes.push(prefix)
  return prefix
}

it('a node whose entries Redis lost adds them again on its next heartbeat, with their age', async () => {
  const prefix = freshPrefix()
  const one = await node(prefix)
  const two = await node(prefix)
  await one.users.add('ada', `${one.nodeId}.a`, { transport: 'websocket' })
  await two.users.add('ada', `${two.nodeId}.b`, { transport: 'sse' })
  const before = await one.users.list('ada')
  expect(before).toHaveLength(2)
  await deleteKeys(SHARED_REDIS, prefix)
  expect(await one.users.count('ada')).toBe(0)
  await until(async () => (await one.users.count('ada')) === 2, 2000, 'the entries to come back')
  expect(await two.users.list('ada')).toEqual(before)
})

it('closing a node takes its entries out (last: the others see the user gone)', async () => {
  const prefix = freshPrefix()
  const one = await node(prefix)
  const two = await node(prefix)
  await one.users.add('ada', `${one.nodeId}.a`, { transport: 'websocket' })
  await one.users.add('bob', `${one.nodeId}.b`, { transport: 'websocket' })
  await two.users.add('bob', `${two.nodeId}.c`, { transport: 'websocket' })
  await one.close()
  expect(await two.users.count('ada')).toBe(0)
  expect((await two.users.list('bob')).map((c) => c.node)).toEqual([two.nodeId])
})
