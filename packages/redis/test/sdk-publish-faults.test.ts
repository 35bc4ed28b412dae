// The SDK's side of a Redis broker's latency and outages, with a real server and real clients:
// 50 publishes then `close()` all land (close waits for their acknowledgements, however long
// Redis takes); and a `redis-server` killed and restarted while a client publishes in a loop:
// every `publish()` resolves — the SDK sends one publish answered `unavailable` again, with its
// idempotency key, until it lands — and a subscriber gets each message exactly once, in order.
import { type RecoveryInfo, SwitchboardClient } from '@switchboard/client'
import { RedisBroker } from '@switchboard/redis'
import { ChannelRules, createSwitchboard } from '@switchboard/server'
import { expect, it } from 'vitest'
import { deleteKeys, privateRedisFixture, SHARED_REDIS, uniquePrefix, until } from './redis-helpers.js'

const channels = { 'feed:*': { history: 1000, clientPublish: true } }
const fx = privateRedisFixture({ restart: true })
const { cleanups } = fx

/** A server on the Redis at `url`, a subscriber to `feed:x` and a connected publishing client. */
async function setup(url: string, prefix?: string) {
  const rules = new ChannelRules(channels)
  const broker = new RedisBroker({
    url,
    ...(prefix ? { prefix } : {}),
    history: (ch) => rules.get(ch).history,
    logger: { warn() {} },
  })
  await broker.ready
  const sb = createSwitchboard({ port: 0, host: '127.0.0.1', logger: false, channels, broker })
  const address = await sb.ready
  cleanups.push(() => broker.close())
  cleanups.push(() => sb.close({ timeout: 300 }))
  const watcher = new SwitchboardClient(address.url, { backoff: () => 50 })
  cleanups.push(() => watcher.close({ flush: false }))
  const feed = watcher.channel('feed:x')
  const got: unknown[] = []
  feed.on('publication', ({ data }) => got.push(data))
  const recoveries: RecoveryInfo[] = []
  feed.on('recovery', (r) => recoveries.push(r))
  await new Promise((resolve) => feed.once('subscribed', resolve))
  const client = new SwitchboardClient(address.url, { backoff: () => 50 })
  cleanups.push(() => client.close({ flush: false }))
  await new Promise((resolve) => client.once('connected', resolve))
  return { client, got, recoveries }
}

it('50 publishes then close(): close waits for the acknowledgements, the subscriber gets 50 of 50', async () => {
  const prefix = uniquePrefix()
  cleanups.push(() => deleteKeys(SHARED_REDIS, prefix))
  const { client, got } = await setup(SHARED_REDIS, prefix)
  const published = Array.from({ length: 50 }, (_, i) =>
    client.publish('feed:x', i).then(
      () => 'ok',
      (e: { code: string }) => e.code,
    ),
  )
  await client.close()
  expect(client.state).toBe('closed')
  expect(await Promise.all(published)).toEqual(Array.from({ length: 50 }, () => 'ok'))
  await until(() => got.length === 50, 5000, '50 messages')
  expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i))
})

it('Redis killed and restarted mid-loop: every publish resolves, the subscriber gets each once, in order', async () => {
  const { client, got, recoveries } = await setup(fx.redis.url)
  const total = 40
  let restarted: Promise<void> | undefined
  for (let i = 0; i < total; i++) {
    if (i === 15) {
      // Killed between two publishes (nothing of ours is in flight), back a second later while
      // the next publishes are being refused and retried.
      await fx.redis.stop()
      restarted = new Promise((resolve) => setTimeout(resolve, 1000)).then(() => fx.redis.start())
    }
    const position = await client.publish('feed:x', i, { timeout: 15_000 })
    expect(position.offset).toBeGreaterThan(0)
  }
  await restarted
  await until(() => got.length >= total, 15_000, `${total} messages`)
  expect(got).toEqual(Array.from({ length: total }, (_, i) => i))
  // Redis came back empty: a new epoch, told as such (its own messages replayed from offset 1).
  expect(recoveries.at(-1)).toMatchObject({ recovered: false })
})
