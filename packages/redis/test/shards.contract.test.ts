// The Redis broker over three independent Redis instances (`shards`, consistent hashing of
// channels; started for this file) against the Broker contract (@switchboard/broker/testing).
// Each test under its own key prefix; what a broker stores is the number of keys under its
// prefix on all three.

import { describeBrokerContract } from '@switchboard/broker/testing'
import { RedisBroker } from '@switchboard/redis'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { countKeys, deleteKeys, PrivateRedis, uniquePrefix } from './redis-helpers.js'

const servers: PrivateRedis[] = []
beforeAll(async () => {
  for (let i = 0; i < 3; i++) servers.push(await PrivateRedis.start())
})
afterAll(async () => {
  for (const s of servers) await s.stop()
})
const prefixes: string[] = []
afterEach(async () => {
  for (const prefix of prefixes.splice(0)) for (const s of servers) await deleteKeys(s.url, prefix)
})

const prefixOf = new WeakMap<RedisBroker, string>()

describeBrokerContract(
  'RedisBroker on three shards',
  async ({ history, now }) => {
    const prefix = uniquePrefix()
    prefixes.push(prefix)
    const broker = new RedisBroker({
      shards: servers.map((s) => s.url),
      prefix,
      history,
      now,
      logger: { warn() {} },
    })
    prefixOf.set(broker, prefix)
    await broker.ready
    return broker
  },
  {
    storedState: async (broker) => {
      let n = 0
      for (const s of servers) n += await countKeys(s.url, prefixOf.get(broker)!)
      return n
    },
  },
)
