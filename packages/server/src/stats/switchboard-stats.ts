/**
 * `sb.stats()`: this node's counters as the application reads them, each a copy (the caller may
 * keep or change it without touching the live counts).
 */
import type { SwitchboardStats } from '../api.js'
import type { EventLoopDelay, NodeCounters } from './node-stats.js'

export interface StatsSources {
  connections: number
  channels: number
  handshakesRefused: number
  disconnects: Record<number, number>
  apiRequests: Record<string, Record<number, number>> | undefined
  counters: NodeCounters
  eventLoop: EventLoopDelay
}

export function switchboardStats(s: StatsSources): SwitchboardStats {
  const { counters } = s
  return {
    connections: s.connections,
    channels: s.channels,
    handshakesRefused: s.handshakesRefused,
    disconnects: { ...s.disconnects },
    apiRequests: Object.fromEntries(
      Object.entries(s.apiRequests ?? {}).map(([m, byStatus]) => [m, { ...byStatus }]),
    ),
    messagesIn: counters.messagesIn,
    messagesOut: counters.messagesOut,
    recoveries: { recovered: counters.recovered, notRecovered: counters.notRecovered },
    brokerFailures: counters.brokerFailures,
    eventLoopDelaySeconds: s.eventLoop.read() / 1000,
  }
}
