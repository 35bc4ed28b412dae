/**
 * A tab's side of the links it holds to a connection kept elsewhere (a SharedWorker, or the
 * leader tab): each `open` gets an id made of this tab's id and a counter, the messages for it
 * are posted, and what comes back is handed to its peer (the virtual socket). `lost` closes every
 * link at once when the other side went away without saying so.
 */
import type { TransportName } from '../transport/fallback.js'
import type { LinkEnd, LinkOpener, LinkPeer, ToHost, ToTab } from './share-messages.js'

export class RemoteLinks implements LinkOpener {
  readonly #peers = new Map<string, LinkPeer>()
  readonly #tab: string
  readonly #key: string
  readonly #transports: TransportName[] | undefined
  readonly #post: (message: ToHost) => void
  #next = 0

  constructor(
    tab: string,
    key: string,
    transports: readonly TransportName[] | undefined,
    post: (message: ToHost) => void,
  ) {
    this.#tab = tab
    this.#key = key
    this.#transports = transports && [...transports]
    this.#post = post
  }

  open(url: string, peer: LinkPeer): LinkEnd {
    const link = `${this.#tab}/${(++this.#next).toString(36)}`
    this.#peers.set(link, peer)
    const open: ToHost = { type: 'open', tab: this.#tab, link, key: this.#key, url }
    if (this.#transports) open.transports = this.#transports
    this.#post(open)
    return {
      send: (data) => {
        if (this.#peers.has(link)) this.#post({ type: 'send', link, data })
      },
      close: (code, reason) => {
        if (this.#peers.delete(link)) this.#post({ type: 'close', link, code, reason })
      },
    }
  }

  /** A message from the holder about one of this tab's links. */
  handle(message: ToTab): void {
    const peer = this.#peers.get(message.link)
    if (!peer) return
    if (message.type === 'opened') peer.opened(message.protocol)
    else if (message.type === 'message') peer.message(message.data)
    else {
      this.#peers.delete(message.link)
      peer.closed(message.code, message.reason)
    }
  }

  /** The holder is gone: every link closes with `code` (a reconnect code), and reconnects. */
  lost(code: number, reason: string): void {
    const peers = [...this.#peers.values()]
    this.#peers.clear()
    for (const peer of peers) peer.closed(code, reason)
  }
}
