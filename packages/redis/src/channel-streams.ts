/**
 * A node's live streams: one dedicated pub/sub connection, subscribed only to the channels that
 * have a local listener, and the check that makes the stream trustworthy. Every channel keeps the
 * last position it delivered; a message at exactly the next offset goes straight through, one
 * at or below it is a duplicate and dropped, and anything else — a jump, another epoch — means
 * messages were missed (the connection dropped, Redis restarted). Then the stream is held, the
 * gap is read from history and delivered in order, and only if history cannot fill it is the
 * listener told `reset`. After every reconnect each channel catches up the same way, so a gap is
 * found even if nothing is published afterwards. A periodic PING finds a connection that is open
 * but silent and restarts it.
 *
 * On a Redis Cluster the subscriptions are shard channels (pubsub.ts): ioredis moves them when a
 * slot moves or a primary fails over, and every channel then catches up the same way, so what
 * was published while the subscription was on its way is read from history (or `reset`, if
 * history no longer has it). The PING probe is for one Redis only: a cluster's subscriber
 * connections are ioredis's, which drops and replaces them itself.
 */

import type { BrokerData, BrokerListener, BrokerMessage, HistoryResult } from '@switchboard/broker'
import type { StreamPosition } from '@switchboard/protocol'
import type { Keys } from './keys.js'
import type { PubSub } from './pubsub.js'
import { decodeEvent } from './wire.js'

/** Where a stream catches up from. */
export interface StreamSource {
  history(channel: string, since: StreamPosition): Promise<HistoryResult>
  position(channel: string): Promise<StreamPosition>
}

export interface ProbeTiming {
  /** How often the pub/sub connection is pinged. */
  intervalMs: number
  /** How long a ping may take before the connection counts as dead and is restarted. */
  timeoutMs: number
}

interface Stream {
  readonly channel: string
  readonly listener: BrokerListener
  /** The last position delivered; undefined until known (the next message sets it). */
  last: StreamPosition | undefined
  /** While set, live events wait here (a catch-up is running). */
  queue: BrokerData[] | undefined
  /** Catch-ups scheduled or running; the queue drains when this returns to 0. */
  catchUps: number
  /** The chain the catch-ups run on, one at a time. */
  work: Promise<void>
}

export class ChannelStreams {
  /** By pub/sub channel name. */
  private readonly streams = new Map<string, Stream>()
  private probeTimer: NodeJS.Timeout | undefined
  private probing = false
  private connectedOnce = false

  constructor(
    private readonly sub: PubSub,
    private readonly keys: Keys,
    private readonly source: StreamSource,
    private readonly probe: ProbeTiming,
    private readonly onError: (err: unknown) => void,
  ) {
    sub.onMessage((name, payload) => this.onMessage(name, payload))
    sub.onResubscribed(() => {
      if (this.connectedOnce) void this.resync()
      this.connectedOnce = true
    })
    // A cluster's subscribers announce every (re)subscription, the first one included: each may follow a gap.
    if (sub.conn.status === 'ready' || sub.sharded) this.connectedOnce = true
  }

  start(): void {
    if (this.sub.sharded) return
    this.probeTimer ??= setInterval(() => void this.ping(), this.probe.intervalMs)
    this.probeTimer.unref()
  }

  stop(): void {
    clearInterval(this.probeTimer)
    this.probeTimer = undefined
    this.streams.clear()
  }

  async subscribe(channel: string, listener: BrokerListener): Promise<void> {
    const name = this.keys.pubsub(channel)
    const stream: Stream = {
      channel,
      listener,
      last: undefined,
      queue: [],
      catchUps: 0,
      work: Promise.resolve(),
    }
    this.streams.set(name, stream)
    try {
      await this.sub.subscribe(name)
      // Subscribed first, position second: whatever is published after the position arrives live.
      stream.last = await this.source.position(channel)
    } catch (err) {
      if (this.streams.get(name) === stream) {
        this.streams.delete(name)
        await this.sub.unsubscribe(name).catch(() => {})
      }
      throw err
    }
    if (stream.catchUps === 0) this.drain(stream)
  }

  async unsubscribe(channel: string): Promise<void> {
    const name = this.keys.pubsub(channel)
    const stream = this.streams.get(name)
    if (!stream) return
    // Messages published before this call are ahead of the UNSUBSCRIBE reply on the connection, so
    // they still reach the listener. If the connection is down there is nothing to undo: a
    // reconnect subscribes only to `streams`.
    await this.sub.unsubscribe(name).catch(() => {})
    // A subscribe that came meanwhile made a new stream, and its SUBSCRIBE went after ours.
    if (this.streams.get(name) === stream) this.streams.delete(name)
  }

  private onMessage(name: string, payload: string): void {
    const stream = this.streams.get(name)
    if (!stream) return
    const event = decodeEvent(stream.channel, payload)
    if (!event) return
    if (stream.queue) stream.queue.push(event)
    else this.process(stream, event)
  }

  private process(stream: Stream, event: BrokerData): void {
    if (event.kind === 'presence') {
      stream.listener(event)
      return
    }
    const last = stream.last
    if (!last || (event.epoch === last.epoch && event.offset === last.offset + 1)) {
      this.deliver(stream, event)
    } else if (last.offset === 0 && event.offset === 1) {
      // The first message of a stream created since the channel was read empty: nothing came
      // before it, whatever the epoch (an empty epoch can move before the first publish when
      // another channel of its slot is published first; see @switchboard/broker's empty-epoch.ts).
      this.deliver(stream, event)
    } else if (event.epoch !== last.epoch || event.offset > last.offset) {
      // A jump: hold this and what follows, and fill the gap first.
      stream.queue = [event]
      this.catchUp(stream)
    }
    // else: at or below the last offset delivered, a duplicate.
  }

  private deliver(stream: Stream, message: BrokerMessage): void {
    stream.last = { epoch: message.epoch, offset: message.offset }
    stream.listener(message)
  }

  /** Schedules a catch-up from the stream's last position; live events wait until it is done. */
  private catchUp(stream: Stream): void {
    stream.queue ??= []
    stream.catchUps++
    stream.work = stream.work.then(async () => {
      await this.fill(stream)
      if (--stream.catchUps === 0) this.drain(stream)
    })
  }

  private async fill(stream: Stream): Promise<void> {
    const { channel } = stream
    const since = stream.last
    try {
      if (!since) {
        stream.last = await this.source.position(channel)
        return
      }
      const history = await this.source.history(channel, since)
      if (!this.isCurrent(stream)) return
      if (!history.complete) {
        stream.last = history.position
        stream.listener({ kind: 'reset', channel })
        return
      }
      for (const message of history.messages) {
        if (message.offset > stream.last!.offset) this.deliver(stream, message)
      }
    } catch (err) {
      // Redis could not say what was missed: nobody can vouch for this stream any more.
      this.onError(err)
      stream.last = undefined
      if (this.isCurrent(stream)) stream.listener({ kind: 'reset', channel })
    }
  }

  private drain(stream: Stream): void {
    const queued = stream.queue ?? []
    stream.queue = undefined
    for (const event of queued) {
      if (!this.isCurrent(stream)) return
      // process() may have started another catch-up: the rest waits for it.
      const held = stream.queue as BrokerData[] | undefined
      if (held) held.push(event)
      else this.process(stream, event)
    }
  }

  private isCurrent(stream: Stream): boolean {
    return this.streams.get(this.keys.pubsub(stream.channel)) === stream
  }

  /** After a reconnect: subscribe to every channel again, then let each catch up. */
  private async resync(): Promise<void> {
    const streams = [...this.streams.entries()]
    if (streams.length === 0) return
    for (const [, stream] of streams) stream.queue ??= []
    try {
      await this.sub.subscribe(...streams.map(([name]) => name))
    } catch (err) {
      // The connection dropped again; the next 'ready' resyncs.
      this.onError(err)
      return
    }
    for (const [, stream] of streams) if (this.isCurrent(stream)) this.catchUp(stream)
  }

  private async ping(): Promise<void> {
    const sub = this.sub.conn
    if (this.probing || sub.status !== 'ready') return
    this.probing = true
    let timer: NodeJS.Timeout | undefined
    const silent = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.probe.timeoutMs)
    })
    try {
      const dead = await Promise.race([sub.ping().then(() => false), silent])
      if (dead && sub.status === 'ready') {
        this.onError(new Error(`pub/sub connection silent for ${this.probe.timeoutMs} ms; reconnecting`))
        sub.disconnect(true)
      }
    } catch {
      // The connection failed the ping: ioredis reconnects it, and 'ready' resyncs.
    } finally {
      clearTimeout(timer)
      this.probing = false
    }
  }
}
