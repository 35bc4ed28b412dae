/**
 * ChannelHandle: what the hooks share about one channel of one client. Hooks hold it through a
 * Lease: the first holder subscribes (`client.channel(name)`), the last one to let go unsubscribes
 * (`client.removeChannel(name)`) one task later, so StrictMode and a quick remount do not churn
 * subscribe frames. It forwards the channel's events to the hooks and keeps two snapshots for
 * useSyncExternalStore: the subscription state, the presence members and the presence counts.
 *
 * Members are the channel's own list (`Channel.members`, one per user: the subscribe reply, then
 * the coalesced presence frames, replaced by each resubscribe), frozen into a snapshot whenever it
 * changes; counts are `Channel.presenceCounts`, a new object only when they move.
 */
import type {
  Channel,
  ChannelEvents,
  ChannelState,
  PresenceCounts,
  PresenceUser,
  SwitchboardClient,
  UntypedEventMap,
} from '@switchboard/client'
import { Emitter } from '@switchboard/client'
import { Lease } from './lease.js'

type Events = ChannelEvents<unknown> & {
  members: readonly PresenceUser[]
  counts: PresenceCounts | undefined
}

const NO_MEMBERS: readonly PresenceUser[] = Object.freeze([])

export class ChannelHandle extends Emitter<Events> {
  readonly name: string
  readonly #client: SwitchboardClient<UntypedEventMap>
  readonly #lease: Lease
  #channel: Channel | undefined
  #offs: Array<() => void> = []
  #members: readonly PresenceUser[] = NO_MEMBERS
  #counts: PresenceCounts | undefined

  constructor(client: SwitchboardClient<UntypedEventMap>, name: string) {
    super()
    this.name = name
    this.#client = client
    this.#lease = new Lease(
      () => this.#start(),
      () => this.#stop(),
    )
  }

  /** Subscribes while held; returns the release function. */
  acquire(): () => void {
    return this.#lease.acquire()
  }

  /** The channel while held, else undefined. */
  get channel(): Channel | undefined {
    return this.#channel
  }

  readonly getState = (): ChannelState => this.#channel?.state ?? 'unsubscribed'

  readonly getMembers = (): readonly PresenceUser[] => this.#members

  readonly getCounts = (): PresenceCounts | undefined => this.#counts

  readonly subscribeState = (listener: () => void): (() => void) => this.on('state', listener)

  readonly subscribeMembers = (listener: () => void): (() => void) => this.on('members', listener)

  readonly subscribeCounts = (listener: () => void): (() => void) => this.on('counts', listener)

  #start(): void {
    const channel = this.#client.channel(this.name) as Channel
    this.#channel = channel
    const forward = <K extends keyof ChannelEvents<unknown>>(event: K) =>
      channel.on(event, (payload) => this.emit(event, payload as Events[K]))
    this.#offs = [
      forward('publication'),
      forward('state'),
      forward('recovery'),
      forward('error'),
      channel.on('subscribed', (result) => {
        if (result.members) this.#setMembers(channel.members)
        if (result.counts) this.#setCounts(channel.presenceCounts)
        this.emit('subscribed', result)
      }),
      channel.on('presence', (change) => {
        if (change.joins.length + change.leaves.length + change.updates.length > 0) {
          this.#setMembers(channel.members)
        }
        if (change.counts) this.#setCounts(channel.presenceCounts)
        this.emit('presence', change)
      }),
    ]
    if (channel.state === 'subscribed') {
      this.#setMembers(channel.members)
      this.#setCounts(channel.presenceCounts)
    }
  }

  #stop(): void {
    // Unsubscribe first, so its state change still reaches the hooks.
    this.#client.removeChannel(this.name)
    for (const off of this.#offs) off()
    this.#offs = []
    this.#channel = undefined
    this.#setMembers(NO_MEMBERS)
    this.#setCounts(undefined)
  }

  #setCounts(counts: PresenceCounts | undefined): void {
    const now = this.#counts
    if (
      now === counts ||
      (now && counts && now.connections === counts.connections && now.users === counts.users)
    )
      return
    this.#counts = counts && Object.freeze({ ...counts })
    this.emit('counts', this.#counts)
  }

  #setMembers(members: readonly PresenceUser[]): void {
    if (members === this.#members) return
    this.#members = members.length === 0 ? NO_MEMBERS : Object.freeze(members)
    this.emit('members', this.#members)
  }
}

const handles = new WeakMap<object, Map<string, ChannelHandle>>()

/** The shared handle of `name` on `client`; it does nothing until `acquire()`. */
export function channelHandle(client: SwitchboardClient<UntypedEventMap>, name: string): ChannelHandle {
  let byName = handles.get(client)
  if (!byName) {
    byName = new Map()
    handles.set(client, byName)
  }
  let handle = byName.get(name)
  if (!handle) {
    // Kept for the client's life (a few hundred bytes each), so every hook of a name shares one.
    handle = new ChannelHandle(client, name)
    byName.set(name, handle)
  }
  return handle
}
