// Reading does not create state (issue 13, point 14), through a real server: `$history`,
// `$presence`, subscribe and unsubscribe on channels nobody ever published leave the broker
// holding nothing once the reader is gone, and a subscriber that took such a channel's position
// before its first publish still resumes with that publish, `recovered: true`.
import { MemoryBroker } from '@switchboard/broker'
import type { ReplyFrame, StreamPosition } from '@switchboard/protocol'
import { ChannelRules } from '@switchboard/server'
import { connect, serverFixture, type TestClient, until } from '@switchboard/testing'
import { expect, it } from 'vitest'

const channels = { 'chat:*': { history: 50, presence: true, clientPublish: true }, 'live:*': {} }
// Many frames in a row: the per-connection rate limit is not what this test is about.
const { setup } = serverFixture({ channels, rateLimit: { capacity: 10_000, refillPerSecond: 10_000 } })
const rules = new ChannelRules(channels)
const memoryBroker = () => new MemoryBroker({ history: (channel) => rules.get(channel).history })

let ids = 0
async function ask(client: TestClient, frame: Record<string, unknown>): Promise<ReplyFrame> {
  const id = `q${++ids}`
  client.send({ ...frame, id })
  return client.next('reply', (r) => r.id === id)
}

it('$history, $presence, subscribe and unsubscribe on never-published channels leave nothing behind', async () => {
  const broker = memoryBroker()
  const { url, sb } = await setup({ broker })
  const c = await connect(url)
  for (let i = 0; i < 200; i++) {
    expect(
      await ask(c, { type: 'request', event: '$history', data: { channel: `chat:h${i}` } }),
    ).toMatchObject({
      ok: true,
      data: { offset: 0, messages: [] },
    })
    expect(
      await ask(c, { type: 'request', event: '$presence', data: { channel: `chat:p${i}` } }),
    ).toMatchObject({
      ok: true,
      data: { members: [], users: 0 },
    })
  }
  for (let i = 0; i < 50; i++) {
    for (const channel of [`chat:s${i}`, `live:s${i}`]) {
      expect(await ask(c, { type: 'subscribe', channel })).toMatchObject({ ok: true, data: { offset: 0 } })
      expect(await ask(c, { type: 'unsubscribe', channel })).toMatchObject({ ok: true })
    }
  }
  expect(broker.channelCount).toBe(0)
  // Subscriptions held by a connection that then leaves are gone with it too.
  for (let i = 0; i < 20; i++) await ask(c, { type: 'subscribe', channel: `chat:left${i}` })
  expect(broker.channelCount).toBe(20)
  c.dispose()
  await until(() => sb.connections.size === 0, 5000, 'the connection to be gone')
  await until(() => broker.channelCount === 0, 5000, 'the channels to be forgotten')
})

it('a position taken before the first publish resumes with that publish, recovered: true', async () => {
  const broker = memoryBroker()
  const { url, sb } = await setup({ broker })
  const first = await connect(url)
  const reply = await ask(first, { type: 'subscribe', channel: 'chat:new' })
  if (!reply.ok) throw new Error(`subscribe failed: ${reply.error.code}`)
  const since = reply.data as unknown as StreamPosition
  expect(since.offset).toBe(0)
  first.dispose()
  await until(() => broker.channelCount === 0, 5000, 'the channel to be forgotten')

  await sb.publish('chat:new', 'hello')
  const again = await connect(url)
  expect(await ask(again, { type: 'subscribe', channel: 'chat:new', since })).toMatchObject({
    ok: true,
    data: { epoch: since.epoch, offset: 1, recovered: true },
  })
  expect(again.frames.filter((f) => f.type === 'message')).toEqual([
    { type: 'message', channel: 'chat:new', epoch: since.epoch, offset: 1, data: 'hello' },
  ])
  again.dispose()
})
