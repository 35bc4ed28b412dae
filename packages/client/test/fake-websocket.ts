/**
 * A scripted stand-in for a WebSocket, for unit tests under fake timers: each test plays the
 * server by opening, feeding frames to and closing the sockets the code under test creates.
 */
import type { WebSocketConstructor, WebSocketLike } from '@switchboard/client'

export class FakeSocket implements WebSocketLike {
  readyState = 0
  protocol = ''
  readonly sent: string[] = []
  closedWith: { code?: number | undefined; reason?: string | undefined } | undefined
  onopen: ((event: unknown) => void) | null = null
  onmessage: ((event: { data: unknown }) => void) | null = null
  onclose: ((event: { code: number; reason: string; wasClean?: boolean }) => void) | null = null
  onerror: ((event: unknown) => void) | null = null

  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {}

  send(data: string | ArrayBufferLike | ArrayBufferView): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open')
    this.sent.push(String(data))
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason }
    this.readyState = 3
  }

  // ---- the test plays the server ----

  open(protocol = ''): void {
    this.readyState = 1
    this.protocol = protocol
    this.onopen?.({})
  }

  receive(data: unknown): void {
    this.onmessage?.({ data: typeof data === 'string' ? data : JSON.stringify(data) })
  }

  drop(code = 1006, reason = ''): void {
    this.readyState = 3
    this.onerror?.({})
    this.onclose?.({ code, reason, wasClean: code !== 1006 })
  }

  /** Sent frames, parsed. */
  frames(): Array<Record<string, unknown>> {
    return this.sent.map((s) => JSON.parse(s) as Record<string, unknown>)
  }

  framesOf(type: string): Array<Record<string, unknown>> {
    return this.frames().filter((f) => f.type === type)
  }
}

export function fakeWebSocket(): { WebSocket: WebSocketConstructor; sockets: FakeSocket[] } {
  const sockets: FakeSocket[] = []
  class Fake extends FakeSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols)
      sockets.push(this)
    }
  }
  return { WebSocket: Fake, sockets }
}
