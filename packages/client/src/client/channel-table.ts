/**
 * The client's channels by name: the one `Channel` object per name, the subscribe and unsubscribe
 * frames they send through the request table, the frames that concern them (messages, presence,
 * server-side `subscribed` / `unsubscribed`), and the `resume` parameter that carries their
 * positions to the next connection. While the server has not answered a name's unsubscribe, what
 * still arrives for it belongs to the old subscription and is dropped.
 */
import {
  encodeFrame,
  encodeResume,
  MAX_RESUME_LENGTH,
  type MessageFrame,
  type PresenceFrame,
  RESUME_PARAM,
  type StreamPosition,
  type SubscribedFrame,
  type SubscribeResult,
} from '@switchboard/protocol'
import { Channel, type ChannelHost } from '../channel/channel.js'
import { noop } from '../util/noop.js'
import type { IdFrame, RequestTable } from './request-table.js'

export class ChannelTable {
  readonly #channels = new Map<string, Channel>()
  /** Channels whose unsubscribe the server has not answered yet, with that frame's id. */
  readonly #leaving = new Map<string, string>()
  readonly #host: ChannelHost

  constructor(
    requests: RequestTable,
    isConnected: () => boolean,
    publish: ChannelHost['publish'],
    updatePresence: ChannelHost['updatePresence'],
  ) {
    this.#host = {
      isConnected,
      publish,
      updatePresence,
      sendSubscribe: (channel, since, done) => {
        const id = requests.nextId()
        const frame: IdFrame = since
          ? { type: 'subscribe', id, channel, since }
          : { type: 'subscribe', id, channel }
        const request = requests.track(frame, undefined, undefined, false, (outcome) =>
          done(outcome.ok ? { ok: true, result: outcome.data as unknown as SubscribeResult } : outcome),
        )
        // The channel hears of the outcome through `done`; the promise itself has no reader.
        request.promise.catch(noop)
        requests.write(encodeFrame(frame), request)
      },
      sendUnsubscribe: (channel) => {
        if (!isConnected()) return
        // With an id, so the client knows when the server has stopped the old subscription.
        const frame: IdFrame = { type: 'unsubscribe', id: requests.nextId(), channel }
        this.#leaving.set(channel, frame.id)
        const request = requests.track(frame, undefined, undefined, false, () => {
          if (this.#leaving.get(channel) === frame.id) this.#leaving.delete(channel)
        })
        request.promise.catch(noop)
        // Through the table: it goes after a subscribe still waiting for the pacer.
        requests.write(encodeFrame(frame), request)
      },
    }
  }

  /** The channel of that name; made (and, with `subscribe`, subscribed) when there is none. */
  get(name: string, subscribe: boolean): Channel {
    let channel = this.#channels.get(name)
    if (!channel) {
      channel = new Channel(name, this.#host)
      this.#channels.set(name, channel)
      if (subscribe) channel.subscribe()
    }
    return channel
  }

  has(name: string): boolean {
    return this.#channels.has(name)
  }

  /** Unsubscribes and forgets a channel. */
  remove(name: string): void {
    this.#channels.get(name)?.unsubscribe()
    this.#channels.delete(name)
  }

  message(frame: MessageFrame): void {
    if (!this.#leaving.has(frame.channel)) this.#channels.get(frame.channel)?.handleMessage(frame)
  }

  presence(frame: PresenceFrame): void {
    if (!this.#leaving.has(frame.channel)) this.#channels.get(frame.channel)?.handlePresence(frame)
  }

  /** A `subscribed` frame: the channel, when it was not server-side before (the app is told then). */
  serverSubscribed(frame: SubscribedFrame): Channel | undefined {
    const { type: _, channel: name, ...result } = frame
    const channel = this.get(name, false)
    return channel.handleServerSubscribed(result) ? channel : undefined
  }

  /** An `unsubscribed` frame: the channel it ended, if the client has it. */
  serverUnsubscribed(name: string): Channel | undefined {
    const channel = this.#channels.get(name)
    channel?.handleServerUnsubscribed()
    return channel
  }

  /** The handshake is done: every channel (re)subscribes. */
  connected(): void {
    for (const channel of this.#channels.values()) channel.handleConnected()
  }

  /** The connection is gone, and with it every old subscription. */
  disconnected(willReconnect: boolean): void {
    this.#leaving.clear()
    for (const channel of this.#channels.values()) channel.handleDisconnected(willReconnect)
  }

  /**
   * The `resume` query parameter of the next connection: the positions of the server-side channels
   * (and of the wanted ones, which the server may subscribe too), within the parameter's length.
   */
  resumeQuery(): string {
    const positions: Array<[string, StreamPosition]> = []
    // Room in the parameter, counted generously (the JSON text, before URL encoding).
    let room = MAX_RESUME_LENGTH / 2
    const fits = (name: string, p: StreamPosition) => {
      room -= name.length + p.epoch.length + 24
      return room >= 0
    }
    for (const [name, channel] of this.#channels) {
      const position = channel.resumePosition(fits)
      if (position) positions.push([name, position])
    }
    return positions.length ? `${RESUME_PARAM}=${encodeURIComponent(encodeResume(positions))}` : ''
  }
}
