/**
 * An SSE test client, speaking the transport by hand the way docs/protocol.md tells a curl user
 * to: the event stream on fetch with a tiny event parser, and POSTs of raw bodies. Its reading
 * can be paused, as a reader that falls behind.
 */
import { HttpTransportPath, httpSessionPath, httpTransportPath, SseEvent } from '@switchboard/protocol'
import { FrameLog, type SeenFrame } from './frame-log.js'
import { until } from './until.js'

export class SseClient extends FrameLog {
  session = ''
  /** Named events in order (`session`, `message`, `close`). */
  readonly events: string[] = []
  /** Comment lines (`:` heartbeats) seen on the stream. */
  comments = 0
  /** Resolves when the stream ends, whatever the reason. */
  readonly ended: Promise<void>
  private endStream!: () => void
  /** While set, the stream is not read (so the server's writes back up); `resume()` settles it. */
  private paused: { promise: Promise<void>; resume: () => void } | undefined

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
    const res = await fetch(`${httpTransportPath(base, HttpTransportPath.SSE)}${query}`, {
      headers,
      signal: abort.signal,
    })
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}: ${await res.text()}`)
    const client = new SseClient(base, res, abort)
    void client.read(res.body)
    await until(() => client.session !== '')
    return client
  }

  /** POSTs a raw body to the session; resolves with the response. */
  post(body: string | object | object[], headers: Record<string, string> = {}): Promise<Response> {
    return fetch(httpSessionPath(httpTransportPath(this.base, HttpTransportPath.SSE), this.session), {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })
  }

  /** Sends one frame (a string as it is) in its own POST; fails unless it is answered 204. */
  async send(frame: string | object): Promise<void> {
    const res = await this.post(frame)
    if (res.status !== 204) throw new Error(`POST answered ${res.status}: ${await res.text()}`)
  }

  /** Drops the stream from this side, as a network cut would. */
  cut(): void {
    this.abort.abort()
    this.resume()
  }

  /** Stops reading the stream, as a reader that falls behind: the bytes back up to the server. */
  pause(): void {
    if (this.paused) return
    let resume = (): void => {}
    const promise = new Promise<void>((resolve) => {
      resume = resolve
    })
    this.paused = { promise, resume }
  }

  /** Reads the stream again after `pause()`. */
  resume(): void {
    const paused = this.paused
    this.paused = undefined
    paused?.resume()
  }

  dispose(): void {
    this.cut()
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ''
    let event = ''
    let data: string[] = []
    try {
      for (;;) {
        if (this.paused) await this.paused.promise
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
    // A stream that ends without a close event is an abnormal close (docs/protocol.md).
    this.markClosed({ code: 1006, reason: '' })
    this.endStream()
  }

  private dispatch(event: string, data: string): void {
    this.events.push(event)
    if (event === SseEvent.SESSION) this.session = data
    else this.push(JSON.parse(data) as SeenFrame)
  }
}
