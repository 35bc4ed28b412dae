/**
 * A subscribe the server answers `unavailable` (its broker could not subscribe: Redis restarting)
 * is tried again with backoff, and the channel ends up subscribed and receiving — it is not
 * dropped for good. Real server, real client; the broker is the in-memory one, refusing the first
 * subscribes as a broker that lost its connection would.
 */
import { type ChannelStateReason, SwitchboardClient, type SwitchboardError } from '@switchboard/client'
import { type BrokerListener, createSwitchboard, MemoryBroker } from '@switchboard/server'
import { afterEach, expect, it } from 'vitest'

class FlakyBroker extends MemoryBroker {
  refusals: number
  constructor(refusals: number) {
    super()
    this.refusals = refusals
  }
  override async subscribe(channel: string, listener: BrokerListener): Promise<void> {
    if (this.refusals > 0) {
      this.refusals--
      throw new Error('broker connection lost')
    }
    return super.subscribe(channel, listener)
  }
}

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

it('retries a subscribe refused as unavailable until it succeeds, then receives', async () => {
  const broker = new FlakyBroker(2)
  const sb = createSwitchboard({ port: 0, host: '127.0.0.1', logger: false, broker })
  cleanups.push(() => sb.close({ timeout: 200 }))
  const { url } = await sb.ready
  const client = new SwitchboardClient(url)
  cleanups.push(() => client.close())
  const room = client.channel('news')
  const reasons: ChannelStateReason[] = []
  const errors: string[] = []
  room.on('state', (s) => reasons.push(s.reason))
  room.on('error', (e: SwitchboardError) => errors.push(e.code))
  const got: number[] = []
  room.on('publication', ({ data }) => got.push((data as { n: number }).n))
  const subscribed = new Promise((resolve) => room.once('subscribed', resolve))
  room.subscribe()
  await subscribed
  expect(errors).toEqual(['unavailable', 'unavailable'])
  expect(reasons).not.toContain('subscribe_failed')
  expect(room.state).toBe('subscribed')
  await sb.publish('news', { n: 1 })
  await expect.poll(() => got).toEqual([1])
})
