// Type tests for the event map: checked by `tsc -p packages/server/test`, and run (trivially) by vitest.
import { createSwitchboard } from '@switchboard/server'
import { expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'

interface App {
  requests: {
    'chat:send': { data: { room: string; text: string }; reply: { status: 'delivered' } }
    whoami: { data: undefined; reply: string }
  }
  events: { notice: { text: string } }
  channels: { [name: `chat:${string}`]: { user: string; text: string }; lobby: number }
}

it('ties handlers, events and publishes to the event map', async () => {
  const sb = createSwitchboard<App>({ port: 0, host: '127.0.0.1', logger: false })
  const Send = z.object({ room: z.string(), text: z.string().max(10) })
  sb.handle('chat:send', Send, async (conn, msg) => {
    expectTypeOf(msg).toEqualTypeOf<{ room: string; text: string }>()
    await sb.publish(`chat:${msg.room}`, { user: conn.id, text: msg.text })
    conn.send('notice', { text: 'sent' })
    // @ts-expect-error: an event the map does not have
    conn.send('nope', {})
    return { status: 'delivered' }
  })
  // Never called: these lines exist for the type checker.
  const wrong = () => {
    // @ts-expect-error: the reply must match the map
    sb.handle('whoami', () => 42)
    // @ts-expect-error: a request the map does not have
    sb.handle('missing', () => 'x')
    // @ts-expect-error: the schema's output must match the map's data
    sb.handle('chat:send', z.object({ room: z.number() }), () => ({ status: 'delivered' as const }))
    // @ts-expect-error: wrong message type for the channel pattern
    void sb.publish('chat:general', { text: 1 })
    sb.publish('lobby', 3)
    // @ts-expect-error: a channel outside the map
    void sb.publish('other', 1)
    void sb.sendTo('some-id', 'notice', { text: 'to one' })
    // @ts-expect-error: sendTo checks the event's data against the map
    void sb.sendTo('some-id', 'notice', { text: 2 })
    // @ts-expect-error: an event the map does not have
    void sb.sendTo('some-id', 'nope', {})
  }
  expect(typeof wrong).toBe('function')

  // Without a map, anything goes and a schema still types the data.
  const loose = createSwitchboard({ port: 0, host: '127.0.0.1', logger: false })
  loose.handle('x', z.object({ n: z.number() }), (_conn, data) => data.n + 1)
  await Promise.all([sb.ready, loose.ready])
  await Promise.all([sb.close(), loose.close()])
  expect(true).toBe(true)
})
