// A replay larger than the send bound (maxBufferedBytes). The replay is written in one go, so a
// client that reads perfectly well can be cut as a slow consumer (4100) by its own replay; it then
// resumes from the last message it handled, so it still ends with every message once, in order.
// A bound below the transport's 64 KiB flush threshold once meant nothing reached the socket
// before the bound was passed, so recovery never completed; the last test guards that fix.
import { type RecoveryInfo, SwitchboardClient } from '@switchboard/client'
import { serverFixture, startServer, until } from '@switchboard/testing'
import { expect, it } from 'vitest'

const { onCleanup } = serverFixture()

async function awayThenBack(bound: number, count: number, waitMs: number) {
  const { sb, url } = await startServer({
    maxBufferedBytes: bound,
    channels: { 'feed:*': { history: 100_000 } },
  })
  onCleanup(() => sb.close({ timeout: 200 }))
  const client = new SwitchboardClient(url, { backoff: () => 20 })
  onCleanup(() => client.close())
  const feed = client.channel('feed:away')
  const got: number[] = []
  feed.on('publication', (p) => got.push(p.offset))
  const recoveries: RecoveryInfo[] = []
  feed.on('recovery', (r) => recoveries.push(r))
  const cuts: number[] = []
  sb.on('disconnect', (_c, { code }) => {
    if (code === 4100) cuts.push(code)
  })
  await new Promise((resolve) => feed.once('subscribed', resolve))
  sb.connections.get(client.connectionId!)!.close(1012, 'away')
  const pad = 'y'.repeat(1000)
  let last = 0
  for (let i = 0; i < count; i++) last = (await sb.publish('feed:away', { i, pad })).offset
  await until(() => got.at(-1) === last, waitMs).catch(() => {})
  return { got, last, recoveries, cuts }
}

it('recovers a gap larger than the send bound: every message once, in order', async () => {
  // 3 MB missed, a 256 KiB bound.
  const { got, last, recoveries } = await awayThenBack(256 * 1024, 3000, 15_000)
  expect(got).toEqual(Array.from({ length: last }, (_, i) => i + 1))
  expect(recoveries.length).toBeGreaterThanOrEqual(1)
  expect(recoveries.every((r) => r.recovered)).toBe(true)
}, 30_000)

// With maxBufferedBytes under 64 KiB the write threshold follows the bound (flushThreshold), so a
// replay over it leaves as it is queued instead of being cut before any byte is written.
it('recovers a gap larger than a send bound under 64 KiB', async () => {
  const { got, last } = await awayThenBack(32 * 1024, 200, 2000)
  expect(got).toEqual(Array.from({ length: last }, (_, i) => i + 1))
}, 10_000)
