/**
 * A long-polling test client, spoken by hand on the wire format of `@switchboard/protocol`'s
 * http-transport module: a POST opens the session, GETs wait for batches (recorded frame by
 * frame), POSTs carry raw bodies.
 */
import {
  decodePollAnswer,
  HttpTransportPath,
  httpSessionPath,
  httpTransportPath,
  type SessionStart,
} from '@switchboard/protocol'
import { FrameLog, type SeenFrame } from './frame-log.js'

export class PollClient extends FrameLog {
  private polling = false
  /** Which `start()` loop is current: an older one still awaiting its GET ends after it. */
  private loop = 0
  /** HTTP statuses of the polls, in order. */
  readonly statuses: number[] = []

  private constructor(
    readonly base: string,
    readonly session: string,
  ) {
    super()
  }

  /** Opens `POST {base}/poll{query}`; throws with the status when the server refuses. */
  static async open(base: string, query = '', headers: Record<string, string> = {}): Promise<PollClient> {
    const res = await fetch(`${httpTransportPath(base, HttpTransportPath.LONG_POLLING)}${query}`, {
      method: 'POST',
      headers,
    })
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`)
    const { session } = (await res.json()) as SessionStart
    return new PollClient(base, session)
  }

  get url(): string {
    return httpSessionPath(httpTransportPath(this.base, HttpTransportPath.LONG_POLLING), this.session)
  }

  /** One GET: records the frames of the answer and returns the raw response text and status. */
  async pollOnce(): Promise<{ status: number; text: string }> {
    const res = await fetch(this.url)
    const text = await res.text()
    this.statuses.push(res.status)
    if (res.ok) for (const frame of decodePollAnswer(text)) this.push(JSON.parse(frame) as SeenFrame)
    // The session is gone without a close frame having come: an abnormal close.
    else if (res.status === 404 || res.status === 410) this.markClosed({ code: 1006, reason: '' })
    return { status: res.status, text }
  }

  /** Polls in a loop (as a client does) until `stop()`, a close frame or an error status. */
  start(): void {
    this.polling = true
    const loop = ++this.loop
    void (async () => {
      while (this.polling && this.loop === loop) {
        const { status } = await this.pollOnce().catch(() => ({ status: 0 }))
        // No answer at all: the server is gone, as a dropped connection.
        if (status === 0) this.markClosed({ code: 1006, reason: '' })
        if (status !== 200 || this.frames.some((f) => f.type === 'close')) break
      }
      if (this.loop === loop) this.polling = false
    })()
  }

  /** Stops the loop of `start()` (a GET already waiting is left to be answered). */
  stop(): void {
    this.polling = false
  }

  /** Stops polling, as a client that falls behind: frames queue up on the server. */
  pause(): void {
    this.stop()
  }

  resume(): void {
    if (!this.polling) this.start()
  }

  /**
   * Ends the session (DELETE), as a client closing its socket, and polls until the close frame
   * (at most a second): a session whose close is delivered is gone at once, where one left with
   * its close queued would hold up the server's shutdown.
   */
  async dispose(): Promise<void> {
    this.resume()
    await fetch(this.url, { method: 'DELETE' }).catch(() => {})
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([this.closed, new Promise((r) => (timer = setTimeout(r, 1000)))])
    clearTimeout(timer)
    this.stop()
  }

  /** Sends one frame (a string as it is) in its own POST; fails unless it is answered 204. */
  async send(frame: string | object): Promise<void> {
    const res = await this.post(frame)
    if (res.status !== 204) throw new Error(`POST answered ${res.status}: ${await res.text()}`)
  }

  /** POSTs a raw body to the session; resolves with the response. */
  post(body: string | object | object[], headers: Record<string, string> = {}): Promise<Response> {
    return fetch(this.url, {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })
  }
}
