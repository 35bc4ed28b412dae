/**
 * The holder's side of the links of other tabs (in a SharedWorker, or in the leader tab): each
 * `open` becomes a link of the multiplexer for that key, its frames and close are passed on, and
 * what the multiplexer says to the link is posted back to its tab. A tab that goes away without
 * closing its links (closed, crashed, navigated) is noticed through its liveness lock, and its
 * links are closed for it.
 */
import { CloseCode } from '@switchboard/protocol'
import type { TransportName } from '../transport/fallback.js'
import { whenTabGone } from '../util/tab-lock.js'
import type { LinkEnd, LinkOpener, ToHost, ToTab } from './share-messages.js'

export class LinkHost {
  readonly #links = new Map<string, { end: LinkEnd; tab: string }>()
  readonly #watched = new Set<string>()
  readonly #opener: (key: string, transports: TransportName[] | undefined) => LinkOpener
  readonly #post: (tab: string, message: ToTab) => void

  constructor(
    opener: (key: string, transports: TransportName[] | undefined) => LinkOpener,
    post: (tab: string, message: ToTab) => void,
  ) {
    this.#opener = opener
    this.#post = post
  }

  handle(message: ToHost): void {
    if (message.type === 'send') {
      this.#links.get(message.link)?.end.send(message.data)
      return
    }
    if (message.type === 'close') {
      const entry = this.#links.get(message.link)
      this.#links.delete(message.link)
      entry?.end.close(message.code, message.reason)
      return
    }
    const { tab, link, key, url } = message
    this.#watch(tab)
    let closed = false
    const end = this.#opener(key, message.transports).open(url, {
      opened: (protocol) => this.#post(tab, { type: 'opened', link, protocol }),
      message: (data) => this.#post(tab, { type: 'message', link, data }),
      closed: (code, reason) => {
        closed = true
        this.#links.delete(link)
        this.#post(tab, { type: 'closed', link, code, reason })
      },
    })
    if (!closed) this.#links.set(link, { end, tab })
  }

  #watch(tab: string): void {
    if (this.#watched.has(tab)) return
    this.#watched.add(tab)
    whenTabGone(tab, () => {
      this.#watched.delete(tab)
      for (const [link, entry] of this.#links) {
        if (entry.tab !== tab) continue
        this.#links.delete(link)
        entry.end.close(CloseCode.GOING_AWAY, 'tab gone')
      }
    })
  }
}
