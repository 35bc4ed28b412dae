/**
 * The node-local side of channels: which connections here are subscribed to what, one broker
 * subscription per channel with local subscribers, and the fan-out. Each broker event is encoded
 * once — one JSON.stringify, one OutgoingFrame, framed once by the transport — and the same bytes
 * are queued to every local subscriber.
 *
 * A subscriber that is recovering is *held*: live events for it are kept aside while its replay
 * is read from history, then released — only those after the replay's last offset — so replay and
 * live stream meet with no gap and no overlap.
 */
import { ErrorCode, encodeFrame, type ServerFrame, type StreamPosition } from '@switchboard/protocol'
import type { Broker, BrokerEvent } from './broker.js'
import type { ClientConnection } from './connection.js'
import { SwitchboardError } from './errors.js'
import { OutgoingFrame } from './transport.js'

/** Live events kept for a held subscriber, in arrival order, with their shared encoding. */
type Held = Array<{ event: BrokerEvent; frame: OutgoingFrame }>

interface LocalChannel {
  /** Each local subscriber, with its held events while it recovers (undefined when live). */
  readonly members: Map<ClientConnection, Held | undefined>
  /** Settles once the broker subscription for this channel is in place. */
  ready: Promise<void>
}

function toFrame(event: BrokerEvent): ServerFrame {
  if (event.kind === 'message') {
    const { channel, epoch, offset, data } = event
    return { type: 'message', channel, epoch, offset, data }
  }
  return { type: 'presence', channel: event.channel, action: event.action, member: event.member }
}

export class ChannelHub {
  private readonly channels = new Map<string, LocalChannel>()

  constructor(private readonly broker: Broker) {}

  /** How many local connections are subscribed to the channel. */
  size(channel: string): number {
    return this.channels.get(channel)?.members.size ?? 0
  }

  names(): IterableIterator<string> {
    return this.channels.keys()
  }

  /** Adds a local subscriber; with `hold`, its live events wait for `release`. */
  async add(conn: ClientConnection, channel: string, hold = false): Promise<void> {
    let local = this.channels.get(channel)
    if (!local) {
      const created: LocalChannel = { members: new Map(), ready: Promise.resolve() }
      created.ready = this.broker.subscribe(channel, (event) => this.deliver(created, event))
      local = created
      this.channels.set(channel, local)
    }
    local.members.set(conn, hold ? [] : undefined)
    try {
      await local.ready
    } catch {
      local.members.delete(conn)
      if (this.channels.get(channel) === local) this.channels.delete(channel)
      throw new SwitchboardError(ErrorCode.UNAVAILABLE, 'the broker could not subscribe to this channel')
    }
  }

  /** Starts holding an existing subscriber's live events (a resubscribe with `since`). */
  hold(conn: ClientConnection, channel: string): void {
    const local = this.channels.get(channel)
    if (local?.members.has(conn) && !local.members.get(conn)) local.members.set(conn, [])
  }

  /**
   * Ends the hold: sends the held events that come after `after` — presence always, messages of
   * the same epoch only past its offset, messages of another epoch always — and goes live.
   */
  release(conn: ClientConnection, channel: string, after: StreamPosition): void {
    const local = this.channels.get(channel)
    const held = local?.members.get(conn)
    if (!local || !held) return
    local.members.set(conn, undefined)
    for (const { event, frame } of held) {
      if (event.kind === 'message' && event.epoch === after.epoch && event.offset <= after.offset) continue
      conn.sendEncoded(frame)
    }
  }

  async remove(conn: ClientConnection, channel: string): Promise<void> {
    const local = this.channels.get(channel)
    if (!local?.members.delete(conn)) return
    if (local.members.size === 0) {
      this.channels.delete(channel)
      await local.ready.catch(() => {})
      // A new subscriber may have arrived while we waited; it made a fresh entry and subscription.
      if (!this.channels.has(channel)) await this.broker.unsubscribe(channel)
    }
  }

  private deliver(local: LocalChannel, event: BrokerEvent): void {
    if (local.members.size === 0) return
    const frame = new OutgoingFrame(encodeFrame(toFrame(event)))
    // The publisher (except-sender) or, for presence, the member itself does not get the event.
    const skip = event.kind === 'message' ? event.except : event.member.connectionId
    // forEach rather than for-of with destructuring: no entry array per subscriber per message.
    local.members.forEach((held, conn) => {
      if (conn.id === skip) return
      if (held) held.push({ event, frame })
      else conn.sendEncoded(frame)
    })
  }
}
