/**
 * One definition, zod edition: the validators below give the event map's types
 * (`InferEventMap`) and the server's runtime checks (`createSwitchboard({ schemas })`). The same
 * file as docs/server.md shows; examples/schemas/schemas.test.ts runs it.
 */
import { defineSchemas, type InferEventMap } from '@switchboard/protocol'
import { createSwitchboard } from '@switchboard/server'
import { z } from 'zod'

export const schemas = defineSchemas({
  requests: {
    'room:join': { data: z.object({ room: z.string().min(1) }), reply: z.object({ members: z.number() }) },
  },
  events: { notice: z.object({ text: z.string() }) },
  channels: {
    // What is published is what the schema gives: the text trimmed, once, on the publishing node.
    'chat:*': z.object({
      user: z.string(),
      text: z
        .string()
        .max(2000)
        .transform((t) => t.trim()),
    }),
  },
})

/** The event map, for `createSwitchboard<ChatApp>` and `new SwitchboardClient<ChatApp>`. */
export type ChatApp = InferEventMap<typeof schemas>

export function createChatApp(port = 0) {
  const sb = createSwitchboard<ChatApp>({
    port,
    host: '127.0.0.1',
    logger: false,
    schemas,
    channels: { 'chat:*': { history: 100, clientPublish: true } },
  })
  // `data` is `{ room: string }`, checked before the handler runs.
  sb.handle('room:join', (_conn, data) => ({ members: sb.channelSize(`chat:${data.room}`) }))
  sb.on('connection', (conn) => conn.send('notice', { text: 'welcome' }))
  return sb
}
