// The Redis broker against the Broker contract (@switchboard/broker/testing) on the
// shared Redis, each test under its own key prefix, removed afterwards; what a broker stores is
// the number of keys under its prefix.

import { describeBrokerContract } from '@switchboard/broker/testing'
import { RedisBroker } from '@switchboard/redis'
import { afterEach } from 'vitest'
import { countKeys, deleteKeys, SHARED_REDIS, uniquePrefix } from './redis-helpers.js'

const prefixes: string[] = []
afterEach(async () => {
  for (const prefix of prefixes.splice(0)) await deleteKeys(SHARED_REDIS, prefix)
})

/** The key prefix of each broker the suite made: what `storedState` counts. */
const prefixOf = new WeakMap<RedisBroker, string>()

describeBrokerContract(
  'RedisBroker',
  async ({ history, now }) => {
    const prefix = uniquePrefix()
    prefixes.push(prefix)
    const broker = new RedisBroker({ url: SHARED_REDIS, prefix, history, now, logger: { warn() {} } })
    prefixOf.set(broker, prefix)
    await broker.ready
    return broker
  },
  { storedState: (broker) => countKeys(SHARED_REDIS, prefixOf.get(broker)!) },
)
