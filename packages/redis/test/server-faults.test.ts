// A running Switchboard server on the Redis broker, with a real client, while Redis misbehaves.
// A killed pub/sub connection is invisible to the client (the broker refills the gap from history);
// a Redis restart that lost everything makes the server cut the channel's subscribers, which
// resume with `since` and are told `recovered: false`; a client publish during the outage is
// answered `unavailable`, which the SDK retries until its timeout.
import { type RecoveryInfo, SwitchboardClient } from '@switchboard/client'
import { RedisBroker } from '@switchboard/redis'
import { ChannelRules, createSwitchboard } from '@switchboard/server'
import { expect, it } from 'vitest'
import { privateRedisFixture, until } from './redis-helpers.js'

const channels = { 'feed:*': { history: 1000, clientPublish: true } }
const fx = privateRedisFixture({ restart: true, flush: true })
const { cleanups } = fx

async function setup() {
  const rules = new ChannelRules(channels)
  const broker = new RedisBroker({
    url: fx.redis.url,
    history: (ch) => rules.get(ch).history,
    logger: { warn() {} },
  })
  await broker.ready
  const sb = createSwitchboard({ port: 0, host: '127.0.0.1', logger: false, channels, broker })
  const { url } = await sb.ready
  cleanups.push(() => broker.close())
  cleanups.push(() => sb.close({ timeout: 300 }))
  const closes: number[] = []
  sb.on('disconnect', (_conn, { code }) => closes.push(code))
  const client = new SwitchboardClient(url, { backoff: () => 50, requestTimeout: 3000 })
  cleanups.push(() => client.close())
  const feed = client.channel('feed:news')
  const got: unknown[] = []
  feed.on('publication', ({ data }) => got.push(data))
  const recoveries: RecoveryInfo[] = []
  feed.on('recovery', (r) => recoveries.push(r))
  await new Promise((resolve) => feed.once('subscribed', resolve))
  return { sb, broker, feed, got, recoveries, closes }
}

it('pub/sub connection killed: the client gets every message, without reconnecting', async () => {
  const { sb, got, closes } = await setup()
  for (let i = 0; i < 200; i++) {
    if (i === 50) await fx.redis.command('CLIENT', 'KILL', 'TYPE', 'pubsub')
    await sb.publish('feed:news', i)
  }
  await until(() => got.length === 200, 10_000, '200 messages')
  expect(got).toEqual(Array.from({ length: 200 }, (_, i) => i))
  expect(closes).toEqual([])
})

it('Redis restarted empty: subscribers are cut, resume, and are told recovered: false', async () => {
  const { sb, feed, got, recoveries, closes } = await setup()
  await sb.publish('feed:news', 'before')
  await until(() => got.length === 1, 5000, 'first message')

  await fx.redis.stop()
  await expect(sb.publish('feed:news', 'during')).rejects.toThrow()
  // Answered `unavailable` (not published), the SDK retries it until its own timeout.
  await expect(feed.publish('during', { timeout: 600 })).rejects.toMatchObject({ code: 'timeout' })
  await fx.redis.start()

  await until(() => recoveries.length > 0, 10_000, 'the client to resume')
  expect(closes).toContain(1012)
  expect(recoveries.at(-1)).toMatchObject({ recovered: false })
  await until(() => feed.state === 'subscribed', 5000, 'subscribed again')
  await sb.publish('feed:news', 'after')
  await until(() => got.length === 2, 5000, 'message after the restart')
  expect(got).toEqual(['before', 'after'])
})
