/**
 * LongPollSocket: a WebSocketLike over a Switchboard server's long-polling transport, for networks
 * where neither a WebSocket nor a long-lived response gets through. A POST opens the session;
 * then one GET at a time waits for frames (the server answers a JSON array with one frame per
 * line, so each line is a frame's text as a WebSocket message would carry it) and the next GET
 * goes out as soon as an answer is in.
 */
import {
  decodeCloseFrame,
  decodePollAnswer,
  type HttpTransportPath,
  type SessionStart,
} from '@switchboard/protocol'
import { HttpSocket, OPEN } from './http-socket.js'

export class LongPollSocket extends HttpSocket {
  constructor(url: string, protocols?: string | string[]) {
    // A literal checked against the protocol's type: the same value, at no cost in the bundle.
    super(url, protocols, 'poll' satisfies HttpTransportPath)
  }

  protected async run(): Promise<void> {
    const res = await fetch(this.openUrl, this.fetchOptions({ method: 'POST' }))
    if (!res.ok) return this.fail()
    this.opened(((await res.json()) as SessionStart).session)
    const url = this.sessionUrl
    while (this.readyState === OPEN) {
      const poll = await fetch(url, this.fetchOptions())
      if (!poll.ok) break
      const frames = decodePollAnswer(await poll.text())
      // The close pseudo-frame can only be the last frame of an answer: the session sends nothing after it.
      const close = decodeCloseFrame(frames.at(-1) ?? '')
      if (close) frames.pop()
      for (const frame of frames) this.frame(frame)
      if (close) this.closed(close)
    }
    this.fail()
  }
}
