/**
 * @switchboard/broker/testing — the Broker contract suite (vitest). A broker written anywhere
 * proves itself with two lines in a test file:
 *
 *   import { describeBrokerContract } from '@switchboard/broker/testing'
 *   describeBrokerContract('MyBroker', async ({ history, now }) => new MyBroker({ history, now }))
 *
 * A third argument, `{ storedState: (broker) => size }`, adds the cases proving that reading
 * channels that were never published stores nothing.
 */
export {
  type BrokerContractOptions,
  type BrokerFactory,
  type BrokerFactoryOptions,
  describeBrokerContract,
} from './broker-contract.js'
