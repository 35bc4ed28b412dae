/**
 * Everything under the limits a server advertises succeeds, against a real server with its
 * defaults (a burst of 200 frames refilled at 100/s, 256 subscriptions), on WebSocket and on SSE:
 * the client paces what it sends by the rate its `hello` announced, so resubscribing many
 * channels and flushing the offline queue is never refused — not a single `rate_limited` reply,
 * not a reconnect. A frame the server still refuses as `rate_limited` was not carried out, and is
 * sent again after a backoff (a publish with its idempotency key, so it still lands once).
 */
import { SseSocket, SwitchboardClient, type WebSocketConstructor } from '@switchboard/client'
import { serverFixture, until as waitFor } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { until } from './client-states.js'
import { countCode, frameTap } from './frame-tap.js'

const fixture = serverFixture({ channels: { 'm:*': { clientPublish: true } } })

const transports: Array<[string, WebSocketConstructor]> = [
  ['WebSocket', WebSocket as unknown as WebSocketConstructor],
  ['SSE', SseSocket],
]

/** A client of a fresh server over `Socket`, whose received frames are kept; closed after the test. */
async function setup(Socket: WebSocketConstructor, options: { autoConnect?: boolean } = {}) {
  const { sb, url } = await fixture.setup()
  const tap = frameTap(Socket)
  const client = new SwitchboardClient(url, { ...options, WebSocket: tap.WebSocket })
  fixture.onCleanup(() => client.close({ flush: false }))
  return { sb, client, tap }
}

describe.each(transports)('rate limits over %s', (_name, Socket) => {
  it('220 channels opened at once all end subscribed, none refused (the burst is 200)', async () => {
    const { client, tap } = await setup(Socket)
    const channels = Array.from({ length: 220 }, (_, i) => client.channel(`m:${i}`))
    await waitFor(() => channels.every((c) => c.state === 'subscribed'), 8000, 'every channel subscribed')
    expect(countCode(tap.received, 'rate_limited')).toBe(0)
    expect(tap.opened()).toBe(1)
  })

  it('150 channels and 80 publishes made offline all succeed once connected, none refused', async () => {
    const { sb, client, tap } = await setup(Socket, { autoConnect: false })
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
    expect(countCode(tap.received, 'rate_limited')).toBe(0)
    expect(tap.opened()).toBe(1)
  })
})
