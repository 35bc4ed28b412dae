/**
 * Lifecycle webhooks on a real server (in-memory broker) sent to a real receiver in another
 * language (python/webhook_receiver.py, standard library only), which checks each signature the
 * way docs/webhooks.md tells a receiver to: connections' open and close arrive signed, in order,
 * each with an id and a time; a receiver that fails gets the same events again, in order, once it
 * is back; only the types a receiver asked for reach it; `verifyWebhook` refuses what it must.
 */
import { signWebhook, verifyWebhook } from '@switchboard/server'
import { serverFixture, startWebhookReceiver, until, type WebhookReceiver } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'

const SECRET = 'webhook-secret-0123456789'
const { setup, onCleanup } = serverFixture()
const fast = { pollMs: 20, retryMs: 50, maxRetryMs: 200, leaseMs: 3000 }

async function receiver(): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver(SECRET)
  onCleanup(() => r.stop())
  return r
}

describe('lifecycle webhooks', () => {
  it('sends connection.open and connection.close, signed, in order, each with an id and a time', async () => {
    const hook = await receiver()
    const { client } = await setup({
      webhooks: {
        receivers: [{ url: hook.url, secret: SECRET, events: ['connection.open', 'connection.close'] }],
        ...fast,
      },
      authenticate: (req) => ({ user: new URL(req.url ?? '/', 'http://x').searchParams.get('user') }),
      presence: (conn) => ({ userId: String((conn.data as { user: string }).user) }),
    })
    const before = Date.now()
    const a = await client('?user=ann')
    const b = await client('?user=bob')
    const ids = [a, b].map(
      (c) => (c.frames.find((f) => f.type === 'hello') as { connectionId: string }).connectionId,
    )
    a.ws.close(1000, 'bye')
    await until(async () => (await hook.delivered()).length >= 3, 5000, 'three events')
    const got = await hook.delivered()
    expect(got.map((r) => [r.event.type, r.event.connection, r.event.user])).toEqual([
      ['connection.open', ids[0], 'ann'],
      ['connection.open', ids[1], 'bob'],
      ['connection.close', ids[0], 'ann'],
    ])
    expect(got[2]!.event.data).toEqual({ code: 1000, reason: 'bye' })
    for (const r of got) {
      expect(r.signed).toBe(true)
      expect(r.type).toBe(r.event.type)
      expect(r.id).toBe(r.event.id)
      expect(r.event.at).toBeGreaterThanOrEqual(before - 5)
    }
    expect(new Set(got.map((r) => r.id)).size).toBe(3)
  })

  it('a receiver that fails gets every event again, in order, once it answers', async () => {
    const hook = await receiver()
    await hook.fail(true)
    const { client } = await setup({
      webhooks: {
        receivers: [{ url: hook.url, secret: SECRET, events: ['connection.open', 'connection.close'] }],
        ...fast,
      },
    })
    for (let i = 0; i < 3; i++) (await client()).ws.terminate()
    await until(async () => (await hook.received()).length >= 3, 5000, 'failed attempts')
    expect((await hook.delivered()).length).toBe(0)
    // While the first event fails, nothing after it is sent: the queue waits, in order.
    expect(new Set((await hook.received()).map((r) => r.id)).size).toBe(1)
    await hook.fail(false)
    await until(async () => (await hook.delivered()).length >= 6, 5000, 'six events once back')
    const delivered = await hook.delivered()
    expect(delivered.map((r) => r.event.type)).toEqual([
      'connection.open',
      'connection.close',
      'connection.open',
      'connection.close',
      'connection.open',
      'connection.close',
    ])
    expect(delivered[0]!.attempt).toBeGreaterThan(1)
    // Each event was delivered once, in id order.
    const ids = delivered.map((r) => r.id)
    expect(new Set(ids).size).toBe(6)
    expect([...ids].sort(byStreamId)).toEqual(ids)
  })

  it('sends a receiver only the types it asked for', async () => {
    const hook = await receiver()
    const all = await receiver()
    const { client } = await setup({
      webhooks: {
        receivers: [
          { url: hook.url, secret: SECRET, events: ['connection.close'] },
          { url: all.url, secret: SECRET },
        ],
        ...fast,
      },
    })
    ;(await client()).ws.close()
    await until(async () => (await all.delivered()).length >= 2, 5000, 'both events')
    await until(async () => (await hook.delivered()).length >= 1, 5000, 'the close')
    expect((await hook.delivered()).map((r) => r.event.type)).toEqual(['connection.close'])
  })

  it('refuses options it cannot deliver with', async () => {
    await expect(setup({ webhooks: { receivers: [{ url: 'ftp://x', secret: SECRET }] } })).rejects.toThrow(
      /must be http: or https:/,
    )
    await expect(setup({ webhooks: { receivers: [{ url: 'http://x', secret: 'short' }] } })).rejects.toThrow(
      /at least 16 characters/,
    )
    await expect(
      setup({
        webhooks: { receivers: [{ url: 'http://x', secret: SECRET, events: ['user.gone' as never] }] },
      }),
    ).rejects.toThrow(/unknown event "user.gone"/)
  })
})

describe('users and channels: decided once, with a grace window', () => {
  const byUser = {
    authenticate: (req: { url?: string }) => ({
      user: new URL(req.url ?? '/', 'http://x').searchParams.get('user'),
    }),
    presence: (conn: { data: unknown }) => ({ userId: String((conn.data as { user: string }).user) }),
  }
  const types = (got: { event: { type: string; user?: unknown; channel?: unknown } }[]) =>
    got.map((r) => `${r.event.type} ${String(r.event.user ?? r.event.channel)}`)

  it('a user is online with its first connection and offline once its last is gone past the grace window', async () => {
    const hook = await receiver()
    const { client } = await setup({
      ...byUser,
      webhooks: {
        receivers: [{ url: hook.url, secret: SECRET, events: ['user.online', 'user.offline'] }],
        graceMs: 300,
        ...fast,
      },
    })
    const tab1 = await client('?user=ann')
    const tab2 = await client('?user=ann')
    await until(async () => (await hook.delivered()).length >= 1, 5000, 'online')
    tab1.ws.close()
    tab2.ws.close()
    await until(async () => (await hook.delivered()).length >= 2, 5000, 'offline')
    expect(types(await hook.delivered())).toEqual(['user.online ann', 'user.offline ann'])
  })

  it('a page that reconnects within the grace window makes no offline/online pair', async () => {
    const hook = await receiver()
    const { client } = await setup({
      ...byUser,
      webhooks: {
        receivers: [{ url: hook.url, secret: SECRET, events: ['user.online', 'user.offline'] }],
        graceMs: 1500,
        ...fast,
      },
    })
    const page = await client('?user=bob')
    await until(async () => (await hook.delivered()).length >= 1, 5000, 'online')
    page.ws.close()
    await new Promise((r) => setTimeout(r, 200))
    const reloaded = await client('?user=bob')
    // Past the grace window of the first close: still nothing more.
    await new Promise((r) => setTimeout(r, 2000))
    expect(types(await hook.delivered())).toEqual(['user.online bob'])
    reloaded.ws.close()
    await until(async () => (await hook.delivered()).length >= 2, 5000, 'offline')
    expect(types(await hook.delivered())).toEqual(['user.online bob', 'user.offline bob'])
  })

  it('a channel is occupied with its first subscriber and vacated after its last leaves', async () => {
    const hook = await receiver()
    const { client } = await setup({
      webhooks: {
        receivers: [{ url: hook.url, secret: SECRET, events: ['channel.occupied', 'channel.vacated'] }],
        graceMs: 100,
        ...fast,
      },
    })
    const a = await client()
    const b = await client()
    for (const c of [a, b]) {
      c.send({ type: 'subscribe', id: 's', channel: 'room:1' })
      await c.next('reply')
    }
    a.send({ type: 'unsubscribe', id: 'u', channel: 'room:1' })
    await a.next('reply')
    b.ws.close()
    await until(async () => (await hook.delivered()).length >= 2, 5000, 'occupied and vacated')
    await new Promise((r) => setTimeout(r, 300))
    expect(types(await hook.delivered())).toEqual(['channel.occupied room:1', 'channel.vacated room:1'])
  })
})

describe('verifyWebhook', () => {
  const body = '{"id":"1-0","type":"user.online","at":1,"user":"ann"}'
  const now = 1_800_000_000

  it('accepts the signature of the body, and refuses another secret, a changed body, a stale time', () => {
    const header = signWebhook(SECRET, body, now)
    expect(verifyWebhook(SECRET, body, header, { now })).toBe(true)
    expect(verifyWebhook('another-secret-0123456789', body, header, { now })).toBe(false)
    expect(verifyWebhook(SECRET, body.replace('ann', 'eve'), header, { now })).toBe(false)
    expect(verifyWebhook(SECRET, body, header, { now: now + 301 })).toBe(false)
    expect(verifyWebhook(SECRET, body, header, { now: now + 301, toleranceSeconds: 600 })).toBe(true)
  })

  it('refuses a missing or malformed header without throwing', () => {
    for (const header of [
      undefined,
      '',
      'v1=abc',
      `t=${now}`,
      `t=x,v1=${'0'.repeat(64)}`,
      `t=${now},v1=zz`,
    ]) {
      expect(verifyWebhook(SECRET, body, header, { now })).toBe(false)
    }
  })
})

function byStreamId(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number]
  const [bm, bs] = b.split('-').map(Number) as [number, number]
  return am - bm || as - bs
}
