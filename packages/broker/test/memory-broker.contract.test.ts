// The in-memory broker against the Broker contract, imported as any broker outside this repository would.
import { MemoryBroker } from '@switchboard/broker'
import { describeBrokerContract } from '@switchboard/broker/testing'

describeBrokerContract('MemoryBroker', async ({ history, now }) => new MemoryBroker({ history, now }), {
  storedState: (broker) => broker.channelCount,
})
