// The in-memory broker against the Broker contract (broker-contract.ts), the suite every broker runs.
import { MemoryBroker } from '@switchboard/server'
import { describeBrokerContract } from './broker-contract.js'

describeBrokerContract('MemoryBroker', async ({ history, now }) => new MemoryBroker({ history, now }))
