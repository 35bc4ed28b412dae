/**
 * The node-local side of channels: which connections here are subscribed to what, one broker
 * subscription per channel with local subscribers, and the fan-out. Each broker event is encoded
 * once — one JSON.stringify, one OutgoingFrame, framed once by the transport — and the same bytes
 * are queued to every local subscriber.
 */
import { ErrorCode, encodeFrame, type ServerFrame } from '@switchboard/protocol'
import type { Broker, BrokerEvent } from './broker.js'
import type { ClientConnection } from './connection.js'
import { SwitchboardError } from './errors.js'
import { OutgoingFrame } from './transport.js'

interface LocalChannel {
  readonly members: Set<ClientConnection>
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

  async add(conn: ClientConnection, channel: string): Promise<void> {
    let local = this.channels.get(channel)
    if (!local) {
      const created: LocalChannel = { members: new Set(), ready: Promise.resolve() }
      created.ready = this.broker.subscribe(channel, (event) => this.deliver(created, event))
      local = created
      this.channels.set(channel, local)
    }
    local.members.add(conn)
    try {
      await local.ready
    } catch {
      local.members.delete(conn)
      if (this.channels.get(channel) === local) this.channels.delete(channel)
      throw new SwitchboardError(ErrorCode.UNAVAILABLE, 'the broker could not subscribe to this channel')
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
    for (const conn of local.members) {
      if (conn.id !== skip) conn.sendEncoded(frame)
    }
  }
}
