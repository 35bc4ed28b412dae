// `sb.sendTo` across nodes: two Switchboard servers, each with its own RedisBroker on the shared
// Redis, and a real client on one of them. The other node's sendTo reaches the client through
// Redis; once that node is gone, sendTo says so; junk on a node's route channel is ignored.
import { SwitchboardClient } from '@switchboard/client'
import { RedisBroker } from '@switchboard/redis'
import { createSwitchboard } from '@switchboard/server'
import { Redis } from 'ioredis'
import { afterEach, expect, it } from 'vitest'
import { deleteKeys, SHARED_REDIS, uniquePrefix, until } from './redis-helpers.js'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function node(prefix: string) {
  const broker = new RedisBroker({ url: SHARED_REDIS, prefix, logger: { warn() {} } })
  await broker.ready
  const sb = createSwitchboard({ port: 0, host: '127.0.0.1', logger: false, broker })
  const { url } = await sb.ready
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    await sb.close({ timeout: 300 })
    await broker.close()
  }
  cleanups.push(close)
  return { sb, broker, url, close }
}

async function cluster() {
  const prefix = uniquePrefix()
  cleanups.push(() => deleteKeys(SHARED_REDIS, prefix))
  const a = await node(prefix)
  const b = await node(prefix)
  const client = new SwitchboardClient(b.url, { maxAttempts: 0 })
  cleanups.push(() => client.close())
  const got: unknown[] = []
  client.onEvent('notice', (data) => got.push(data))
  await new Promise((resolve) => client.once('connected', resolve))
  return { prefix, a, b, client, got, id: client.connectionId! }
}

it("reaches a client on another node, in order; the id names the client's node", async () => {
  const { a, b, got, id } = await cluster()
  expect(id.startsWith(`${b.broker.nodeId}.`)).toBe(true)
  expect(b.sb.connections.has(id)).toBe(true)
  expect(a.sb.connections.has(id)).toBe(false)
  for (let n = 0; n < 50; n++) expect(await a.sb.sendTo(id, 'notice', { n })).toBe(true)
  await until(() => got.length === 50, 5000, '50 events')
  expect(got).toEqual(Array.from({ length: 50 }, (_, n) => ({ n })))
})

it('is false for an id no node holds, and once the node that held it is gone', async () => {
  const { a, b, id } = await cluster()
  expect(await a.sb.sendTo('no-node-in-this-id', 'notice', 1)).toBe(false)
  expect(await a.sb.sendTo(`${a.broker.nodeId}.unknown`, 'notice', 1)).toBe(false)
  await b.close()
  expect(await a.sb.sendTo(id, 'notice', 1)).toBe(false)
})

it('rejects an invalid event name before anything is sent', async () => {
  const { a, got, id } = await cluster()
  await expect(a.sb.sendTo(id, 'bad name!', 1)).rejects.toThrow(TypeError)
  await a.sb.sendTo(id, 'notice', 'after')
  await until(() => got.length === 1, 5000, 'one event')
  expect(got).toEqual(['after'])
})

it("ignores junk published on a node's route channel and keeps delivering", async () => {
  const { prefix, a, b, got, id } = await cluster()
  const raw = new Redis(SHARED_REDIS)
  cleanups.push(() => raw.quit())
  const inbox = `${prefix}route:${b.broker.nodeId}`
  for (const junk of ['not json', '{}', '[1,2]', `["${id}"]`, `["${id}","bad name!",1]`, 'null']) {
    expect(await raw.publish(inbox, junk)).toBe(1)
  }
  await a.sb.sendTo(id, 'notice', 'still here')
  await until(() => got.length === 1, 5000, 'one event')
  expect(got).toEqual(['still here'])
  expect(b.sb.connections.has(id)).toBe(true)
})
