/**
 * The two schema examples, driven by the typed SDK client: a publish the channel's schema refuses
 * is `invalid_payload` with the path, a valid one arrives transformed (trimmed), the
 * request schema guards the handler, and the typed `notice` event arrives.
 */
import { SwitchboardClient } from '@switchboard/client'
import { until } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'
import * as valibotApp from './valibot-app.js'
import * as zodApp from './zod-app.js'

describe.each([
  ['zod', zodApp],
  ['valibot', valibotApp],
])('%s', (_, app) => {
  it('validates every path from one definition', async () => {
    const sb = app.createChatApp()
    const { url } = await sb.ready
    const client = new SwitchboardClient<zodApp.ChatApp>(url)
    try {
      const notices: string[] = []
      client.onEvent('notice', (n) => notices.push(n.text))
      const channel = client.channel('chat:lobby')
      const seen: string[] = []
      channel.on('publication', ({ data }) => seen.push(data.text))
      await until(() => channel.state === 'subscribed')

      await expect(
        client.publish('chat:lobby', { user: 'ada', text: 'x'.repeat(2001) }),
      ).rejects.toMatchObject({
        code: 'invalid_payload',
        details: [expect.objectContaining({ path: ['text'] })],
      })
      await client.publish('chat:lobby', { user: 'ada', text: '  hello  ' })
      await until(() => seen.length === 1)
      expect(seen).toEqual(['hello'])

      await expect(client.request('room:join', { room: '' })).rejects.toMatchObject({
        code: 'invalid_payload',
      })
      expect(await client.request('room:join', { room: 'lobby' })).toEqual({ members: 1 })
      expect(notices).toEqual(['welcome'])
    } finally {
      client.close({ flush: false })
      await sb.close({ timeout: 200 })
    }
  })
})
