/**
 * What the client cannot send fails where it is called, against a real server: a frame over the
 * `maxPayload` its `hello` announced is refused at once and never sent (so the server never
 * closes with 1009 and the client never loops reconnecting to resend it); data JSON cannot carry
 * (a BigInt, a cycle) rejects with one SwitchboardError and leaves no pending request, timer or
 * later rejection behind.
 */
import { ErrorCode, SwitchboardClient, SwitchboardError } from '@switchboard/client'
import { serverFixture } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'
import { until } from './client-states.js'

const fixture = serverFixture({ channels: { 'big:*': { clientPublish: true } } })

async function setup(requestTimeout = 10_000) {
  const { sb, url } = await fixture.setup()
  const closes: number[] = []
  sb.on('disconnect', (_conn, { code }) => closes.push(code))
  sb.handle('x', () => 'ok')
  const client = new SwitchboardClient(url, { requestTimeout })
  fixture.onCleanup(() => client.close())
  return { sb, client, closes }
}

describe('errors at the call site', () => {
  it('refuses a publish over the announced maxPayload at once, sends nothing and stays connected', async () => {
    const { client, closes } = await setup()
    await until(client, 'connected')
    const started = Date.now()
    const err = await client.publish('big:1', 'x'.repeat(100_000), { timeout: 8000 }).catch((e) => e)
    expect(err).toBeInstanceOf(SwitchboardError)
    expect(err.code).toBe(ErrorCode.FRAME_TOO_LARGE)
    expect(Date.now() - started).toBeLessThan(500)
    expect(await client.request('x', null)).toBe('ok')
    expect(client.state).toBe('connected')
    expect(closes).toEqual([])
  })

  it('a frame queued before the first hello is refused once the limit is known, never sent', async () => {
    const { client, closes } = await setup()
    const queued = client.publish('big:1', 'x'.repeat(100_000)).catch((e) => e)
    const err = await queued
    expect(err.code).toBe(ErrorCode.FRAME_TOO_LARGE)
    expect(await client.request('x', null)).toBe('ok')
    expect(closes).toEqual([])
  })

  it('data JSON cannot carry rejects with one SwitchboardError, and nothing is left pending', async () => {
    const { client } = await setup(200)
    await until(client, 'connected')
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      const bigint = (await client.request('x', { n: 10n } as never).catch((e) => e)) as SwitchboardError
      expect(bigint).toBeInstanceOf(SwitchboardError)
      expect(bigint.code).toBe(ErrorCode.INVALID_PAYLOAD)
      const cyclic: Record<string, unknown> = {}
      cyclic.self = cyclic
      const room = client.channel('big:1')
      const cycle = await room.publish(cyclic as never).catch((e) => e)
      expect(cycle.code).toBe(ErrorCode.INVALID_PAYLOAD)
      expect(() => client.emit('x', { n: 1n } as never)).toThrow(SwitchboardError)
      client.close()
      // Past the request timeout: a request left behind would reject now, unhandled.
      await new Promise((r) => setTimeout(r, 400))
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})
