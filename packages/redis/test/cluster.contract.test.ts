// The Redis broker on a real Redis Cluster (three primaries, started for this file) against the
// Broker contract (@switchboard/broker/testing): every channel's keys in one slot, messages by
// sharded pub/sub. Each test under its own key prefix; what a broker stores is the number of keys
// under its prefix on every primary.

import { describeBrokerContract } from '@switchboard/broker/testing'
import { RedisBroker } from '@switchboard/redis'
import { afterEach } from 'vitest'
import { redisClusterFixture } from './redis-cluster.js'
import { uniquePrefix } from './redis-helpers.js'

const fixture = redisClusterFixture()
const prefixes: string[] = []
afterEach(async () => {
  for (const prefix of prefixes.splice(0)) await fixture.cluster.deleteKeys(prefix)
})

const prefixOf = new WeakMap<RedisBroker, string>()

describeBrokerContract(
  'RedisBroker on Redis Cluster',
  async ({ history, now }) => {
    const prefix = uniquePrefix()
    prefixes.push(prefix)
    const broker = new RedisBroker({
      cluster: { nodes: fixture.cluster.seeds },
      prefix,
      history,
      now,
      logger: { warn() {} },
    })
    prefixOf.set(broker, prefix)
    await broker.ready
    return broker
  },
  { storedState: async (broker) => (await fixture.cluster.keys(prefixOf.get(broker)!)).length },
)
