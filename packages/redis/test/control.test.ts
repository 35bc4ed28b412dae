// Control commands across nodes on Redis: two RedisBrokers under one key prefix are two nodes. A
// command from either reaches both handlers, the answers come back from both (with their node ids),
// a node that does not answer in time leaves the caller with the answers it has after the timeout,
// and a broker under another prefix (another cluster) never sees the command.
import { RedisBroker } from '@switchboard/redis'
import { afterEach, expect, it } from 'vitest'
import { deleteKeys, SHARED_REDIS, uniquePrefix } from './redis-helpers.js'

const open: RedisBroker[] = []
const prefixes: string[] = []
afterEach(async () => {
  for (const b of open.splice(0)) await b.close()
  for (const prefix of prefixes.splice(0)) await deleteKeys(SHARED_REDIS, prefix)
})

async function node(prefix: string): Promise<RedisBroker> {
  const b = new RedisBroker({ url: SHARED_REDIS, prefix, logger: { warn() {} } })
  open.push(b)
  await b.ready
  return b
}

it('a command reaches every node of the cluster and gathers each answer', async () => {
  const prefix = uniquePrefix()
  prefixes.push(prefix)
  const [a, b] = [await node(prefix), await node(prefix)]
  const other = await node(uniquePrefix())
  const seen: string[] = []
  a.onControl((c) => {
    seen.push(`a:${c.type}`)
    return { node: 'a', data: c.data ?? null }
  })
  b.onControl((c) => {
    seen.push(`b:${c.type}`)
    return { node: 'b' }
  })
  other.onControl((c) => {
    seen.push(`other:${c.type}`)
    return null
  })
  for (const from of [a, b]) {
    seen.length = 0
    const result = await from.control({ type: 'hello', data: { n: 1 } })
    expect(result.reached).toBe(2)
    expect(result.replies.map((r) => r.node).sort()).toEqual([a.nodeId, b.nodeId].sort())
    const byNode = Object.fromEntries(result.replies.map((r) => [r.node, r.ok ? r.data : r.error]))
    expect(byNode[a.nodeId]).toEqual({ node: 'a', data: { n: 1 } })
    expect(byNode[b.nodeId]).toEqual({ node: 'b' })
    expect(seen.sort()).toEqual(['a:hello', 'b:hello'])
  }
})

it('a node that does not answer in time: the caller gets the answers it has after its timeout', async () => {
  const prefix = uniquePrefix()
  prefixes.push(prefix)
  const [a, b] = [await node(prefix), await node(prefix)]
  a.onControl(() => 'fast')
  b.onControl(() => new Promise((resolve) => setTimeout(() => resolve('slow'), 2000)))
  const started = Date.now()
  const result = await a.control({ type: 'x' }, { timeoutMs: 300 })
  expect(Date.now() - started).toBeGreaterThanOrEqual(250)
  expect(Date.now() - started).toBeLessThan(1500)
  expect(result.reached).toBe(2)
  expect(result.replies).toEqual([{ ok: true, node: a.nodeId, data: 'fast' }])
})
