/**
 * Messages in, counted where they are accepted: the broker (the guarded one the server's parts
 * share) with each successful publish counted, for the dashboard and the metrics.
 */
import type { Broker } from '@switchboard/broker'
import type { NodeCounters } from './node-stats.js'

/** The broker with each successful publish counted as a message in (the dashboard's and metrics' count). */
export function countPublishes(broker: Broker, counters: NodeCounters): Broker {
  const publish = broker.publish
  return Object.assign(broker, {
    publish: async (...args: Parameters<Broker['publish']>) => {
      const position = await publish(...args)
      counters.messagesIn++
      return position
    },
  })
}
