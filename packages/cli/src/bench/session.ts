/**
 * One lean protocol connection for `switchboard bench`, straight on `ws` rather than the SDK (a
 * load tool should cost the machine as little per connection as it can): it offers the
 * `switchboard.v1` subprotocol, waits for `hello`, presents the token in an `auth` frame as
 * `switchboard connect` does, then sends frames and matches their replies by id. Everything else
 * the server sends goes to `onFrame`, stamped with the time it arrived.
 */
import { CloseCode, type ErrorBody, SUBPROTOCOL } from '@switchboard/protocol'
import WebSocket from 'ws'
import { clock } from './shared.js'

export type Reply = { ok: true; data?: unknown } | { ok: false; error: ErrorBody }

/** A server frame, as far as bench reads it (not validated: the load tool reads what it counts). */
export interface ServerFrame {
  type: string
  id?: string
  ok?: boolean
  data?: unknown
  error?: ErrorBody
  code?: string
  message?: string
  channel?: string
  epoch?: string
  offset?: number
  limits?: { maxPayload?: number }
}

/** A failure with a code: the server's error code, a close code, a socket error (ECONNREFUSED…). */
export class BenchError extends Error {
  override readonly name = 'BenchError'
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/** The code of a failure to open: an HTTP status the upgrade was refused with, or the socket's. */
function openErrorCode(err: Error & { code?: string }): string {
  const http = /Unexpected server response: (\d+)/.exec(err.message)
  if (http) return `http_${http[1]}`
  return typeof err.code === 'string' ? err.code : 'connect_failed'
}

export class Session {
  readonly hello: Promise<ServerFrame>
  /** Frames other than `hello` and replies to `call`, with the clock time they arrived. */
  onFrame: (frame: ServerFrame, at: number) => void = () => {}
  /** The socket closed; `byUs` when `close()` or a failure here closed it. */
  onClose: (code: number, reason: string, byUs: boolean) => void = () => {}

  readonly #ws: WebSocket
  readonly #pending = new Map<string, (reply: Reply) => void>()
  #ids = 0
  #helloDone: ((hello: ServerFrame) => void) | undefined
  #helloFailed: ((err: BenchError) => void) | undefined
  #failure: BenchError | undefined
  #socketError: BenchError | undefined
  #byUs = false
  #closed: Promise<void>

  constructor(url: string) {
    this.hello = new Promise((resolve, reject) => {
      this.#helloDone = resolve
      this.#helloFailed = reject
    })
    this.hello.catch(() => {})
    this.#ws = new WebSocket(url, SUBPROTOCOL, { perMessageDeflate: false })
    this.#ws.on('message', (raw, isBinary) => this.#onMessage(raw as Buffer, isBinary))
    this.#ws.on('error', (err) => {
      this.#socketError ??= new BenchError(openErrorCode(err), err.message)
    })
    this.#closed = new Promise((resolve) => {
      this.#ws.on('close', (code, reason) => {
        this.#onClosed(code, reason.toString())
        resolve()
      })
    })
  }

  get open(): boolean {
    return this.#ws.readyState === WebSocket.OPEN
  }

  /** Sends a frame with a fresh `id`; resolves with its reply (or a failure when the socket closes). */
  call(frame: Record<string, unknown>): Promise<Reply> {
    const id = String(++this.#ids)
    return new Promise((resolve) => {
      if (!this.open) {
        resolve({ ok: false, error: this.#closeError() })
        return
      }
      this.#pending.set(id, resolve)
      this.#ws.send(JSON.stringify({ ...frame, id }))
    })
  }

  /** Ends the session for this reason: what is waiting fails with it. */
  fail(err: BenchError): void {
    this.#failure ??= err
    this.#byUs = true
    this.#ws.terminate()
  }

  /** Closes with 1000; resolves once closed (the socket is destroyed if that takes over a second). */
  close(): Promise<void> {
    this.#byUs = true
    if (this.#ws.readyState === WebSocket.CLOSED) return Promise.resolve()
    if (this.#ws.readyState === WebSocket.CONNECTING) this.#ws.terminate()
    else this.#ws.close(CloseCode.NORMAL, 'bench done')
    const timer = setTimeout(() => this.#ws.terminate(), 1000)
    return this.#closed.finally(() => clearTimeout(timer))
  }

  #onMessage(raw: Buffer, isBinary: boolean): void {
    const at = clock()
    if (isBinary) return
    let frame: ServerFrame
    try {
      frame = JSON.parse(raw.toString())
    } catch {
      return
    }
    if (typeof frame !== 'object' || frame === null) return
    if (frame.type === 'hello') {
      this.#helloDone?.(frame)
      return
    }
    if ((frame.type === 'reply' || frame.type === 'error') && typeof frame.id === 'string') {
      const done = this.#pending.get(frame.id)
      if (done) {
        this.#pending.delete(frame.id)
        if (frame.type === 'reply' && frame.ok === true) done({ ok: true, data: frame.data })
        else
          done({
            ok: false,
            error: frame.error ?? { code: frame.code ?? 'error', message: frame.message ?? 'refused' },
          })
        return
      }
    }
    this.onFrame(frame, at)
  }

  #closeError(code?: number, reason?: string): BenchError {
    if (this.#failure) return this.#failure
    if (this.#socketError) return this.#socketError
    const why = reason ? `: ${reason}` : ''
    return new BenchError(code === undefined ? 'disconnected' : `close_${code}`, `closed with ${code}${why}`)
  }

  #onClosed(code: number, reason: string): void {
    const error = this.#closeError(code, reason)
    this.#helloFailed?.(error)
    for (const done of this.#pending.values()) done({ ok: false, error })
    this.#pending.clear()
    this.onClose(code, reason, this.#byUs)
  }
}

/**
 * Opens a session ready for use: `hello` received, and the token (if any) accepted. Rejects with
 * a BenchError — the server's code, the close code, or `timeout` after `timeoutMs`.
 */
export async function openSession(
  url: string,
  token: string | undefined,
  timeoutMs: number,
): Promise<Session> {
  const session = new Session(url)
  const timer = setTimeout(
    () => session.fail(new BenchError('timeout', `not ready within ${timeoutMs} ms`)),
    timeoutMs,
  )
  try {
    await session.hello
    if (token !== undefined) {
      const reply = await session.call({ type: 'auth', token })
      if (!reply.ok) throw new BenchError(reply.error.code, `token refused: ${reply.error.message}`)
    }
    return session
  } catch (err) {
    session.fail(err instanceof BenchError ? err : new BenchError('connect_failed', String(err)))
    throw err
  } finally {
    clearTimeout(timer)
  }
}
