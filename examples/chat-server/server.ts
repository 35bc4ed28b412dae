/**
 * The chat server of the WebSocket tutorial ("Server-Side Implementation with Node.js"),
 * rewritten on Switchboard. What the tutorial wrote by hand is now the protocol's job:
 *
 * | tutorial                               | here                                                |
 * | -------------------------------------- | --------------------------------------------------- |
 * | `welcome` message with a random id     | `hello` frame (connection id), plus a `welcome` event |
 * | `chat` broadcast to the others         | `chat` request, published to `chat` except the sender |
 * | `ping` → `pong`                        | the protocol's `ping`/`pong` frames                 |
 * | unknown type → error                   | `error` frame, code `unknown_type`                  |
 * | invalid JSON → error                   | `error` frame, code `invalid_json`                  |
 * | system message when someone leaves     | `disconnect` listener publishes to `chat`           |
 * | `isAlive` + `setInterval` heartbeat    | built in (`heartbeat` option)                        |
 *
 * The chat text is validated (1–2000 characters) by a zod schema; a bad one is answered with
 * `invalid_payload`. Run it: build (`npm run build`), then `node examples/dist/chat-server/server.js`,
 * or use `createChatServer()` from code and tests.
 */
import { pathToFileURL } from 'node:url'
import { createSwitchboard, type Switchboard, type SwitchboardOptions } from '@switchboard/server'
import { z } from 'zod'

export type ChatLine =
  | { type: 'chat'; from: string; text: string; timestamp: number }
  | { type: 'system'; message: string }

/** The event map shared by this server and any typed client. */
export interface ChatTutorial {
  requests: { chat: { data: { text: string }; reply: { status: 'sent' } } }
  events: { welcome: { clientId: string; message: string } }
  channels: { chat: ChatLine }
}

export const ChatMessage = z.object({ text: z.string().min(1).max(2000) })

export const CHAT_CHANNEL = 'chat'

export function createChatServer(options: SwitchboardOptions<ChatTutorial> = {}): Switchboard<ChatTutorial> {
  const sb = createSwitchboard<ChatTutorial>(options)

  sb.on('connection', (conn) => {
    // Everyone is in the one room, as in the tutorial; the server subscribes them.
    void sb.subscribe(conn, CHAT_CHANNEL)
    conn.send('welcome', { clientId: conn.id, message: 'Connected to WebSocket server' })
  })

  sb.handle('chat', ChatMessage, async (conn, { text }) => {
    await sb.publish(
      CHAT_CHANNEL,
      { type: 'chat', from: conn.id, text, timestamp: Date.now() },
      { except: conn },
    )
    return { status: 'sent' }
  })

  sb.on('disconnect', (conn) => {
    void sb.publish(CHAT_CHANNEL, { type: 'system', message: `User ${conn.id} left the chat` }).catch(() => {
      // The server is shutting down: nobody is left to tell.
    })
  })

  return sb
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const sb = createChatServer()
  sb.ready.then(({ url }) => console.log(`chat server running on ${url}`))
  process.once('SIGTERM', () => void sb.close())
  process.once('SIGINT', () => void sb.close())
}
