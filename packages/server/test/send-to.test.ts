// `sb.sendTo` on one node (the in-memory broker): an event for one connection by id, and false
// for an id that is not (or no longer) connected. Across nodes: packages/redis/test/send-to.test.ts.

import { serverFixture, type TestClient, until } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'

const { setup } = serverFixture()

/** The connection id the client's hello carried (connect() waited for it). */
function idOf(client: TestClient): string {
  const hello = client.frames[0]
  if (hello?.type !== 'hello') throw new Error('no hello')
  return hello.connectionId
}

describe('sb.sendTo', () => {
  it('sends an event to that connection only', async () => {
    const { sb, client } = await setup()
    const one = await client()
    const two = await client()
    const connectionId = idOf(one)
    expect(await sb.sendTo(connectionId, 'notice', { text: 'for one' })).toBe(true)
    expect(await sb.sendTo(connectionId, 'bare', undefined)).toBe(true)
    expect(await one.next('event')).toEqual({ type: 'event', event: 'notice', data: { text: 'for one' } })
    expect(await one.next('event')).toEqual({ type: 'event', event: 'bare' })
    two.send({ type: 'ping', id: 'p' })
    await two.next('pong')
    expect(two.frames.filter((f) => f.type === 'event')).toEqual([])
  })

  it('is false for an unknown id and for a connection that has gone', async () => {
    const { sb, client } = await setup()
    const one = await client()
    const connectionId = idOf(one)
    expect(await sb.sendTo('nobody', 'notice', 1)).toBe(false)
    one.ws.close()
    await until(() => sb.connections.size === 0)
    expect(await sb.sendTo(connectionId, 'notice', 1)).toBe(false)
  })

  it('rejects an invalid event name', async () => {
    const { sb, client } = await setup()
    const one = await client()
    const connectionId = idOf(one)
    await expect(sb.sendTo(connectionId, 'not valid!', 1)).rejects.toThrow(TypeError)
  })
})
