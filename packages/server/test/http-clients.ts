/**
 * Test clients for the HTTP transports, speaking them by hand the way docs/protocol.md tells a
 * curl user to: an SSE reader on fetch with a tiny event parser, a long-poll session, and POSTs of
 * raw bodies. Frames are recorded as parsed JSON, the close pseudo-frame included.
 */
import type { ServerFrame } from '@switchboard/protocol'
import { until } from './helpers.js'

/** What a client may see: protocol frames and the transports' `close` pseudo-frame. */
export type SeenFrame = ServerFrame | { type: 'close'; code: number; reason: string }

/** `ws://host:port/ws` → `http://host:port/ws`. */
export function httpBase(wsUrl: string): string {
  return wsUrl.replace(/^ws/, 'http')
}

export class FrameLog {
  readonly frames: SeenFrame[] = []
  private readonly waiters = new Set<() => void>()
  private readonly consumed = new Set<SeenFrame>()

  push(frame: SeenFrame): void {
    this.frames.push(frame)
    for (const w of [...this.waiters]) w()
  }

  /** The next not yet consumed frame of this type (and matching `where`), waiting up to 5 s. */
  next<T extends SeenFrame['type']>(
    type: T,
    where?: (f: Extract<SeenFrame, { type: T }>) => boolean,
  ): Promise<Extract<SeenFrame, { type: T }>> {
    return new Promise((resolve, reject) => {
      const look = (): void => {
        const found = this.frames.find(
          (f) =>
            !this.consumed.has(f) &&
            f.type === type &&
            (!where || where(f as Extract<SeenFrame, { type: T }>)),
        )
        if (!found) return
        this.consumed.add(found)
        this.waiters.delete(look)
        clearTimeout(timer)
        resolve(found as Extract<SeenFrame, { type: T }>)
      }
      const timer = setTimeout(() => {
        this.waiters.delete(look)
        reject(new Error(`no ${type} frame; got ${JSON.stringify(this.frames)}`))
      }, 5000)
      this.waiters.add(look)
      look()
    })
  }
}

export class SseClient extends FrameLog {
  session = ''
  /** Named events in order (`session`, `message`, `close`). */
  readonly events: string[] = []
  /** Comment lines (`:` heartbeats) seen on the stream. */
  comments = 0
  /** Resolves when the stream ends, whatever the reason. */
  readonly ended: Promise<void>
  private endStream!: () => void

  private constructor(
    readonly base: string,
    readonly response: Response,
    private readonly abort: AbortController,
  ) {
    super()
    this.ended = new Promise((resolve) => {
      this.endStream = resolve
    })
  }

  /** Opens `GET {base}/sse{query}`; throws with the status when the server refuses. */
  static async open(base: string, query = '', headers: Record<string, string> = {}): Promise<SseClient> {
    const abort = new AbortController()
    const res = await fetch(`${base}/sse${query}`, { headers, signal: abort.signal })
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}: ${await res.text()}`)
    const client = new SseClient(base, res, abort)
    void client.read(res.body)
    await until(() => client.session !== '')
    return client
  }

  /** POSTs a raw body to the session; resolves with the response. */
  post(body: string | object | object[], headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.base}/sse/${this.session}`, {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })
  }

  /** Drops the stream from this side, as a network cut would. */
  cut(): void {
    this.abort.abort()
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ''
    let event = ''
    let data: string[] = []
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += value
        const lines = buffer.split('\n')
        buffer = lines.pop() ?? ''
        for (const line of lines) {
          if (line === '') {
            if (data.length > 0) this.dispatch(event || 'message', data.join('\n'))
            event = ''
            data = []
          } else if (line.startsWith('data: ')) data.push(line.slice(6))
          else if (line.startsWith('event: ')) event = line.slice(7)
          else if (line.startsWith(':')) this.comments++
        }
      }
    } catch {
      // Aborted or reset: the stream is over either way.
    }
    this.endStream()
  }

  private dispatch(event: string, data: string): void {
    this.events.push(event)
    if (event === 'session') this.session = data
    else this.push(JSON.parse(data) as SeenFrame)
  }
}

export class PollClient extends FrameLog {
  private polling = false
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
    const res = await fetch(`${base}/poll${query}`, { method: 'POST', headers })
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`)
    const { session } = (await res.json()) as { session: string }
    return new PollClient(base, session)
  }

  get url(): string {
    return `${this.base}/poll/${this.session}`
  }

  /** One GET: records the frames of the answer and returns the raw response text and status. */
  async pollOnce(): Promise<{ status: number; text: string }> {
    const res = await fetch(this.url)
    const text = await res.text()
    this.statuses.push(res.status)
    if (res.ok) for (const frame of JSON.parse(text) as SeenFrame[]) this.push(frame)
    return { status: res.status, text }
  }

  /** Polls in a loop (as a client does) until `stop()`, a close frame or an error status. */
  start(): void {
    this.polling = true
    void (async () => {
      while (this.polling) {
        const { status } = await this.pollOnce().catch(() => ({ status: 0 }))
        if (status !== 200 || this.frames.some((f) => f.type === 'close')) break
      }
      this.polling = false
    })()
  }

  stop(): void {
    this.polling = false
  }

  post(body: string | object | object[], headers: Record<string, string> = {}): Promise<Response> {
    return fetch(this.url, {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })
  }
}
