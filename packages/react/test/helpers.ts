/**
 * Test helpers: a real Switchboard server on port 0 with the chat app's channel rules (presence
 * user = the `?name=` of the handshake), and a `ws` WebSocket subclass that records every socket
 * opened and every frame sent, so tests can count connections and subscribe frames.
 */
import type { WebSocketConstructor } from '@switchboard/client'
import { createSwitchboard, type Switchboard } from '@switchboard/server'
import WebSocket from 'ws'

export interface TestServer {
  sb: Switchboard
  url: string
  close(): Promise<void>
}

export async function startServer(port = 0): Promise<TestServer> {
  const sb = createSwitchboard({
    port,
    host: '127.0.0.1',
    logger: false,
    channels: {
      'chat:*': { history: 100, presence: true, clientPublish: true },
      'typing:*': { clientPublish: true },
    },
    authenticate: (req) => ({ name: new URL(req.url ?? '/', 'http://x').searchParams.get('name') ?? 'anon' }),
    presence: (conn) => ({ userId: String((conn.data as { name: string }).name) }),
  })
  sb.handle('echo', (_conn, data) => data)
  const address = await sb.ready
  return { sb, url: address.url.replace('localhost', '127.0.0.1'), close: () => sb.close({ timeout: 1000 }) }
}

export interface SocketLog {
  /** Every socket constructed, in order. */
  sockets: WebSocket[]
  /** Every frame sent, parsed. */
  sent: Array<{ type: string; channel?: string }>
  WebSocket: WebSocketConstructor
}

export function recordingWebSocket(): SocketLog {
  const log: SocketLog = { sockets: [], sent: [], WebSocket: undefined as unknown as WebSocketConstructor }
  class Recording extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols)
      log.sockets.push(this)
    }
    override send(data: unknown, ...rest: unknown[]): void {
      if (typeof data === 'string') {
        try {
          log.sent.push(JSON.parse(data) as { type: string })
        } catch {
          log.sent.push({ type: 'raw' })
        }
      }
      ;(super.send as (...args: unknown[]) => void)(data, ...rest)
    }
  }
  log.WebSocket = Recording as unknown as WebSocketConstructor
  return log
}
