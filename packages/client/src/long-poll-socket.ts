/**
 * LongPollSocket: a WebSocketLike over a Switchboard server's long-polling transport, for networks
 * where neither a WebSocket nor a long-lived response gets through. A POST opens the session;
 * then one GET at a time waits for frames (the server answers a JSON array with one frame per
 * line, so each line is a frame's text as a WebSocket message would carry it) and the next GET
 * goes out as soon as an answer is in.
 */
import { HttpSocket, OPEN } from './http-socket.js'

export class LongPollSocket extends HttpSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols, 'poll')
  }

  protected async run(): Promise<void> {
    const res = await fetch(this.openUrl, this.fetchOptions({ method: 'POST' }))
    if (!res.ok) return this.fail()
    this.opened(((await res.json()) as { session: string }).session)
    const url = this.sessionUrl
    while (this.readyState === OPEN) {
      const poll = await fetch(url, this.fetchOptions())
      if (!poll.ok) break
      const lines = (await poll.text()).split('\n')
      // '[', then one frame per line (all but the last followed by a comma), then ']'.
      for (let i = 1; i < lines.length - 1; i++) {
        const line = lines[i]!
        this.frame(line.endsWith(',') ? line.slice(0, -1) : line)
      }
    }
    this.fail()
  }
}
