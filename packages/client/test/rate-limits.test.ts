/**
 * Everything under the limits a server advertises succeeds, against a real server with its
 * defaults (a burst of 200 frames, 256 subscriptions): frames the server refuses as `rate_limited`
 * were not carried out, so the client sends them again after a backoff — a channel's subscribe
 * as an `unavailable` one is, a publish with its idempotency key so it still lands once.
 */
import { SwitchboardClient } from '@switchboard/client'
import { serverFixture, until as waitFor } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'
import { until } from './client-states.js'

const fixture = serverFixture({ channels: { 'm:*': { clientPublish: true } } })

/** A client of a fresh server, closed after the test. */
async function setup(options: { autoConnect?: boolean } = {}) {
  const { sb, url } = await fixture.setup()
  const client = new SwitchboardClient(url, options)
  fixture.onCleanup(() => client.close())
  return { sb, client }
}

describe('rate limits', () => {
  it('220 channels opened at once all end subscribed (the burst is 200)', async () => {
    const { client } = await setup()
    const channels = Array.from({ length: 220 }, (_, i) => client.channel(`m:${i}`))
    await waitFor(() => channels.every((c) => c.state === 'subscribed'), 8000, 'every channel subscribed')
    expect(channels.filter((c) => c.state !== 'subscribed')).toEqual([])
  })

  it('150 channels and 80 publishes made offline all succeed once connected', async () => {
    const { sb, client } = await setup({ autoConnect: false })
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
    await waitFor(() => channels.every((c) => c.state === 'subscribed'), 8000, 'every channel subscribed')
    expect(sb.channelSize('m:0')).toBe(1)
  })
})
