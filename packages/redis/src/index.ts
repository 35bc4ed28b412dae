/**
 * @switchboard/redis — `RedisBroker`: the Broker contract on Redis, so several Switchboard nodes
 * share channels (fan-out over pub/sub), history, idempotency keys and presence.
 */
export { RedisBroker, type RedisBrokerOptions } from './redis-broker.js'
