/**
 * Reading a channel's presence for `$presence` and `POST /api/presence`: the counts always, and
 * the member list (one entry per user) on `'members'` channels unless only the counts were asked
 * for. One place, so the request and the HTTP API answer alike.
 */
import type { Broker } from '@switchboard/broker'
import type { PresenceCounts, PresenceUser } from '@switchboard/protocol'
import type { ResolvedPresence } from './channel-options.js'

/** What a presence read answers: `connections` and `users` counts, and `members` unless counts only. */
export interface PresenceSnapshot extends PresenceCounts {
  members?: PresenceUser[]
}

export async function readPresence(
  broker: Broker,
  channel: string,
  presence: ResolvedPresence,
  countsOnly: boolean,
): Promise<PresenceSnapshot> {
  if (countsOnly || presence.mode === 'counts') return broker.presence.counts(channel)
  const members = await broker.presence.users(channel)
  const connections = members.reduce((n, m) => n + m.connections, 0)
  return { connections, users: members.length, members }
}
