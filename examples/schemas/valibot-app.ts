/**
 * One definition, valibot edition: the same application as zod-app.ts, with valibot's
 * validators. Any Standard Schema library works the same way.
 */
import { defineSchemas, type InferEventMap } from '@switchboard/protocol'
import { createSwitchboard } from '@switchboard/server'
import * as v from 'valibot'

export const schemas = defineSchemas({
  requests: {
    'room:join': {
      data: v.object({ room: v.pipe(v.string(), v.minLength(1)) }),
      reply: v.object({ members: v.number() }),
    },
  },
  events: { notice: v.object({ text: v.string() }) },
  channels: {
    'chat:*': v.object({
      user: v.string(),
      text: v.pipe(v.string(), v.maxLength(2000), v.trim()),
    }),
  },
})

export type ChatApp = InferEventMap<typeof schemas>

export function createChatApp(port = 0) {
  const sb = createSwitchboard<ChatApp>({
    port,
    host: '127.0.0.1',
    logger: false,
    schemas,
    channels: { 'chat:*': { history: 100, clientPublish: true } },
  })
  sb.handle('room:join', (_conn, data) => ({ members: sb.channelSize(`chat:${data.room}`) }))
  sb.on('connection', (conn) => conn.send('notice', { text: 'welcome' }))
  return sb
}
