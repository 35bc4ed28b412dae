// Per-channel-pattern options as the server applies them (history window, presence, who may
// publish, every publication numbered within the epoch), and what the real client tells the
// application when a gap cannot be filled: a `recovery` event with `recovered: false` — never an
// error, never silence — including after a server restart, which the in-memory broker does not
// survive.
import { type RecoveryInfo, SwitchboardClient, type SwitchboardError } from '@switchboard/client'
import type { StreamPosition, SubscribeResult } from '@switchboard/protocol'
import { createSwitchboard } from '@switchboard/server'
import { serverFixture, type TestClient, until } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'

const OPTIONS = {
  'chat:*': { history: { size: 3, ttl: '10m' }, presence: true, clientPublish: true },
  // A longer pattern wins over 'chat:*': no history, no presence, server-only publishing.
  'chat:admin:*': {},
  // An exact name wins over every pattern.
  'chat:log': { history: 50 },
}

const { setup, onCleanup } = serverFixture({ channels: OPTIONS })
let n = 0
async function request(c: TestClient, frame: Record<string, unknown>) {
  const id = `r${++n}`
  c.send({ ...frame, id })
  return c.next('reply', (r) => r.id === id)
}

async function subscribe(c: TestClient, channel: string, since?: StreamPosition) {
  const reply = await request(
    c,
    since ? { type: 'subscribe', channel, since } : { type: 'subscribe', channel },
  )
  if (!reply.ok) throw new Error(reply.error.message)
  return reply.data as unknown as SubscribeResult
}

describe('per-pattern channel options', () => {
  it('clientPublish: allowed by the pattern, refused elsewhere (longest pattern and exact name win)', async () => {
    const { client } = await setup()
    const c = await client()
    expect(await request(c, { type: 'publish', channel: 'chat:room', data: 1 })).toMatchObject({ ok: true })
    for (const channel of ['chat:admin:x', 'chat:log', 'news']) {
      expect(await request(c, { type: 'publish', channel, data: 1 })).toMatchObject({
        ok: false,
        error: { code: 'forbidden' },
      })
    }
  })

  it('presence: members only where the pattern asks for them', async () => {
    const { client } = await setup()
    const c = await client()
    expect((await subscribe(c, 'chat:room')).members).toHaveLength(1)
    expect((await subscribe(c, 'chat:admin:x')).members).toBeUndefined()
    expect((await subscribe(c, 'chat:log')).members).toBeUndefined()
  })

  it('history: the window each pattern sets, and none where it sets none', async () => {
    const { sb, client } = await setup()
    const publishAll = async (channel: string, count: number) => {
      let pos: StreamPosition = { epoch: '', offset: 0 }
      for (let i = 0; i < count; i++) pos = await sb.publish(channel, i)
      return pos
    }
    const keeper = await client() // keeps the history-less channel's epoch alive
    await subscribe(keeper, 'chat:admin:x')
    const room = await publishAll('chat:room', 10) // size 3: keeps 8..10
    const log = await publishAll('chat:log', 10) // size 50: keeps all
    const admin = await publishAll('chat:admin:x', 10) // none
    const c = await client()
    expect((await subscribe(c, 'chat:room', { epoch: room.epoch, offset: 7 })).recovered).toBe(true)
    expect((await subscribe(c, 'chat:room', { epoch: room.epoch, offset: 6 })).recovered).toBe(false)
    expect((await subscribe(c, 'chat:log', { epoch: log.epoch, offset: 0 })).recovered).toBe(true)
    expect((await subscribe(c, 'chat:admin:x', { epoch: admin.epoch, offset: 9 })).recovered).toBe(false)
    expect((await subscribe(c, 'chat:admin:x', admin)).recovered).toBe(true)
  })

  it('every publication, from the server or a client, gets the next offset in the channel’s epoch', async () => {
    const { sb, client } = await setup()
    const c = await client()
    const { epoch } = await subscribe(c, 'chat:seq')
    const positions: StreamPosition[] = []
    for (let i = 0; i < 6; i++) {
      if (i % 2 === 0) positions.push(await sb.publish('chat:seq', i))
      else {
        const reply = await request(c, { type: 'publish', channel: 'chat:seq', data: i })
        positions.push(reply.ok ? (reply.data as unknown as StreamPosition) : { epoch: '', offset: -1 })
      }
    }
    expect(positions).toEqual([1, 2, 3, 4, 5, 6].map((offset) => ({ epoch, offset })))
    await until(() => c.frames.filter((f) => f.type === 'message').length === 6)
    const frames = c.frames.flatMap((f) => (f.type === 'message' ? [[f.epoch, f.offset, f.data]] : []))
    expect(frames).toEqual([0, 1, 2, 3, 4, 5].map((i) => [epoch, i + 1, i]))
  })
})

describe('the real client is told when a gap cannot be filled', () => {
  function follow(url: string, channel: string, backoff = 20) {
    const client = new SwitchboardClient(url, { backoff: () => backoff })
    onCleanup(() => client.close())
    const ch = client.channel(channel)
    const got: Array<{ epoch: string; offset: number }> = []
    const recoveries: RecoveryInfo[] = []
    const errors: SwitchboardError[] = []
    ch.on('publication', (p) => got.push({ epoch: p.epoch, offset: p.offset }))
    ch.on('recovery', (r) => recoveries.push(r))
    ch.on('error', (e) => errors.push(e))
    client.on('error', (e) => errors.push(e))
    const subscribed = new Promise((resolve) => ch.once('subscribed', resolve))
    return { client, ch, got, recoveries, errors, subscribed }
  }

  it('trimmed while away: a recovery event with recovered false, then the live stream, no error', async () => {
    const { sb, url } = await setup()
    const f = follow(url, 'chat:away', 300)
    await f.subscribed
    await sb.publish('chat:away', 1)
    await until(() => f.got.length === 1)
    const connId = f.client.connectionId!
    sb.connections.get(connId)!.close(1012, 'away')
    // Six messages while away, with a window of three: 2 and 3 are lost.
    for (let i = 2; i <= 7; i++) await sb.publish('chat:away', i)
    await until(() => f.recoveries.length === 1, 5000)
    const { epoch } = await sb.broker.position('chat:away')
    expect(f.recoveries[0]).toEqual({
      recovered: false,
      since: { epoch, offset: 1 },
      position: { epoch, offset: 7 },
    })
    expect(f.ch.state).toBe('subscribed')
    expect(f.ch.position).toEqual({ epoch, offset: 7 })
    await sb.publish('chat:away', 8)
    await until(() => f.got.length === 2)
    expect(f.got.map((g) => g.offset)).toEqual([1, 8])
    expect(f.errors).toEqual([])
  })

  it('after a restart of a server with the in-memory broker: recovered false, in the new epoch', async () => {
    const first = createSwitchboard({ port: 0, host: '127.0.0.1', logger: false, channels: OPTIONS })
    const { port, url } = await first.ready
    const f = follow(url, 'chat:restart', 50)
    await f.subscribed
    const old = await first.publish('chat:restart', 'before')
    await until(() => f.got.length === 1)
    await first.close({ timeout: 300 })
    const second = createSwitchboard({ port, host: '127.0.0.1', logger: false, channels: OPTIONS })
    onCleanup(() => second.close({ timeout: 300 }))
    await second.ready
    await until(() => f.recoveries.length === 1, 10_000)
    const now = await second.broker.position('chat:restart')
    expect(now.epoch).not.toBe(old.epoch)
    expect(f.recoveries[0]).toEqual({ recovered: false, since: old, position: now })
    // The new epoch's messages are delivered, even though their offsets are lower.
    await second.publish('chat:restart', 'after')
    await until(() => f.got.length === 2)
    expect(f.got).toEqual([old, { epoch: now.epoch, offset: 1 }])
    expect(f.errors).toEqual([])
  })
})
