// A slow consumer, end to end: a real SwitchboardClient stops reading, the server cuts it off with
// 4100 (its unsent bytes passed maxBufferedBytes), and when it reads again it reconnects, resumes
// from the last offset it handled, and ends up with every message once, in order.
import { type RecoveryInfo, type StateChange, SwitchboardClient } from '@switchboard/client'
import { serverFixture, startServer, until } from '@switchboard/testing'
import { expect, it } from 'vitest'
import { SocketTracker } from './client-helpers.js'

const { onCleanup } = serverFixture()

it('a subscriber cut off as a slow consumer recovers every message from history', async () => {
  const { sb, url } = await startServer({
    maxBufferedBytes: 64 * 1024,
    channels: { 'feed:*': { history: 20_000 } },
  })
  onCleanup(() => sb.close({ timeout: 300 }))
  const tracker = new SocketTracker()
  const client = new SwitchboardClient(url, { WebSocket: tracker.WebSocket, backoff: () => 20 })
  onCleanup(() => client.close())
  const states: StateChange[] = []
  client.on('state', (s) => states.push(s))
  const feed = client.channel('feed:firehose')
  const got: number[] = []
  feed.on('publication', (p) => got.push(p.offset))
  const recoveries: RecoveryInfo[] = []
  feed.on('recovery', (r) => recoveries.push(r))
  await new Promise((resolve) => feed.once('subscribed', resolve))

  let last = 0
  for (let i = 0; i < 20; i++) last = (await sb.publish('feed:firehose', { i })).offset
  await until(() => got.length === 20)

  // The client stops reading; the server's queue for it grows until it is cut off.
  const cut: number[] = []
  sb.on('disconnect', (_c, { code }) => cut.push(code))
  const conn = sb.connections.get(client.connectionId!)!
  tracker.current!.pause()
  const pad = 'x'.repeat(8 * 1024)
  while (conn.state === 'open' && last < 15_000) {
    for (let i = 0; i < 20; i++) last = (await sb.publish('feed:firehose', { pad })).offset
    await new Promise((r) => setImmediate(r))
  }
  await until(() => cut.length > 0)
  expect(cut).toEqual([4100])
  // More is published while it is away.
  for (let i = 0; i < 50; i++) last = (await sb.publish('feed:firehose', { after: i })).offset
  tracker.sockets.at(-1)!.resume()

  await until(() => got.at(-1) === last, 15_000)
  expect(got).toEqual(Array.from({ length: last }, (_, i) => i + 1))
  expect(states.some((s) => s.newState === 'reconnecting')).toBe(true)
  expect(recoveries).toHaveLength(1)
  expect(recoveries[0]!.recovered).toBe(true)
  expect(tracker.sockets.length).toBe(2)
  // The live stream goes on after the recovery.
  last = (await sb.publish('feed:firehose', 'live')).offset
  await until(() => got.at(-1) === last)
  expect(new Set(got).size).toBe(got.length)
}, 30_000)
