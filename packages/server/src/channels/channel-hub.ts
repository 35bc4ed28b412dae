/**
 * The node-local side of channels: which connections here are subscribed to what, one broker
 * subscription per channel with local subscribers, and the fan-out. Each broker event is encoded
 * once — one JSON.stringify, one OutgoingFrame, framed once by the transport — and the same bytes
 * are queued to every local subscriber. Messages go out in batches (see OutgoingBatch): the first
 * message of a flush window is handed to each subscriber, the next ones are appended to the batch
 * they already hold, so a busy channel costs per subscriber per window, not per message.
 *
 * Presence changes do not go out one by one: each channel's PresenceCoalescer gathers them for
 * its window and the hub fans out the one frame it makes, like a message, to every subscriber.
 *
 * A subscriber that is recovering is *held*: live events for it are kept aside while its replay
 * is read from history, then released — only those after the replay's last offset — so replay and
 * live stream meet with no gap and no overlap.
 */

import type { Broker, BrokerData, BrokerMessage } from '@switchboard/broker'
import { CloseCode, ErrorCode, type StreamPosition } from '@switchboard/protocol'
import type { ClientConnection } from '../connection/connection.js'
import { SwitchboardError } from '../errors.js'
import {
  type ChannelRate,
  countMessage,
  NodeCounters,
  newChannelRate,
  perSecond,
  RateClock,
} from '../stats/node-stats.js'
import { OutgoingBatch, OutgoingFrame } from '../transport/transport.js'
import type { ResolvedPresence } from './channel-options.js'
import { PresenceCoalescer } from './presence-coalescer.js'

/**
 * Live frames kept for a held subscriber, in arrival order, with their shared encoding, and the
 * message each carries (undefined for a presence frame).
 */
type Held = Array<{ message: BrokerMessage | undefined; frame: OutgoingFrame }>

/** A batch takes no more frames past this many bytes of JSON text: a flood of big messages flushes sooner. */
const BATCH_BYTES_MAX = 32 * 1024

interface LocalChannel {
  /** Each local subscriber, with its held events while it recovers (undefined when live). */
  readonly members: Map<ClientConnection, Held | undefined>
  /** Settles once the broker subscription for this channel is in place. */
  ready: Promise<void>
  /** The batch every live subscriber that takes batches holds, while it is open. */
  batch: OutgoingBatch | undefined
  /** Members that need a look for every message: held ones, and those whose transport takes no batches. */
  special: number
  /** Members that speak MessagePack: when all do, batches are measured without encoding JSON. */
  packed: number
  /**
   * The latest position a live member here has been given: the last message fanned out, or a
   * later release point. Every live member has had the stream up to it.
   */
  last: StreamPosition | undefined
  /** Its messages per rate window (the dashboard's publish rate). */
  readonly rate: ChannelRate
  /** Who watches its messages without being a connection (the API's live tail). */
  readonly watchers: Set<ChannelWatcher>
  /** The channel's presence changes waiting for their window (made with the first one). */
  presence: PresenceCoalescer | undefined
}

/** Sees each message of a channel this node is subscribed to. */
export type ChannelWatcher = (message: BrokerMessage) => void

/** Whether a member needs a look for every message even while a batch is open. */
function isSpecial(conn: ClientConnection, held: Held | undefined): boolean {
  return held !== undefined || !conn.takesBatches
}

/** Told when this node starts and stops having subscribers of a channel (channel webhooks). */
export interface OccupancyObserver {
  occupied(channel: string): void
  vacated(channel: string): void
}

export class ChannelHub {
  private readonly channels = new Map<string, LocalChannel>()
  /** Set once by the webhooks that decide `channel.occupied` and `channel.vacated`. */
  occupancy: OccupancyObserver | undefined

  /** `presenceOf`: a channel's presence options (how its changes are coalesced); none, no presence frames. */
  constructor(
    private readonly broker: Broker,
    private readonly counters = new NodeCounters(),
    private readonly clock = new RateClock(),
    private readonly presenceOf: (channel: string) => ResolvedPresence | undefined = () => undefined,
  ) {}

  /** Messages per second published on the channel, over the last complete rate window. */
  rate(channel: string): number {
    return perSecond(this.channels.get(channel)?.rate, this.clock)
  }

  /** How many local connections are subscribed to the channel. */
  size(channel: string): number {
    return this.channels.get(channel)?.members.size ?? 0
  }

  names(): IterableIterator<string> {
    return this.channels.keys()
  }

  /** Adds a local subscriber; with `hold`, its live events wait for `release`. */
  async add(conn: ClientConnection, channel: string, hold = false): Promise<void> {
    const local = this.localOf(channel)
    this.setMember(local, conn, hold ? [] : undefined)
    try {
      await local.ready
    } catch {
      this.deleteMember(local, conn)
      this.dropIfUnused(channel, local)
      throw new SwitchboardError(ErrorCode.UNAVAILABLE, 'the broker could not subscribe to this channel')
    }
  }

  /**
   * Calls `watcher` with each message of the channel until the returned function is called; the
   * node stays subscribed on the broker meanwhile, with or without local subscribers. Rejects
   * with `unavailable` if the broker cannot subscribe.
   */
  async watch(channel: string, watcher: ChannelWatcher): Promise<() => Promise<void>> {
    const local = this.localOf(channel)
    local.watchers.add(watcher)
    const unwatch = async () => {
      if (!local.watchers.delete(watcher)) return
      await this.unsubscribeIfUnused(channel, local)
    }
    try {
      await local.ready
    } catch {
      local.watchers.delete(watcher)
      this.dropIfUnused(channel, local)
      throw new SwitchboardError(ErrorCode.UNAVAILABLE, 'the broker could not subscribe to this channel')
    }
    return unwatch
  }

  /** The channel's local entry, created (and subscribed on the broker) on first use. */
  private localOf(channel: string): LocalChannel {
    const found = this.channels.get(channel)
    if (found) return found
    const created: LocalChannel = {
      members: new Map(),
      ready: Promise.resolve(),
      batch: undefined,
      special: 0,
      packed: 0,
      last: undefined,
      rate: newChannelRate(this.clock),
      watchers: new Set(),
      presence: undefined,
    }
    created.ready = this.broker.subscribe(channel, (event) =>
      event.kind === 'reset' ? this.reset(created) : this.deliver(created, channel, event),
    )
    created.ready.then(() => this.occupancy?.occupied(channel), noop)
    this.channels.set(channel, created)
    return created
  }

  private dropIfUnused(channel: string, local: LocalChannel): void {
    if (local.members.size === 0 && local.watchers.size === 0 && this.channels.get(channel) === local) {
      this.channels.delete(channel)
    }
  }

  /** Unsubscribes on the broker once the channel has neither members nor watchers. */
  private async unsubscribeIfUnused(channel: string, local: LocalChannel): Promise<void> {
    if (local.members.size > 0 || local.watchers.size > 0 || this.channels.get(channel) !== local) return
    local.presence?.stop()
    this.channels.delete(channel)
    await local.ready.catch(() => {})
    // A new subscriber may have arrived while we waited; it made a fresh entry and subscription.
    if (!this.channels.has(channel)) {
      this.occupancy?.vacated(channel)
      await this.broker.unsubscribe(channel)
    }
  }

  /**
   * The position up to which every live local subscriber has been given the channel's stream
   * (undefined before the first release or message): what a subscriber that is already live is
   * told when it subscribes again without `since`.
   */
  position(channel: string): StreamPosition | undefined {
    const last = this.channels.get(channel)?.last
    return last && { ...last }
  }

  /** Starts holding an existing subscriber's live events (a resubscribe with `since`). */
  hold(conn: ClientConnection, channel: string): void {
    const local = this.channels.get(channel)
    if (local?.members.has(conn) && !local.members.get(conn)) this.setMember(local, conn, [])
  }

  /**
   * Ends the hold: sends the held events that come after `after` — presence always, messages of
   * the same epoch only past its offset, messages of another epoch always — and goes live.
   */
  release(conn: ClientConnection, channel: string, after: StreamPosition): void {
    const local = this.channels.get(channel)
    const held = local?.members.get(conn)
    if (!local || !held) return
    const last = local.last
    if (!last || last.epoch !== after.epoch || last.offset < after.offset) {
      local.last = { epoch: after.epoch, offset: after.offset }
    }
    this.setMember(local, conn, undefined)
    for (const { message, frame } of held) {
      if (message && message.epoch === after.epoch && message.offset <= after.offset) continue
      conn.sendEncoded(frame)
    }
  }

  async remove(conn: ClientConnection, channel: string): Promise<void> {
    const local = this.channels.get(channel)
    if (!local || !this.deleteMember(local, conn)) return
    await this.unsubscribeIfUnused(channel, local)
  }

  /**
   * The broker lost part of this channel's stream and could not fill it: every local subscriber
   * reconnects (1012, a reconnect code) and resumes with `since`, which replays what history
   * still has and reports `recovered: false` if anything is gone — never a silent gap.
   */
  private reset(local: LocalChannel): void {
    for (const conn of [...local.members.keys()])
      conn.close(CloseCode.SERVICE_RESTART, 'channel stream interrupted')
  }

  /**
   * Every membership change ends the channel's open batch: a subscriber that joins, goes live or
   * starts holding must not get frames through a batch it did not (or should no longer) hold, and
   * one that leaves must not get more through a batch still in its queue.
   */
  private setMember(local: LocalChannel, conn: ClientConnection, held: Held | undefined): void {
    const before = local.members.get(conn)
    if (local.members.has(conn)) {
      if (isSpecial(conn, before)) local.special--
    } else if (conn.packed) local.packed++
    local.members.set(conn, held)
    if (isSpecial(conn, held)) local.special++
    local.batch = undefined
  }

  private deleteMember(local: LocalChannel, conn: ClientConnection): boolean {
    if (!local.members.has(conn)) return false
    if (isSpecial(conn, local.members.get(conn))) local.special--
    if (conn.packed) local.packed--
    local.members.delete(conn)
    local.batch = undefined
    return true
  }

  private deliver(local: LocalChannel, channel: string, event: BrokerData): void {
    if (event.kind === 'presence') {
      if (local.members.size === 0) return
      if (!local.presence) {
        const options = this.presenceOf(channel)
        if (!options) return
        local.presence = new PresenceCoalescer(channel, options, (frame) => {
          if (this.channels.get(channel) === local) this.fanOut(local, OutgoingFrame.of(frame), undefined)
        })
      }
      local.presence.add(event)
      return
    }
    countMessage(local.rate, this.clock)
    // No iterator is made per message unless someone watches (the API's live tail).
    if (local.watchers.size > 0) for (const watcher of local.watchers) watcher(event)
    if (local.members.size === 0) return
    local.last = { epoch: event.epoch, offset: event.offset }
    this.counters.messagesOut += local.members.size - (event.except === undefined ? 0 : 1)
    const { epoch, offset, data } = event
    this.fanOut(local, OutgoingFrame.of({ type: 'message', channel, epoch, offset, data }), event)
  }

  /** Queues one frame (a message, or a presence frame when `message` is undefined) to every local subscriber. */
  private fanOut(local: LocalChannel, frame: OutgoingFrame, message: BrokerMessage | undefined): void {
    if (local.members.size === 0) return
    // Encoded now, in each codec its subscribers use, not at the flush: what goes out is the data
    // as it was published, even if the publisher changes its object (or reuses its Buffer) later
    // in this turn.
    if (local.packed < local.members.size) void frame.text
    if (local.packed > 0) void frame.packedBytes
    // The publisher (except-sender) does not get the message: such a message goes to each member
    // on its own and ends the batch.
    const skip = message?.except
    if (skip !== undefined) {
      local.batch = undefined
      local.members.forEach((held, conn) => {
        if (conn.id === skip) return
        if (held) held.push({ message, frame })
        else conn.sendEncoded(frame)
      })
      return
    }
    const open = local.batch
    if (open?.open && open.byteLength < BATCH_BYTES_MAX) {
      // Every live member that takes batches holds this batch: one append reaches them all.
      open.append(frame)
      if (local.special > 0) {
        local.members.forEach((held, conn) => {
          if (held) held.push({ message, frame })
          else if (!conn.takesBatches) conn.sendEncoded(frame)
        })
      }
      return
    }
    const batch = new OutgoingBatch(frame, local.packed === local.members.size)
    local.batch = batch
    // forEach rather than for-of with destructuring: no entry array per subscriber per message.
    local.members.forEach((held, conn) => {
      if (held) held.push({ message, frame })
      else if (conn.takesBatches) conn.sendBatch(batch)
      else conn.sendEncoded(frame)
    })
  }
}

function noop(): void {}
