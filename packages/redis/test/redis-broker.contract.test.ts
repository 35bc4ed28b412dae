// The Redis broker against the Broker contract (@switchboard/broker/testing) on the
// shared Redis, each test under its own key prefix, removed afterwards.

import { describeBrokerContract } from '@switchboard/broker/testing'
import { RedisBroker } from '@switchboard/redis'
import { afterEach } from 'vitest'
import { deleteKeys, SHARED_REDIS, uniquePrefix } from './redis-helpers.js'

const prefixes: string[] = []
afterEach(async () => {
  for (const prefix of prefixes.splice(0)) await deleteKeys(SHARED_REDIS, prefix)
})

describeBrokerContract('RedisBroker', async ({ history, now }) => {
  const prefix = uniquePrefix()
  prefixes.push(prefix)
  const broker = new RedisBroker({ url: SHARED_REDIS, prefix, history, now, logger: { warn() {} } })
  await broker.ready
  return broker
})
