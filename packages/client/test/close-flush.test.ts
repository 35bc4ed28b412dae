/**
 * `close()` waits for what the application still waits on: 50 publishes then `close()`, against
 * a real server whose `authorize.publish` takes a few ms (a broker's latency), all land and all
 * resolve — a subscriber gets 50 of 50 — before the client is closed. New calls meanwhile fail
 * with `disconnected`; `close({ timeout })` bounds the wait, `close({ flush: false })` skips it.
 * The same with the Redis broker is in packages/redis/test/sdk-close-and-retries.test.ts.
 */
import { SwitchboardClient, type SwitchboardError } from '@switchboard/client'
import { serverFixture, until } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'

const fixture = serverFixture({ channels: { 'c:*': { clientPublish: true } } })

/** A server whose publish check takes `ms`, a subscriber on `c:1`, and a publishing client. */
async function setup(ms: number) {
  const slow = async () => {
    await new Promise((resolve) => setTimeout(resolve, ms))
    return true
  }
  const { url } = await fixture.setup({ authorize: { publish: slow } })
  const watcher = new SwitchboardClient(url)
  fixture.onCleanup(() => watcher.close({ flush: false }))
  const got: unknown[] = []
  const room = watcher.channel('c:1')
  room.on('publication', ({ data }) => got.push(data))
  await new Promise((resolve) => room.once('subscribed', resolve))
  const client = new SwitchboardClient(url)
  fixture.onCleanup(() => client.close({ flush: false }))
  await new Promise((resolve) => client.once('connected', resolve))
  return { client, got }
}

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: SwitchboardError) => e.code,
  )

describe('close()', () => {
  it('waits for 50 publishes to be acknowledged: a subscriber gets 50 of 50', async () => {
    const { client, got } = await setup(3)
    const published = Array.from({ length: 50 }, (_, i) => outcome(client.publish('c:1', i)))
    await client.close()
    expect(client.state).toBe('closed')
    expect(await Promise.all(published)).toEqual(Array.from({ length: 50 }, () => 'ok'))
    await until(() => got.length === 50, 5000, '50 messages')
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i))
  })

  it('takes no new publish while it waits', async () => {
    const { client } = await setup(3)
    const first = outcome(client.publish('c:1', 'first'))
    const closed = client.close()
    expect(await outcome(client.publish('c:1', 'late'))).toBe('disconnected')
    expect(client.emit('late', 1)).toBe(false)
    await closed
    expect(await first).toBe('ok')
  })

  it('waits no longer than its timeout: what is left fails with disconnected', async () => {
    const { client } = await setup(2000)
    const slow = outcome(client.publish('c:1', 'slow'))
    await client.close({ timeout: 100 })
    expect(client.state).toBe('closed')
    expect(await slow).toBe('disconnected')
  })

  it('with flush: false closes at once, and what is in flight fails with disconnected', async () => {
    const { client } = await setup(3)
    const inFlight = outcome(client.publish('c:1', 'x'))
    const closed = client.close({ flush: false })
    expect(client.state).toBe('closed')
    await closed
    expect(await inFlight).toBe('disconnected')
  })
})
