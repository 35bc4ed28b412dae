/**
 * The HTTP front door of the SSE and long-polling transports, under the WebSocket path:
 *
 *   GET    {path}/sse          open a session; the answer is its event stream
 *   POST   {path}/poll         open a session; the answer is `{"session":"<id>"}`
 *   GET    {path}/poll/<id>    wait for frames (a JSON array, one frame per line)
 *   POST   {path}/sse/<id>     client frames: one JSON frame, or a JSON array of frames
 *   POST   {path}/poll/<id>    (same)
 *   DELETE {path}/…/<id>       close the session (1000)
 *
 * A new session passes the checks of a WebSocket handshake (the server's `admit`: draining,
 * Origin allowlist, per-IP cap, `authenticate`) and gets a random 144-bit id — the session's only
 * credential, never shown to anyone else (the public `connectionId` is a different value). POST
 * bodies are capped at `maxPayload` (413, and the session gets a `frame_too_large` error and
 * closes with 1009, as a WebSocket does for an oversized message) and every frame in them goes
 * through the connection's own validation and rate limit. CORS headers are sent only to origins
 * in the allowlist.
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  CloseCode,
  decodeFrameBatch,
  ErrorCode,
  encodeSessionStart,
  HttpTransportPath,
  parseHttpTransportPath,
  SESSION_OPEN_METHOD,
  SseEvent,
} from '@switchboard/protocol'
import type { Admission } from '../auth/admission.js'
import type { OriginPolicy } from '../auth/origin-policy.js'
import type { HttpSessionTransport } from '../transport/http-session.js'
import { LongPollTransport } from '../transport/long-poll-transport.js'
import { SseTransport } from '../transport/sse-transport.js'
import { answerLingering } from './linger.js'
import { pathnameOf } from './pathname.js'

/** What the router needs from the server. */
export interface HttpTransportsHost {
  /** The checks of a WebSocket handshake, but Origin (checked here): draining, per-IP cap, auth. */
  admit(req: IncomingMessage): Promise<Admission>
  /** A handshake refused by this router (a foreign Origin), for the server's counters. */
  refused(status: number, message: string): unknown
}

export interface HttpTransportsOptions {
  /** The WebSocket path; the transports live under it (`/ws/sse`, `/ws/poll`). */
  path: string
  sse: boolean
  longPolling: boolean
  origins: OriginPolicy
  maxPayload: number
  maxBufferedBytes: number
  closeTimeoutMs: number
  /** The server's heartbeat interval (0 = off); a held poll is answered within it. */
  heartbeatMs: number
}

type Headers = Record<string, string>

/** Closed session ids remembered to answer 410 instead of 404. */
const REMEMBER_ENDED = 4096
const MAX_HOLD = 25_000
const MIN_IDLE = 2_000

const utf8 = new TextDecoder('utf-8', { fatal: true })

export class HttpTransports {
  private readonly sessions = new Map<string, HttpSessionTransport>()
  /** Each session's connection, for the errors found here that end it. */
  private readonly ended = new Set<string>()
  private readonly holdMs: number
  private readonly idleMs: number

  constructor(
    private readonly host: HttpTransportsHost,
    private readonly options: HttpTransportsOptions,
  ) {
    this.holdMs = options.heartbeatMs > 0 ? Math.min(MAX_HOLD, options.heartbeatMs) : MAX_HOLD
    this.idleMs = Math.max(this.holdMs, MIN_IDLE)
  }

  /** Answers the request if it is one of ours; false otherwise (the caller answers it). */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const route = parseHttpTransportPath(pathnameOf(req.url), this.options.path)
    if (!route) return false
    const sse = route.transport === HttpTransportPath.SSE
    if (sse ? !this.options.sse : !this.options.longPolling) return false
    const kind = sse ? 'sse' : 'long-polling'
    const id = route.session
    const cors = this.cors(req, id === undefined)
    if (!cors) {
      if (id === undefined) this.host.refused(403, 'origin not allowed')
      plain(res, 403, 'origin not allowed', {})
      return true
    }
    if (req.method === 'OPTIONS') {
      res
        .writeHead(204, {
          ...cors,
          'access-control-allow-methods': 'GET, POST, DELETE',
          'access-control-allow-headers': 'content-type, authorization',
          'access-control-max-age': '600',
        })
        .end()
      return true
    }
    if (id === undefined) {
      const method = SESSION_OPEN_METHOD[route.transport]
      if (req.method !== method) plain(res, 405, `open a session with ${method}`, { ...cors, allow: method })
      else
        this.open(kind, req, res, cors).catch(() => {
          if (!res.headersSent) plain(res, 500, 'internal error', cors)
        })
      return true
    }
    const session = this.sessions.get(id)
    if (!session || session.kind !== kind) {
      if (this.ended.has(id)) plain(res, 410, 'session closed', cors)
      else plain(res, 404, 'unknown session', cors)
      return true
    }
    // A closing long-poll session still answers GETs: the next one carries its close frame.
    if (req.method === 'POST' && session.state !== 'open') plain(res, 410, 'session closed', cors)
    else if (req.method === 'POST') this.post(req, res, session, cors)
    else if (req.method === 'GET' && session instanceof LongPollTransport) session.poll(res, nocache(cors))
    else if (req.method === 'DELETE') {
      session.close(CloseCode.NORMAL, 'client closed')
      res.writeHead(204, nocache(cors)).end()
    } else {
      const allow = kind === 'sse' ? 'POST, DELETE' : 'GET, POST, DELETE'
      plain(res, 405, 'method not allowed', { ...cors, allow })
    }
    return true
  }

  private async open(
    kind: 'sse' | 'long-polling',
    req: IncomingMessage,
    res: ServerResponse,
    cors: Headers,
  ): Promise<void> {
    const admission = await this.host.admit(req)
    if (!admission.ok) return plain(res, admission.status, admission.message, cors)
    // 144 random bits: the session's credential, as unguessable as a bearer token.
    const id = randomBytes(18).toString('base64url')
    const onEnd = () => this.forget(id)
    let transport: HttpSessionTransport
    if (kind === 'sse') {
      res.writeHead(200, {
        ...nocache(cors),
        'content-type': 'text/event-stream; charset=utf-8',
        'x-accel-buffering': 'no',
      })
      // The id comes first, as its own event, so that the first `data:` event is hello.
      res.write(`event: ${SseEvent.SESSION}\ndata: ${id}\n\n`)
      transport = new SseTransport(res, {
        maxBufferedBytes: this.options.maxBufferedBytes,
        closeTimeoutMs: this.options.closeTimeoutMs,
        onEnd,
      })
    } else {
      transport = new LongPollTransport({
        maxBufferedBytes: this.options.maxBufferedBytes,
        holdMs: this.holdMs,
        idleMs: this.idleMs,
        onEnd,
      })
      res
        .writeHead(200, { ...nocache(cors), 'content-type': 'application/json; charset=utf-8' })
        .end(encodeSessionStart(id))
    }
    this.sessions.set(id, transport)
    admission.open(transport)
  }

  /** Reads a POST body up to maxPayload and hands its frames to the session. */
  private post(
    req: IncomingMessage,
    res: ServerResponse,
    session: HttpSessionTransport,
    cors: Headers,
  ): void {
    const limit = this.options.maxPayload
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    const tooBig = (): void => {
      done = true
      chunks.length = 0
      const message = `a request body may not exceed ${limit} bytes`
      lingeringRefusal(req, res, 413, message, cors)
      // The session hears why on its stream, then closes as the error table says (1009).
      session.fail(ErrorCode.FRAME_TOO_LARGE, message, 'message too big')
    }
    if (Number(req.headers['content-length']) > limit) {
      tooBig()
      return
    }
    req.on('data', (chunk: Buffer) => {
      if (done) return
      size += chunk.length
      if (size > limit) tooBig()
      else chunks.push(chunk)
    })
    req.on('end', () => {
      if (done) return
      done = true
      let body: string
      try {
        body = utf8.decode(Buffer.concat(chunks, size))
      } catch {
        plain(res, 400, 'the request body is not valid UTF-8', cors)
        // The transport-level close a WebSocket uses for invalid UTF-8 (RFC 6455), not an error
        // of the protocol's table: no frame was read, so there is nothing to answer.
        session.close(CloseCode.INVALID_PAYLOAD_DATA, 'invalid UTF-8')
        return
      }
      if (session.state !== 'open') return plain(res, 410, 'session closed', cors)
      for (const frame of decodeFrameBatch(body)) session.receive(frame)
      res.writeHead(204, nocache(cors)).end()
    })
  }

  /**
   * The CORS headers for this request, or undefined to refuse it. Without an allowlist no CORS
   * headers are sent (same-origin pages and non-browser clients only). With one, a present Origin
   * must be in it; a new session without Origin is accepted only from a same-origin page (browsers
   * leave Origin out of same-origin GETs and say so in Sec-Fetch-Site), as a WebSocket handshake
   * without Origin is refused.
   */
  private cors(req: IncomingMessage, handshake: boolean): Headers | undefined {
    const { origins } = this.options
    const origin = req.headers.origin
    const sameOrigin = !handshake || req.headers['sec-fetch-site'] === 'same-origin'
    if (!origins.allows(origin, sameOrigin)) return undefined
    if (!origins.restricted || origin === undefined) return {}
    return {
      'access-control-allow-origin': origin,
      'access-control-allow-credentials': 'true',
      vary: 'Origin',
    }
  }

  private forget(id: string): void {
    this.sessions.delete(id)
    this.ended.add(id)
    if (this.ended.size > REMEMBER_ENDED) {
      const oldest = this.ended.values().next().value
      if (oldest !== undefined) this.ended.delete(oldest)
    }
  }
}

function nocache(headers: Headers): Headers {
  return { ...headers, 'cache-control': 'no-store, no-transform' }
}

/** How long a refused request that keeps sending its body is read (and dropped) before its socket is cut. */

/** Refuses a request whose body is still coming, without losing the answer (see linger.ts). */
function lingeringRefusal(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  message: string,
  headers: Headers,
): void {
  answerLingering(
    req,
    res,
    status,
    { ...nocache(headers), 'content-type': 'text/plain; charset=utf-8' },
    `${message}\n`,
  )
}

function plain(res: ServerResponse, status: number, message: string, headers: Headers): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  res
    .writeHead(status, { ...nocache(headers), 'content-type': 'text/plain; charset=utf-8' })
    .end(`${message}\n`)
}
