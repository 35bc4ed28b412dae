/**
 * The connection multiplexer: one real connection to a Switchboard server, carrying the clients
 * of every tab that shares it. Each tab's client talks to a link (a virtual socket) as if it
 * were its own connection; the multiplexer reads just enough of each frame to keep them apart:
 *
 * - ids: a tab's request, publish, subscribe and auth ids get the link's number in front on the
 *   way out, and the reply (or `error`) carrying that id goes back to that tab alone, its id
 *   restored;
 * - channels: the server sees one subscription per channel. Every tab's subscribe is sent (on a
 *   channel the connection already has, the server answers with its position and members and
 *   replays from the tab's `since`, holding the live stream meanwhile; live messages that reach
 *   here before the server reads it are held for that tab and given after the replay, in offset
 *   order), a tab's unsubscribe goes
 *   out only when no other tab wants the channel (it is answered here otherwise), and `message`
 *   and `presence` frames go to the tabs subscribed to their channel. Each tab's client drops
 *   what it already handled by offset, so a replay asked for by one tab doubles nothing in another;
 * - the rest: `hello` is replayed to each link as it joins (without `auth: 'required'` once a
 *   token was accepted), server events, `refresh`, `pong` and id-less errors go to every tab,
 *   server-side subscriptions (`subscribed`) to every tab.
 *
 * The real connection opens with the first link and closes with the last; when it closes, every
 * link closes with its code, and each tab's client reconnects and resubscribes with `since`. A
 * tab closing its link with 4102 (its heartbeat found the connection silent, or the browser went
 * offline) drops the real connection for all. Frames are JSON text: a shared connection does
 * not use MessagePack.
 */
import { CloseCode, ErrorCode, SUBPROTOCOL } from '@switchboard/protocol'
import { closeQuietly, type WebSocketConstructor, type WebSocketLike } from '../transport/websocket-like.js'
import { noop } from '../util/noop.js'
import type { LinkEnd, LinkOpener, LinkPeer } from './share-messages.js'

/** A frame parsed from JSON: only the fields read or rewritten here are typed. */
interface WireFrame {
  type?: unknown
  id?: unknown
  channel?: unknown
  epoch?: unknown
  offset?: unknown
  ok?: unknown
  auth?: unknown
  error?: { code?: unknown }
  code?: unknown
}

interface Link {
  readonly no: number
  readonly peer: LinkPeer
  /** Channels this link subscribed to and did not unsubscribe from. */
  readonly channels: Set<string>
  /** Whether it was given `hello`. */
  greeted: boolean
  closed: boolean
  /**
   * Channels this link's subscribe is out for, with the `message` frames held for it until the
   * reply: on a channel the connection already has, live messages reach here before the server
   * reads the tab's subscribe and replays the older ones from its `since`. Given in arrival order
   * the tab would take a live offset first and then drop the replay below it as already handled.
   */
  readonly pending: Map<string, HeldMessage[]>
}

/** A `message` frame held for a link whose subscribe is out. */
interface HeldMessage {
  text: string
  epoch: unknown
  offset: number
}

/** A frame of a link waiting for its reply, by its id on the wire. */
interface Waiting {
  link: Link
  id: string
  type: unknown
  channel: unknown
}

export interface MultiplexerOptions {
  /** The real connection's constructor (a WebSocket, or the transport fallback). */
  WebSocket: WebSocketConstructor
}

/** Subscribe refusals after which the tab's channel still wants the subscription (it retries). */
const RETRIED = new Set<unknown>([ErrorCode.UNAVAILABLE, ErrorCode.RATE_LIMITED, ErrorCode.TIMEOUT])

export class ConnectionMultiplexer implements LinkOpener {
  readonly #WebSocket: WebSocketConstructor
  #socket: WebSocketLike | undefined
  #hello: WireFrame | undefined
  #authenticated = false
  #nextLink = 0
  readonly #links = new Set<Link>()
  readonly #waiting = new Map<string, Waiting>()
  /** Channels the server subscribed the connection to, with the last position seen on each. */
  readonly #serverSide = new Map<string, { epoch: unknown; offset: unknown }>()

  constructor(options: MultiplexerOptions) {
    this.#WebSocket = options.WebSocket
  }

  /** Links open now (tabs' sockets, connected or waiting for `hello`). */
  get links(): number {
    return this.#links.size
  }

  /** A new link; the real connection opens (to `url`) if there is none. */
  open(url: string, peer: LinkPeer): LinkEnd {
    const link: Link = {
      no: ++this.#nextLink,
      peer,
      channels: new Set(),
      greeted: false,
      closed: false,
      pending: new Map(),
    }
    this.#links.add(link)
    if (this.#hello) this.#greet(link)
    else if (!this.#socket) this.#connect(url)
    return {
      send: (data) => this.#fromTab(link, data),
      close: (code) => this.#closeLink(link, code),
    }
  }

  #connect(url: string): void {
    let socket: WebSocketLike
    try {
      socket = new this.#WebSocket(url, SUBPROTOCOL)
    } catch {
      this.#lost(undefined, CloseCode.ABNORMAL, 'could not create socket')
      return
    }
    this.#socket = socket
    socket.onmessage = ({ data }) => {
      if (this.#socket === socket && typeof data === 'string') this.#fromServer(data)
    }
    socket.onclose = ({ code, reason }) => this.#lost(socket, code, reason)
    socket.onerror = noop
  }

  #greet(link: Link): void {
    link.greeted = true
    link.peer.opened(SUBPROTOCOL)
    const hello = { ...this.#hello }
    if (this.#authenticated) delete hello.auth
    link.peer.message(JSON.stringify(hello))
    for (const [channel, position] of this.#serverSide) {
      link.peer.message(JSON.stringify({ type: 'subscribed', channel, ...position }))
    }
  }

  #wanted(channel: string): boolean {
    if (this.#serverSide.has(channel)) return true
    for (const link of this.#links) if (link.channels.has(channel)) return true
    return false
  }

  #fromTab(link: Link, text: string): void {
    const socket = this.#socket
    if (link.closed || !socket) return
    const frame = parse(text)
    if (!frame) {
      socket.send(text)
      return
    }
    const { type, channel, id } = frame
    if (type === 'unsubscribe' && typeof channel === 'string') {
      link.channels.delete(channel)
      if (this.#wanted(channel)) {
        // Another tab still wants it: the server's subscription stays, this tab is told it is done.
        if (typeof id === 'string') link.peer.message(JSON.stringify({ type: 'reply', id, ok: true }))
        return
      }
    }
    if (type === 'subscribe' && typeof channel === 'string') {
      link.channels.add(channel)
      if (typeof id === 'string') link.pending.set(channel, [])
    }
    if (typeof id === 'string') {
      const wire = `${link.no.toString(36)}.${id}`
      this.#waiting.set(wire, { link, id, type, channel })
      frame.id = wire
      socket.send(JSON.stringify(frame))
      return
    }
    socket.send(text)
  }

  #fromServer(text: string): void {
    const frame = parse(text)
    if (!frame) return
    const { type, channel } = frame
    switch (type) {
      case 'hello':
        this.#hello = frame
        for (const link of this.#links) if (!link.greeted) this.#greet(link)
        return
      case 'reply':
      case 'error': {
        if (typeof frame.id !== 'string') break
        const waiting = this.#waiting.get(frame.id)
        if (!waiting) return
        this.#waiting.delete(frame.id)
        const ok = type === 'reply' && frame.ok === true
        if (waiting.type === 'auth' && ok) this.#authenticated = true
        if (waiting.type === 'subscribe' && !ok && typeof waiting.channel === 'string') {
          const code = type === 'reply' ? frame.error?.code : frame.code
          if (!RETRIED.has(code)) waiting.link.channels.delete(waiting.channel)
        }
        if (waiting.link.closed) return
        if (waiting.type === 'subscribe' && typeof waiting.channel === 'string') {
          const held = waiting.link.pending.get(waiting.channel)
          waiting.link.pending.delete(waiting.channel)
          // Refused: the tab is not subscribed (a retry asks again from its own position).
          if (held && ok) for (const text of inOrder(held)) waiting.link.peer.message(text)
        }
        frame.id = waiting.id
        waiting.link.peer.message(JSON.stringify(frame))
        return
      }
      case 'message':
      case 'presence': {
        if (typeof channel !== 'string') return
        const server = this.#serverSide.get(channel)
        if (server && type === 'message') {
          server.epoch = frame.epoch
          server.offset = frame.offset
        }
        for (const link of this.#links) {
          if (!link.greeted || !(server || link.channels.has(channel))) continue
          const held = link.pending.get(channel)
          // A presence change before the reply is in the reply's member list already.
          if (!held) link.peer.message(text)
          else if (type === 'message' && typeof frame.offset === 'number') {
            held.push({ text, epoch: frame.epoch, offset: frame.offset })
          }
        }
        return
      }
      case 'subscribed':
        if (typeof channel === 'string')
          this.#serverSide.set(channel, { epoch: frame.epoch, offset: frame.offset })
        break
      case 'unsubscribed':
        if (typeof channel === 'string') {
          this.#serverSide.delete(channel)
          for (const link of this.#links) link.channels.delete(channel)
        }
        break
    }
    // Server events, `refresh`, `pong`, id-less errors, server-side (un)subscriptions: every tab.
    for (const link of this.#links) if (link.greeted) link.peer.message(text)
  }

  #closeLink(link: Link, code: number): void {
    if (link.closed) return
    link.closed = true
    this.#links.delete(link)
    if (code === CloseCode.HEARTBEAT_TIMEOUT) {
      // That tab heard nothing from the server for too long: the connection is dead for all.
      this.#drop(code, 'heartbeat timeout')
      return
    }
    if (this.#links.size === 0) {
      this.#drop(CloseCode.NORMAL, 'no tab left')
      return
    }
    for (const channel of link.channels) {
      if (!this.#wanted(channel)) this.#socket?.send(JSON.stringify({ type: 'unsubscribe', channel }))
    }
  }

  /** Closes the real connection; every link closes with the same code. */
  #drop(code: number, reason: string): void {
    const socket = this.#socket
    if (!socket) return
    socket.onclose = socket.onmessage = null
    closeQuietly(socket, code, reason)
    this.#lost(socket, code, reason)
  }

  #lost(socket: WebSocketLike | undefined, code: number, reason: string): void {
    if (socket !== this.#socket) return
    this.#socket = undefined
    this.#hello = undefined
    this.#authenticated = false
    this.#waiting.clear()
    this.#serverSide.clear()
    const links = [...this.#links]
    this.#links.clear()
    for (const link of links) {
      link.closed = true
      link.peer.closed(code, reason)
    }
  }
}

/**
 * Held messages in stream order: live ones that came before the replay go after it. Grouped by
 * epoch in the order the epochs came, by offset within one; the tab's client drops doubles.
 */
function inOrder(held: HeldMessage[]): string[] {
  const epochs = [...new Set(held.map((m) => m.epoch))]
  return epochs.flatMap((epoch) =>
    held
      .filter((m) => m.epoch === epoch)
      .sort((a, b) => a.offset - b.offset)
      .map((m) => m.text),
  )
}

function parse(text: string): (WireFrame & Record<string, unknown>) | undefined {
  try {
    const frame: unknown = JSON.parse(text)
    return frame !== null && typeof frame === 'object' && !Array.isArray(frame)
      ? (frame as WireFrame & Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}
