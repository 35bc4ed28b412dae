/**
 * Presence changes of one channel, coalesced on the node that fans them out: the broker's events
 * (one per connection that comes or goes) are gathered for a window, then sent as one `presence`
 * frame — each user at most once, in its latest state, and the counts if they moved — which the
 * hub hands to every local subscriber. So a wave of N joins costs each subscriber one frame per
 * window, not N frames: O(members) frames per window in all, not O(members²). The first change
 * after a quiet spell opens the window, so a lone join waits at most `windowMs`; a window of 0
 * sends each change on its own at once. `'counts'` channels carry counts only.
 */
import type { BrokerPresence } from '@switchboard/broker'
import type { PresenceCounts, PresenceFrame, PresenceUser } from '@switchboard/protocol'
import type { ResolvedPresence } from './channel-options.js'

type Change = 'joins' | 'leaves' | 'updates'

export class PresenceCoalescer {
  /** Each user's net change in this window. */
  private readonly changes = new Map<string, { change: Change; user: PresenceUser }>()
  private counts: PresenceCounts | undefined
  private sentCounts: PresenceCounts | undefined
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly channel: string,
    private readonly options: ResolvedPresence,
    private readonly send: (frame: PresenceFrame) => void,
  ) {}

  add(event: BrokerPresence): void {
    this.counts = event.counts
    const { user } = event
    // A count that names its user (another connection of a member) updates that member.
    if (this.options.mode === 'members' && user) {
      const before = this.changes.get(user.userId)?.change
      // A join then an update in one window is still a join (with the new info); otherwise the
      // latest change wins — a join then a leave is a leave, which is right for a subscriber
      // that saw the join in its subscribe reply and harmless for one that did not.
      const change: Change =
        event.action === 'join'
          ? 'joins'
          : event.action === 'leave'
            ? 'leaves'
            : before === 'joins'
              ? 'joins'
              : 'updates'
      this.changes.delete(user.userId)
      this.changes.set(user.userId, { change, user })
    }
    if (this.options.windowMs === 0) this.flush()
    else this.timer ??= setTimeout(() => this.flush(), this.options.windowMs)
  }

  /** Sends what the window gathered, if anything changed. */
  flush(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    const frame: PresenceFrame = { type: 'presence', channel: this.channel }
    for (const { change, user } of this.changes.values()) {
      const list = frame[change] ?? []
      list.push(user)
      frame[change] = list
    }
    this.changes.clear()
    const counts = this.counts
    const sent = this.sentCounts
    if (counts && (!sent || sent.connections !== counts.connections || sent.users !== counts.users)) {
      frame.counts = counts
      this.sentCounts = counts
    }
    if (frame.joins || frame.leaves || frame.updates || frame.counts) this.send(frame)
  }

  /** The channel has no local subscriber any more: nothing is sent. */
  stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.changes.clear()
  }
}
