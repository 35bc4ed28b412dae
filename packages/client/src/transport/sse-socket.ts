/**
 * SseSocket: a WebSocketLike over a Switchboard server's Server-Sent Events transport. The event
 * stream is read with `fetch` and a small parser rather than `EventSource`, so it works the same
 * in browsers and in Node (which has no EventSource), carries cookies cross-origin, and never
 * reconnects on its own — reconnecting (and resuming channels with `since`) is the
 * ReconnectingWebSocket's and the client's job, as with a WebSocket.
 *
 * The stream starts with `event: session` (the id to POST frames to), then one `data:` event per
 * frame, hello first; it ends with `event: close` carrying the close pseudo-frame.
 */
import { decodeCloseFrame, type HttpTransportPath, type SseEvent } from '@switchboard/protocol'
import { HttpSocket } from './http-socket.js'

export class SseSocket extends HttpSocket {
  constructor(url: string, protocols?: string | string[]) {
    // Literals checked against the protocol's types: the same values, at no cost in the bundle.
    super(url, protocols, 'sse' satisfies HttpTransportPath)
  }

  protected async run(): Promise<void> {
    const res = await fetch(this.openUrl, this.fetchOptions({ headers: { accept: 'text/event-stream' } }))
    if (!res.ok || !res.body) return this.fail()
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ''
    let event = ''
    let data: string[] = []
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      buffer += value
      // One pass over the complete lines of the chunk; the partial last line waits for the next.
      let start = 0
      for (let end = buffer.indexOf('\n'); end !== -1; end = buffer.indexOf('\n', start)) {
        const line = buffer.slice(start, buffer[end - 1] === '\r' ? end - 1 : end)
        start = end + 1
        if (line === '') {
          if (data.length > 0) this.#dispatch(event, data.join('\n'))
          event = ''
          data = []
        } else if (line[0] !== ':') {
          const colon = line.indexOf(':')
          const field = colon === -1 ? line : line.slice(0, colon)
          const value = colon === -1 ? '' : line.slice(line[colon + 1] === ' ' ? colon + 2 : colon + 1)
          if (field === 'data') data.push(value)
          else if (field === 'event') event = value
        }
      }
      buffer = buffer.slice(start)
    }
    this.fail()
  }

  #dispatch(event: string, data: string): void {
    if (event === ('session' satisfies SseEvent)) this.opened(data)
    else if (event === ('close' satisfies SseEvent)) this.closed(decodeCloseFrame(data))
    else this.frame(data)
  }
}
