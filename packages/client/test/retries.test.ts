/**
 * Refusals that say "not done, try again" are retried by the SDK, against a real server whose
 * authorize checks (or handler) refuse the first attempts as a server whose broker is down or
 * stalled would: a channel's subscribe answered `unavailable`, `rate_limited` or `timeout` ends
 * subscribed; one `publish()` answered `unavailable` or `timeout` is sent again — the very same
 * frame, idempotency key included — until it lands, once; a request is retried on `unavailable`
 * only when it is idempotent. An `internal` refusal is final.
 */
import { type ChannelStateReason, SwitchboardClient, type WebSocketConstructor } from '@switchboard/client'
import { SwitchboardError } from '@switchboard/protocol'
import { serverFixture, until } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { frameTap } from './frame-tap.js'

const fixture = serverFixture({ channels: { 'r:*': { history: 100, clientPublish: true } } })

/** Throws `code` for the first `times` calls, then allows. */
function refuseFirst(times: number, code: string) {
  let calls = 0
  const check = async (): Promise<boolean> => {
    calls++
    await new Promise((resolve) => setTimeout(resolve, 2))
    if (calls <= times) throw new SwitchboardError(code, `refused for now (${calls})`)
    return true
  }
  return { check, calls: () => calls }
}

function client(url: string) {
  const tap = frameTap(WebSocket as unknown as WebSocketConstructor)
  const c = new SwitchboardClient(url, { WebSocket: tap.WebSocket })
  fixture.onCleanup(() => c.close({ flush: false }))
  return { client: c, tap }
}

describe('a subscribe refused for now', () => {
  it.each(['unavailable', 'rate_limited', 'timeout'])(
    'is retried after %s until subscribed',
    async (code) => {
      const refusals = refuseFirst(2, code)
      const { sb, url } = await fixture.setup({ authorize: { subscribe: refusals.check } })
      const room = client(url).client.channel('r:1')
      const reasons: ChannelStateReason[] = []
      const errors: string[] = []
      room.on('state', (s) => reasons.push(s.reason))
      room.on('error', (e) => errors.push(e.code))
      await new Promise((resolve) => room.once('subscribed', resolve))
      expect(errors).toEqual([code, code])
      expect(reasons).not.toContain('subscribe_failed')
      expect(refusals.calls()).toBe(3)
      const got: unknown[] = []
      room.on('publication', ({ data }) => got.push(data))
      await sb.publish('r:1', 'live')
      await until(() => got.length === 1, 5000, 'the live message')
      expect(got).toEqual(['live'])
    },
  )

  it('is not retried after internal: the channel ends unsubscribed', async () => {
    const refusals = refuseFirst(1, 'internal')
    const { url } = await fixture.setup({ authorize: { subscribe: refusals.check } })
    const room = client(url).client.channel('r:1')
    const failed = new Promise<string>((resolve) => room.once('error', (e) => resolve(e.code)))
    expect(await failed).toBe('internal')
    expect(room.state).toBe('unsubscribed')
    expect(refusals.calls()).toBe(1)
  })
})

describe('one publish() answered unavailable or timeout', () => {
  it.each(['unavailable', 'timeout'])(
    'after %s is sent again, the same frame and key, and lands once',
    async (code) => {
      const refusals = refuseFirst(2, code)
      const { url } = await fixture.setup({ authorize: { publish: refusals.check } })
      const watcher = client(url).client.channel('r:p')
      const got: unknown[] = []
      watcher.on('publication', ({ data }) => got.push(data))
      await new Promise((resolve) => watcher.once('subscribed', resolve))
      const { client: publisher, tap } = client(url)
      const position = await publisher.publish('r:p', 'once', { timeout: 8000 })
      expect(position.offset).toBe(1)
      const frames = tap.sent.filter((text) => text.includes('"type":"publish"'))
      expect(frames).toHaveLength(3)
      expect(new Set(frames).size).toBe(1)
      await until(() => got.length === 1, 5000, 'the message')
      expect(got).toEqual(['once'])
    },
  )

  it('within the caller timeout: still refused then, it fails with timeout', async () => {
    const refusals = refuseFirst(1000, 'unavailable')
    const { url } = await fixture.setup({ authorize: { publish: refusals.check } })
    const { client: publisher } = client(url)
    const failure = await publisher
      .publish('r:p', 'never', { timeout: 1200 })
      .catch((e: SwitchboardError) => e)
    expect(failure).toMatchObject({ code: 'timeout' })
    expect(refusals.calls()).toBeGreaterThan(1)
  })
})

describe('a request answered unavailable', () => {
  async function setup() {
    const { sb, url } = await fixture.setup()
    let calls = 0
    sb.handle('flaky', () => {
      if (++calls <= 2) throw new SwitchboardError('unavailable', 'try again')
      return 'done'
    })
    return { url, calls: () => calls }
  }

  it('is retried when idempotent', async () => {
    const { url, calls } = await setup()
    expect(await client(url).client.request('flaky', undefined, { idempotent: true })).toBe('done')
    expect(calls()).toBe(3)
  })

  it('fails at once when not idempotent', async () => {
    const { url, calls } = await setup()
    const failure = await client(url)
      .client.request('flaky', undefined)
      .catch((e: SwitchboardError) => e)
    expect(failure).toMatchObject({ code: 'unavailable' })
    expect(calls()).toBe(1)
  })
})
