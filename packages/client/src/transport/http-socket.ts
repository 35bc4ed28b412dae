/**
 * What the SSE and long-polling sockets share: a WebSocketLike over HTTP requests to a Switchboard
 * server's session endpoints. The URL is the WebSocket one (`ws://host/ws?…`) turned into
 * `http://host/ws/sse?…` or `…/ws/poll?…` (the query is kept: it may carry a token or a name).
 * Sending is one POST at a time, so frames arrive in order; frames sent meanwhile go together in
 * the next POST as a JSON array, up to the server's `maxPayload` (read from its hello). The
 * server's last frame, the `close` pseudo-frame, becomes the close event; anything else that ends
 * the session is an abnormal close (1006), as a dropped WebSocket is. The wire format itself (paths,
 * batches, the close pseudo-frame) is the protocol's `http-transport` module.
 */
import {
  CloseCode,
  type CloseFrame,
  DEFAULT_LIMITS,
  decodeServerFrame,
  encodeFrameBatch,
  type HttpTransportPath,
  httpSessionPath,
  httpTransportPath,
  SUBPROTOCOL,
} from '@switchboard/protocol'
import { noop } from '../util/noop.js'
import type { WebSocketLike } from './websocket-like.js'

// readyState values (ReadyState in websocket-like.ts), as plain constants the bundler inlines.
export const CONNECTING = 0
export const OPEN = 1
export const CLOSING = 2
export const CLOSED = 3

type CloseEvent = { code: number; reason: string; wasClean?: boolean }

const utf8Length = (text: string): number => new Blob([text]).size

/** The POST size limit until hello tells the server's own (the protocol's default maxPayload). */
const DEFAULT_MAX_PAYLOAD = DEFAULT_LIMITS.maxPayload

/** The maxPayload of a hello frame; the default for any other frame (a bad one is the client's to report). */
function maxPayload(text: string): number {
  try {
    const hello = decodeServerFrame(text)
    if (hello.type === 'hello' && hello.limits.maxPayload > 0) return hello.limits.maxPayload
  } catch {}
  return DEFAULT_MAX_PAYLOAD
}

export abstract class HttpSocket implements WebSocketLike {
  readyState: number = CONNECTING
  readonly protocol: string
  onopen: ((event: unknown) => void) | null = null
  onmessage: ((event: { data: unknown }) => void) | null = null
  onclose: ((event: CloseEvent) => void) | null = null
  onerror: ((event: unknown) => void) | null = null
  /** `http(s)://host/ws/sse` (or `/poll`), without the query. */
  protected readonly base: string
  protected readonly query: string
  /** Aborts the requests that wait on the server (the stream, a poll) when the socket ends. */
  protected readonly abort = new AbortController()
  protected session = ''
  /** Frames waiting for a POST, with their UTF-8 sizes (measured once, when sent). */
  #out: string[] = []
  #sizes: number[] = []
  #posting = false
  /** Bytes a POST body may have: the server's maxPayload, read from hello (the first frame). */
  #limit: number | undefined

  constructor(url: string, protocols: string | string[] | undefined, transport: HttpTransportPath) {
    const u = new URL(url)
    u.protocol = u.protocol.replace(/^ws/, 'http')
    u.pathname = httpTransportPath(u.pathname, transport)
    this.query = u.search
    u.search = ''
    u.hash = ''
    this.base = u.href
    this.protocol = ([] as string[]).concat(protocols ?? []).includes(SUBPROTOCOL) ? SUBPROTOCOL : ''
    // After the constructor, so that the caller has set its handlers first.
    queueMicrotask(() => void this.run().catch(() => this.fail()))
  }

  /** Opens the session and receives until it ends; a return or a throw ends the socket (1006). */
  protected abstract run(): Promise<void>

  send(data: string | ArrayBufferLike | ArrayBufferView): void {
    if (typeof data !== 'string') throw new TypeError('this transport carries text frames only')
    if (this.readyState !== OPEN) return
    this.#out.push(data)
    this.#sizes.push(utf8Length(data))
    this.#post()
  }

  close(code: number = CloseCode.NORMAL, reason = ''): void {
    if (this.readyState >= CLOSING) return
    this.readyState = CLOSING
    if (this.session) void fetch(this.sessionUrl, { method: 'DELETE', credentials: 'include' }).catch(noop)
    this.abort.abort()
    setTimeout(() => this.finish(code, reason, true))
  }

  protected fetchOptions(init: RequestInit = {}): RequestInit {
    return { credentials: 'include', cache: 'no-store', signal: this.abort.signal, ...init }
  }

  protected get openUrl(): string {
    return this.base + this.query
  }

  /** The open session's own URL: POSTs (and, long-polling, GETs) go there. */
  protected get sessionUrl(): string {
    return httpSessionPath(this.base, this.session)
  }

  protected opened(session: string): void {
    if (this.readyState !== CONNECTING) return
    this.session = session
    this.readyState = OPEN
    this.onopen?.({})
  }

  /** One frame's text from the server, passed on as a WebSocket message. */
  protected frame(text: string): void {
    if (this.readyState !== OPEN) return
    this.#limit ??= maxPayload(text)
    this.onmessage?.({ data: text })
  }

  /** The server's close pseudo-frame ends the socket with its code; none that reads (undefined): 1006. */
  protected closed(frame: CloseFrame | undefined): void {
    if (this.readyState !== OPEN) return
    this.finish(frame?.code ?? CloseCode.ABNORMAL, frame?.reason ?? '', true)
  }

  /** The session ended without a close frame (or never opened): 1006, as a dropped WebSocket. */
  protected fail(): void {
    if (this.readyState >= CLOSING) return
    this.onerror?.({})
    this.finish(CloseCode.ABNORMAL, '', false)
  }

  protected finish(code: number, reason: string, wasClean: boolean): void {
    if (this.readyState === CLOSED) return
    this.readyState = CLOSED
    this.abort.abort()
    this.onclose?.({ code, reason, wasClean })
  }

  /** Sends what is queued, one POST at a time: a frame alone, or several as a JSON array. */
  #post(): void {
    if (this.#posting || this.#out.length === 0) return
    const sizes = this.#sizes
    let n = 1
    // A batch is its frames, a comma between each, and two brackets.
    let size = sizes[0]! + 2
    const limit = this.#limit ?? DEFAULT_MAX_PAYLOAD
    while (n < sizes.length && size + sizes[n]! + 1 <= limit) size += sizes[n++]! + 1
    sizes.splice(0, n)
    const batch = this.#out.splice(0, n)
    this.#posting = true
    fetch(this.sessionUrl, {
      method: 'POST',
      credentials: 'include',
      // text/plain keeps a cross-origin POST a simple request: no preflight per send.
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: encodeFrameBatch(batch),
    }).then(
      (res) => {
        this.#posting = false
        // 413: the server closes the session with 1009, as a WebSocket server would.
        if (res.status === 413) this.finish(CloseCode.MESSAGE_TOO_BIG, 'message too big', false)
        else if (!res.ok) this.fail()
        else this.#post()
      },
      () => {
        this.#posting = false
        this.fail()
      },
    )
  }
}
