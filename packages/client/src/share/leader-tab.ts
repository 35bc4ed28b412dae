/**
 * Sharing without a SharedWorker: the tabs of one key elect a leader with the Web Locks API (the
 * lock `switchboard:share:<key>` is held by one tab for its life; the others wait in its queue)
 * and talk over a BroadcastChannel of the same name. The leader runs the multiplexer and holds
 * the real connection; its own clients open links to it directly, the other tabs' links are
 * relayed. Messages carry the id of the tab they are for, and every tab ignores the others'.
 *
 * When the leader goes, the lock passes to the next tab in its queue, which announces itself;
 * every tab then closes the links it had to the old leader with 1012, so their clients reconnect
 * — to the new leader — and resubscribe with `since`. A tab that starts asks who leads (`who`),
 * and its links wait until it knows.
 */
import { CloseCode } from '@switchboard/protocol'
import type { WebSocketConstructor } from '../transport/websocket-like.js'
import { thisTab, webLocks } from '../util/tab-lock.js'
import { LinkHost } from './link-host.js'
import { ConnectionMultiplexer } from './multiplexer.js'
import { RemoteLinks } from './remote-links.js'
import type { LinkEnd, LinkOpener, LinkPeer, ToHost, ToTab } from './share-messages.js'

/** What travels on the key's BroadcastChannel. */
type Envelope =
  | { kind: 'host'; to: string; message: ToHost }
  | { kind: 'tab'; to: string; message: ToTab }
  | { kind: 'leader'; id: string }
  | { kind: 'who' }

export class LeaderTabRelay implements LinkOpener {
  readonly #tab = thisTab()
  readonly #bus: BroadcastChannel
  readonly #remote: RemoteLinks
  readonly #WebSocket: () => WebSocketConstructor
  /** The leading tab's id, once known (this tab's own when it leads). */
  #leader: string | undefined
  #mux: ConnectionMultiplexer | undefined
  /** Posts to a leader not known yet. */
  #queue: ToHost[] = []

  /** `WebSocket`: the constructor of the real connection, should this tab lead. */
  constructor(key: string, WebSocket: () => WebSocketConstructor) {
    const name = `switchboard:share:${key}`
    this.#WebSocket = WebSocket
    this.#bus = new BroadcastChannel(name)
    this.#bus.onmessage = (event: MessageEvent<Envelope>) => this.#receive(event.data)
    this.#remote = new RemoteLinks(this.#tab.id, key, undefined, (message) => this.#toLeader(message))
    void this.#tab.held.then(() => {
      void webLocks()!.request(name, () => {
        this.#lead()
        return new Promise<never>(() => {})
      })
      this.#post({ kind: 'who' })
    })
  }

  /** Whether this tab holds the connection. */
  get leading(): boolean {
    return this.#mux !== undefined
  }

  open(url: string, peer: LinkPeer): LinkEnd {
    return (this.#mux ?? this.#remote).open(url, peer)
  }

  #lead(): void {
    const mux = new ConnectionMultiplexer({ WebSocket: this.#WebSocket() })
    const host = new LinkHost(
      () => mux,
      (to, message) => this.#post({ kind: 'tab', to, message }),
    )
    this.#mux = mux
    this.#bus.onmessage = (event: MessageEvent<Envelope>) => {
      const envelope = event.data
      if (envelope.kind === 'host' && envelope.to === this.#tab.id) host.handle(envelope.message)
      else if (envelope.kind === 'who') this.#post({ kind: 'leader', id: this.#tab.id })
    }
    this.#follow(this.#tab.id)
    this.#post({ kind: 'leader', id: this.#tab.id })
  }

  #receive(envelope: Envelope): void {
    if (envelope.kind === 'leader') this.#follow(envelope.id)
    else if (envelope.kind === 'tab' && envelope.to === this.#tab.id) this.#remote.handle(envelope.message)
  }

  /** `id` leads now: what was waiting goes to it; links to an earlier leader reconnect. */
  #follow(id: string): void {
    const before = this.#leader
    if (before === id) return
    this.#leader = id
    const queue = this.#queue
    this.#queue = []
    if (before === undefined && id !== this.#tab.id) {
      for (const message of queue) this.#toLeader(message)
      return
    }
    this.#remote.lost(CloseCode.SERVICE_RESTART, 'the tab holding the shared connection left')
  }

  #toLeader(message: ToHost): void {
    const leader = this.#leader
    if (leader === undefined) this.#queue.push(message)
    else if (leader !== this.#tab.id) this.#post({ kind: 'host', to: leader, message })
  }

  #post(envelope: Envelope): void {
    this.#bus.postMessage(envelope)
  }
}
