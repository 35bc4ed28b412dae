// The built-in `$history` and `$presence` requests, against a real server with raw frames.

import { connect, serverFixture } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'

const { setup } = serverFixture({
  channels: {
    'chat:*': { history: 3, presence: true, clientPublish: true },
    'live:*': {},
  },
  presence: (conn) => ({ userId: String(conn.data.name ?? 'anon') }),
  authorize: { subscribe: (_conn, channel) => channel !== 'chat:secret' },
})
describe('$history', () => {
  it('returns the latest retained messages, oldest first, with the current position', async () => {
    const { sb, url } = await setup()
    for (let n = 1; n <= 5; n++) await sb.publish('chat:a', { n })
    const c = await connect(url)
    c.send({ type: 'request', id: '1', event: '$history', data: { channel: 'chat:a', limit: 2 } })
    const reply = await c.next('reply')
    expect(reply).toMatchObject({ ok: true, data: { offset: 5 } })
    const data = (
      reply as unknown as { data: { epoch: string; messages: Array<{ epoch: string; offset: number }> } }
    ).data
    expect(data.messages).toEqual([
      { epoch: data.epoch, offset: 4, data: { n: 4 } },
      { epoch: data.epoch, offset: 5, data: { n: 5 } },
    ])
    // The window keeps 3: asking for more gives what is there.
    c.send({ type: 'request', id: '2', event: '$history', data: { channel: 'chat:a' } })
    const all = (await c.next('reply')) as unknown as { data: { messages: Array<{ offset: number }> } }
    expect(all.data.messages.map((m) => m.offset)).toEqual([3, 4, 5])
  })

  it('pages back with `before`: the latest messages strictly older than it, in its epoch only', async () => {
    const { sb, url } = await setup()
    for (let n = 1; n <= 5; n++) await sb.publish('chat:b', { n })
    const c = await connect(url)
    type Page = { epoch: string; offset: number; messages: Array<{ offset: number; data: unknown }> }
    const ask = async (id: string, data: unknown) => {
      c.send({ type: 'request', id, event: '$history', data })
      return ((await c.next('reply', (r) => r.id === id)) as unknown as { data: Page }).data
    }
    const latest = await ask('1', { channel: 'chat:b', limit: 1 })
    expect(latest.messages.map((m) => m.offset)).toEqual([5])
    const older = await ask('2', { channel: 'chat:b', limit: 1, before: 5, epoch: latest.epoch })
    expect(older).toEqual({
      epoch: latest.epoch,
      offset: 5,
      messages: [{ epoch: latest.epoch, offset: 4, data: { n: 4 } }],
    })
    // The window keeps 3 (3..5): before 4 there is 3 alone, before 3 nothing.
    const rest = await ask('3', { channel: 'chat:b', limit: 10, before: 4, epoch: latest.epoch })
    expect(rest.messages.map((m) => m.offset)).toEqual([3])
    expect(
      (await ask('4', { channel: 'chat:b', limit: 10, before: 3, epoch: latest.epoch })).messages,
    ).toEqual([])
    // Another epoch's offsets name other messages: nothing, and the channel's epoch to start over.
    const stale = await ask('5', { channel: 'chat:b', limit: 10, before: 5, epoch: 'old-epoch' })
    expect(stale).toEqual({ epoch: latest.epoch, offset: 5, messages: [] })
  })

  it('refuses bad input, forbidden channels and channels without history', async () => {
    const { url } = await setup()
    const c = await connect(url)
    const ask = async (id: string, data: unknown) => {
      c.send({ type: 'request', id, event: '$history', data })
      return c.next('reply', (r) => r.id === id)
    }
    expect(await ask('1', { channel: 'a b' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    })
    expect(await ask('2', null)).toMatchObject({ ok: false, error: { code: 'invalid_payload' } })
    expect(await ask('3', { channel: 'chat:a', limit: -1 })).toMatchObject({
      error: { code: 'invalid_payload' },
    })
    // `before` needs its epoch, and both must be well formed.
    for (const [id, page] of [
      ['b1', { before: 3 }],
      ['b2', { epoch: 'e' }],
      ['b3', { before: -1, epoch: 'e' }],
      ['b4', { before: 1.5, epoch: 'e' }],
      ['b5', { before: 2, epoch: 7 }],
    ] as const) {
      expect(await ask(id, { channel: 'chat:a', ...page })).toMatchObject({
        ok: false,
        error: { code: 'invalid_payload' },
      })
    }
    expect(await ask('4', { channel: 'chat:secret' })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    })
    expect(await ask('5', { channel: 'live:x' })).toMatchObject({ ok: false, error: { code: 'forbidden' } })
  })

  it('cannot be overridden by an application handler', async () => {
    const { sb } = await setup()
    expect(() => sb.handle('$history', () => 1)).toThrow(/reserved/)
  })
})

describe('$presence', () => {
  it('lists members per user with their connections, and counts connections and users', async () => {
    const { sb, url } = await setup()
    sb.on('connection', (conn) => {
      conn.data = { name: sb.connections.size % 2 === 0 ? 'ada' : 'bob' }
    })
    const clients = [await connect(url), await connect(url), await connect(url)]
    for (const [i, c] of clients.entries()) {
      c.send({ type: 'subscribe', id: `s${i}`, channel: 'chat:room' })
      await c.next('reply')
    }
    clients[0]!.send({ type: 'request', id: 'p', event: '$presence', data: { channel: 'chat:room' } })
    const reply = (await clients[0]!.next('reply', (r) => r.id === 'p')) as unknown as {
      data: { members: Array<{ userId: string; connections: number }>; users: number; connections: number }
    }
    expect(reply.data.members.map((m) => [m.userId, m.connections]).sort()).toEqual([
      ['ada', 1],
      ['bob', 2],
    ])
    expect(reply.data).toMatchObject({ connections: 3, users: 2 })
    // Counts only: no list.
    clients[0]!.send({
      type: 'request',
      id: 'c',
      event: '$presence',
      data: { channel: 'chat:room', counts: true },
    })
    expect(await clients[0]!.next('reply', (r) => r.id === 'c')).toEqual({
      type: 'reply',
      id: 'c',
      ok: true,
      data: { connections: 3, users: 2 },
    })
    clients[0]!.send({
      type: 'request',
      id: 'b',
      event: '$presence',
      data: { channel: 'chat:room', counts: 'yes' },
    })
    expect(await clients[0]!.next('reply', (r) => r.id === 'b')).toMatchObject({
      error: { code: 'invalid_payload' },
    })
    clients[0]!.send({ type: 'request', id: 'q', event: '$presence', data: { channel: 'live:x' } })
    expect(await clients[0]!.next('reply', (r) => r.id === 'q')).toMatchObject({
      error: { code: 'forbidden' },
    })
  })
})
