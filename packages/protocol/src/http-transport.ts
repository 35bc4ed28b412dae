/**
 * The wire format of the HTTP transports (SSE and long-polling), defined once for the server and
 * the client: where their endpoints live under the WebSocket path, how a session starts, how
 * frames are batched in a POST body and in a poll answer, and the `close` pseudo-frame that ends
 * a session (an HTTP response has no close frame of its own). Everything else — the frames, the
 * codes, the limits — is the WebSocket protocol unchanged.
 */
import { CloseCode } from './codes.js'

/** The path segment of each HTTP transport under the WebSocket path: `<path>/sse`, `<path>/poll`. */
export const HttpTransportPath = { SSE: 'sse', LONG_POLLING: 'poll' } as const
export type HttpTransportPath = (typeof HttpTransportPath)[keyof typeof HttpTransportPath]

/**
 * The method that opens a session at `<path>/<segment>`: an SSE session is its event stream (GET),
 * a long-polling session is created by a POST answered with a {@link SessionStart}.
 */
export const SESSION_OPEN_METHOD = { sse: 'GET', poll: 'POST' } as const satisfies Record<
  HttpTransportPath,
  string
>

/** The names of the SSE events that are not frames: the session id first, the close pseudo-frame last. */
export const SseEvent = { SESSION: 'session', CLOSE: 'close' } as const
export type SseEvent = (typeof SseEvent)[keyof typeof SseEvent]

/** `<path>/<segment>`: where a session of that transport opens (`/ws` → `/ws/sse`). */
export function httpTransportPath(path: string, transport: HttpTransportPath): string {
  return `${path.replace(/\/$/, '')}/${transport}`
}

/** `<path>/<segment>/<session>`: an open session's own URL path (POST frames, poll, DELETE). */
export function httpSessionPath(transportPath: string, session: string): string {
  return `${transportPath}/${session}`
}

/** A request path split into the transport it addresses and the session id, if any. */
export interface HttpTransportRoute {
  transport: HttpTransportPath
  /** Undefined for the open request (`<path>/sse`), the id for a session's own path. */
  session: string | undefined
}

/** Recognises `<path>/sse[/<id>]` and `<path>/poll[/<id>]` (no query); undefined for anything else. */
export function parseHttpTransportPath(pathname: string, path: string): HttpTransportRoute | undefined {
  const prefix = `${path.replace(/\/$/, '')}/`
  if (!pathname.startsWith(prefix)) return undefined
  const rest = pathname.slice(prefix.length)
  const slash = rest.indexOf('/')
  const name = slash === -1 ? rest : rest.slice(0, slash)
  if (name !== HttpTransportPath.SSE && name !== HttpTransportPath.LONG_POLLING) return undefined
  return { transport: name, session: slash === -1 ? undefined : rest.slice(slash + 1) }
}

/** The answer to the POST that opens a long-polling session. */
export interface SessionStart {
  session: string
}

export function encodeSessionStart(session: string): string {
  return JSON.stringify({ session } satisfies SessionStart)
}

/**
 * The last frame of an HTTP session: its close code (from the close-code table) and reason. Never
 * sent on a WebSocket and not a ServerFrame; the client turns it into its socket's close event.
 */
export interface CloseFrame {
  type: 'close'
  code: number
  reason: string
}

export function encodeCloseFrame(code: number, reason: string): string {
  return JSON.stringify({ type: 'close', code, reason } satisfies CloseFrame)
}

/**
 * The close pseudo-frame in `text`, or undefined when `text` is any other frame. A close frame
 * whose code is missing or not an integer reads as 1006 (abnormal), as a session that just ended.
 */
export function decodeCloseFrame(text: string): CloseFrame | undefined {
  let frame: Partial<Record<keyof CloseFrame, unknown>> | null
  try {
    frame = JSON.parse(text)
  } catch {
    return undefined
  }
  if (frame?.type !== 'close') return undefined
  const { code, reason } = frame
  return {
    type: 'close',
    code: Number.isInteger(code) ? (code as number) : CloseCode.ABNORMAL,
    reason: typeof reason === 'string' ? reason : '',
  }
}

/** A POST body: one frame as is, several as a JSON array (frames are JSON text, so no re-encoding). */
export function encodeFrameBatch(frames: readonly string[]): string {
  return frames.length === 1 ? frames[0]! : `[${frames.join(',')}]`
}

/** The frames of a POST body (one frame, or each element of a JSON array), as WebSocket message text. */
export function decodeFrameBatch(body: string): string[] {
  if (body.trimStart().startsWith('[')) {
    try {
      const batch: unknown = JSON.parse(body)
      if (Array.isArray(batch)) return batch.map((frame) => JSON.stringify(frame))
    } catch {
      // Not a batch after all: the connection answers the text as the bad frame it is.
    }
  }
  return [body]
}

/**
 * A long-polling answer: a JSON array with one frame per line (`[`, the frames each followed by a
 * comma but the last, `]`), so a reader may split on newlines instead of parsing. Empty: `[]`.
 * The pieces are exported for a writer that joins frames it holds as bytes.
 */
export const PollAnswer = { OPEN: '[\n', SEPARATOR: ',\n', CLOSE: '\n]', EMPTY: '[]' } as const

export function encodePollAnswer(frames: readonly string[]): string {
  return frames.length === 0
    ? PollAnswer.EMPTY
    : `${PollAnswer.OPEN}${frames.join(PollAnswer.SEPARATOR)}${PollAnswer.CLOSE}`
}

/** The frames of a long-polling answer, each as the text a WebSocket message would carry. */
export function decodePollAnswer(body: string): string[] {
  return body
    .split('\n')
    .slice(1, -1)
    .map((line) => (line.endsWith(',') ? line.slice(0, -1) : line))
}
