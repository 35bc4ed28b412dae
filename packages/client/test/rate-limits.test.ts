/**
 * Everything under the limits a server advertises succeeds, against a real server with its
 * defaults (a burst of 200 frames, 256 subscriptions): frames the server refuses as `rate_limited`
 * were not carried out, so the client sends them again after a backoff — a channel's subscribe
 * as an `unavailable` one is, a publish with its idempotency key so it still lands once.
 */
import { SwitchboardClient } from '@switchboard/client'
import { createSwitchboard, type Switchboard } from '@switchboard/server'
import { afterEach, describe, expect, it } from 'vitest'
import { until } from './client-states.js'

const servers: Switchboard[] = []
const clients: SwitchboardClient[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  for (const s of servers.splice(0)) await s.close({ timeout: 200 })
})

async function setup() {
  const sb = createSwitchboard({
    port: 0,
    host: '127.0.0.1',
    logger: false,
    channels: { 'm:*': { clientPublish: true } },
  })
  servers.push(sb)
  const { url } = await sb.ready
  return { sb, url }
}

const waitFor = async (check: () => boolean, ms: number) => {
  const started = Date.now()
  while (!check()) {
    if (Date.now() - started > ms) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('rate limits', () => {
  it('220 channels opened at once all end subscribed (the burst is 200)', async () => {
    const { url } = await setup()
    const client = new SwitchboardClient(url)
    clients.push(client)
    const channels = Array.from({ length: 220 }, (_, i) => client.channel(`m:${i}`))
    await waitFor(() => channels.every((c) => c.state === 'subscribed'), 8000)
    expect(channels.filter((c) => c.state !== 'subscribed')).toEqual([])
  })

  it('150 channels and 80 publishes made offline all succeed once connected', async () => {
    const { sb, url } = await setup()
    const client = new SwitchboardClient(url, { autoConnect: false })
    clients.push(client)
    const channels = Array.from({ length: 150 }, (_, i) => client.channel(`m:${i}`))
    const published = Array.from({ length: 80 }, (_, i) =>
      client.publish(`m:${i % 150}`, i).then(
        () => 'ok',
        (err: { code: string }) => err.code,
      ),
    )
    client.connect()
    await until(client, 'connected')
    expect(await Promise.all(published)).toEqual(Array.from({ length: 80 }, () => 'ok'))
    await waitFor(() => channels.every((c) => c.state === 'subscribed'), 8000)
    expect(sb.channelSize('m:0')).toBe(1)
  })
})
