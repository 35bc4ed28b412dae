// Presence against a real server and real clients: members per user (a user with several
// connections is one member), coalesced presence frames (a window's joins, leaves and updates in
// one frame per subscriber), 'counts' channels (counts only, no list), the leave grace window (a
// reconnect inside it is neither a leave nor a join), presence_update, and a dead connection
// dropped by the heartbeat.
import { SwitchboardClient } from '@switchboard/client'
import type { PresenceFrame, PresenceUser, ServerFrame } from '@switchboard/protocol'
import { serverFixture, type TestClient, until } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'

const fixture = serverFixture({
  channels: {
    'room:*': { presence: { window: 50, grace: 0, clientUpdate: true } },
    'wave:*': { presence: { window: 400, grace: 0 } },
    'big:*': { presence: { mode: 'counts', window: 50, grace: 0 } },
    'grace:*': { presence: { window: 20, grace: 400 } },
    'fixed:*': { presence: true },
  },
  authenticate: (req) => {
    const q = new URL(req.url ?? '', 'http://x').searchParams
    return { user: q.get('user') ?? 'anon', device: q.get('device') ?? 'web' }
  },
  presence: (conn) => {
    const data = conn.data as { user: string; device: string }
    return { userId: data.user, info: { device: data.device } }
  },
})
const { onCleanup } = fixture

async function setup(options: Parameters<typeof fixture.setup>[0] = {}) {
  const server = await fixture.setup(options)
  const client = (user: string, device = 'web') => server.client(`?user=${user}&device=${device}`)
  return { ...server, client }
}

type Reply = Extract<ServerFrame, { type: 'reply' }>
async function ask(c: TestClient, frame: Record<string, unknown>): Promise<Reply> {
  const id = `q${Math.random()}`
  c.send({ ...frame, id })
  return c.next('reply', (r) => r.id === id)
}
interface Joined {
  members?: PresenceUser[]
  counts?: { connections: number; users: number }
}
async function join(c: TestClient, channel: string): Promise<Joined> {
  const reply = await ask(c, { type: 'subscribe', channel })
  if (!reply.ok) throw new Error(reply.error.message)
  return reply.data as unknown as Joined
}
/**
 * Joins a channel nobody else is joining right now, and takes the presence frame of its own join
 * (presence frames go to every subscriber, the joiner too).
 */
async function joinAlone(c: TestClient, channel: string): Promise<Joined> {
  const joined = await join(c, channel)
  await c.next('presence')
  return joined
}
const presences = (c: TestClient) => c.frames.filter((f): f is PresenceFrame => f.type === 'presence')
const ids = (users: PresenceUser[] | undefined) => (users ?? []).map((u) => u.userId).sort()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('presence: members', () => {
  it('the subscribe reply lists users and counts; joins and leaves reach every subscriber in presence frames', async () => {
    const { client } = await setup()
    const ada = await client('ada', 'laptop')
    const bob = await client('bob', 'phone')
    expect(await joinAlone(ada, 'room:1')).toMatchObject({
      members: [{ userId: 'ada', connections: 1, info: { device: 'laptop' } }],
      counts: { connections: 1, users: 1 },
    })
    const joined = await join(bob, 'room:1')
    expect(ids(joined.members)).toEqual(['ada', 'bob'])
    expect(joined.counts).toEqual({ connections: 2, users: 2 })
    expect(await ada.next('presence')).toEqual({
      type: 'presence',
      channel: 'room:1',
      joins: [{ userId: 'bob', connections: 1, info: { device: 'phone' } }],
      counts: { connections: 2, users: 2 },
    })
    // The frame goes to every subscriber, the joiner too (it is already in its reply's list).
    expect(await bob.next('presence')).toMatchObject({ joins: [{ userId: 'bob' }] })

    await ask(bob, { type: 'unsubscribe', channel: 'room:1' })
    expect(await ada.next('presence')).toMatchObject({
      leaves: [{ userId: 'bob', connections: 0 }],
      counts: { connections: 1, users: 1 },
    })
    await join(bob, 'room:1')
    expect(await ada.next('presence')).toMatchObject({ joins: [{ userId: 'bob' }] })
    bob.ws.close()
    expect(await ada.next('presence')).toMatchObject({ leaves: [{ userId: 'bob' }] })
  })

  it('a user with several connections is one member: one join, counts of its connections, a leave with the last', async () => {
    const { sb, client } = await setup()
    const watcher = await client('carol')
    await joinAlone(watcher, 'room:multi')
    const laptop = await client('ada', 'laptop')
    const phone = await client('ada', 'phone')
    await join(laptop, 'room:multi')
    expect(await watcher.next('presence')).toMatchObject({ joins: [{ userId: 'ada', connections: 1 }] })
    const members = (await join(phone, 'room:multi')).members ?? []
    expect(members.find((m) => m.userId === 'ada')).toEqual({
      userId: 'ada',
      connections: 2,
      info: { device: 'laptop' },
    })
    // The second connection is no join: the member is updated with its connection count.
    expect(await watcher.next('presence')).toEqual({
      type: 'presence',
      channel: 'room:multi',
      updates: [{ userId: 'ada', connections: 2, info: { device: 'laptop' } }],
      counts: { connections: 3, users: 2 },
    })
    laptop.ws.close()
    expect(await watcher.next('presence')).toEqual({
      type: 'presence',
      channel: 'room:multi',
      updates: [{ userId: 'ada', connections: 1, info: { device: 'laptop' } }],
      counts: { connections: 2, users: 2 },
    })
    expect(await sb.broker.presence.users('room:multi')).toContainEqual({
      userId: 'ada',
      connections: 1,
      info: { device: 'laptop' },
    })
    phone.ws.close()
    expect(await watcher.next('presence')).toMatchObject({
      leaves: [{ userId: 'ada', connections: 0 }],
      counts: { connections: 1, users: 1 },
    })
    expect(presences(watcher).flatMap((f) => ids(f.joins))).toEqual(['carol', 'ada'])
  })

  it('a join wave inside one window reaches each subscriber as one frame with every join', async () => {
    const { client } = await setup()
    const watcher = await client('watcher')
    await joinAlone(watcher, 'wave:1')
    const crowd = await Promise.all(Array.from({ length: 30 }, (_, i) => client(`u${i}`)))
    const replies = crowd.map((c) => join(c, 'wave:1'))
    await Promise.all(replies)
    const frame = await watcher.next('presence')
    expect(ids(frame.joins)).toEqual(crowd.map((_, i) => `u${i}`).sort())
    expect(frame.counts).toEqual({ connections: 31, users: 31 })
    await sleep(600)
    // One frame for the whole wave, per subscriber: 31 frames, not 30 × 31 / 2 (the watcher's
    // first frame was its own join).
    expect(presences(watcher)).toHaveLength(2)
    const total = crowd.reduce((n, c) => n + presences(c).length, presences(watcher).length - 1)
    expect(total).toBe(31)
  })

  it('a join then a leave of one user inside a window is sent as its latest state: a leave', async () => {
    const { client } = await setup()
    const watcher = await client('watcher')
    await joinAlone(watcher, 'wave:2')
    const flash = await client('flash')
    await join(flash, 'wave:2')
    await ask(flash, { type: 'unsubscribe', channel: 'wave:2' })
    const frame = await watcher.next('presence')
    // The counts are back where they were at the last frame: they are not sent again.
    expect(frame).toEqual({
      type: 'presence',
      channel: 'wave:2',
      leaves: [{ userId: 'flash', connections: 0, info: { device: 'web' } }],
    })
  })

  it('a channel without presence has no members and sends no presence frames', async () => {
    const { client } = await setup()
    const a = await client('ada')
    const b = await client('bob')
    for (const c of [a, b]) expect(await join(c, 'plain')).not.toHaveProperty('members')
    b.ws.close()
    await sleep(100)
    expect(presences(a)).toEqual([])
  })
})

describe("presence: 'counts'", () => {
  it('no member list and no joins or leaves: the counts, in the reply and at most once per window', async () => {
    const { client } = await setup()
    const watcher = await client('watcher')
    expect(await join(watcher, 'big:1')).toEqual({
      epoch: expect.any(String),
      offset: 0,
      counts: { connections: 1, users: 1 },
    })
    const crowd = await Promise.all(Array.from({ length: 10 }, (_, i) => client(`u${i % 5}`)))
    await Promise.all(crowd.map((c) => join(c, 'big:1')))
    await until(() => presences(watcher).at(-1)?.counts?.connections === 11, 3000, 'the counts')
    expect(presences(watcher).at(-1)?.counts).toEqual({ connections: 11, users: 6 })
    for (const c of crowd) c.ws.close()
    await until(() => presences(watcher).at(-1)?.counts?.connections === 1, 3000, 'the counts after')
    expect(presences(watcher).at(-1)?.counts).toEqual({ connections: 1, users: 1 })
    for (const f of presences(watcher)) expect(Object.keys(f).sort()).toEqual(['channel', 'counts', 'type'])
    // $presence on a counts channel is counts only.
    const answer = await ask(watcher, { type: 'request', event: '$presence', data: { channel: 'big:1' } })
    expect(answer).toMatchObject({ ok: true, data: { connections: 1, users: 1 } })
    expect(answer.ok && answer.data).not.toHaveProperty('members')
  })
})

describe('presence: the leave grace window', () => {
  it('a user whose last connection closes stays for the window; reconnecting inside it is no leave and no join', async () => {
    const { client } = await setup()
    const watcher = await client('watcher')
    await joinAlone(watcher, 'grace:1')
    const first = await client('ada')
    await join(first, 'grace:1')
    expect(await watcher.next('presence')).toMatchObject({ joins: [{ userId: 'ada' }] })
    first.ws.close()
    await until(() => presences(watcher).length === 3, 3000, 'the counts of the close')
    expect(presences(watcher)[2]).toEqual({
      type: 'presence',
      channel: 'grace:1',
      counts: { connections: 1, users: 2 },
    })
    // The page comes back inside the window.
    await sleep(150)
    const second = await client('ada')
    const { members } = await join(second, 'grace:1')
    expect(members).toContainEqual({ userId: 'ada', connections: 1, info: { device: 'web' } })
    await sleep(600)
    expect(presences(watcher).flatMap((f) => [...ids(f.joins), ...ids(f.leaves)])).toEqual(['watcher', 'ada'])
    // Gone for good: the leave comes once the window has passed, not before.
    const closedAt = Date.now()
    second.ws.close()
    const leave = await watcher.next('presence', (f) => (f.leaves?.length ?? 0) > 0)
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(380)
    expect(leave).toMatchObject({ leaves: [{ userId: 'ada' }], counts: { connections: 1, users: 1 } })
  })

  it('an unsubscribe leaves at once, grace window or not', async () => {
    const { client } = await setup()
    const watcher = await client('watcher')
    await joinAlone(watcher, 'grace:2')
    const ada = await client('ada')
    await join(ada, 'grace:2')
    const sentAt = Date.now()
    await ask(ada, { type: 'unsubscribe', channel: 'grace:2' })
    await watcher.next('presence', (f) => (f.leaves?.length ?? 0) > 0)
    expect(Date.now() - sentAt).toBeLessThan(350)
  })
})

describe('presence: presence_update', () => {
  it('replaces a member’s info; the others see it in an update', async () => {
    const { client } = await setup()
    const ada = await client('ada', 'laptop')
    const bob = await client('bob')
    await joinAlone(ada, 'room:up')
    await join(bob, 'room:up')
    await ada.next('presence')
    expect(await ask(ada, { type: 'presence_update', channel: 'room:up', info: { status: 'away' } })).toEqual(
      {
        type: 'reply',
        id: expect.any(String),
        ok: true,
      },
    )
    expect(await bob.next('presence', (f) => f.updates !== undefined)).toEqual({
      type: 'presence',
      channel: 'room:up',
      updates: [{ userId: 'ada', connections: 1, info: { status: 'away' } }],
    })
    const answer = await ask(bob, { type: 'request', event: '$presence', data: { channel: 'room:up' } })
    expect(answer.ok && answer.data).toMatchObject({
      connections: 2,
      users: 2,
      members: expect.arrayContaining([{ userId: 'ada', connections: 1, info: { status: 'away' } }]),
    })
  })

  it('refused where the channel does not allow it, and where the client is not subscribed', async () => {
    const { client } = await setup()
    const ada = await client('ada')
    await join(ada, 'fixed:1')
    const forbidden = await ask(ada, { type: 'presence_update', channel: 'fixed:1', info: 1 })
    expect(forbidden).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    const notThere = await ask(ada, { type: 'presence_update', channel: 'room:elsewhere', info: 1 })
    expect(notThere).toMatchObject({ ok: false, error: { code: 'not_subscribed' } })
  })

  it('the SDK: Channel.members per user, presenceCounts, and updatePresence seen by another client', async () => {
    const { url } = await setup()
    const make = (user: string) => {
      const c = new SwitchboardClient(`${url}?user=${user}`, { backoff: () => 20 })
      onCleanup(() => c.close())
      return c
    }
    const a = make('ada')
    const room = a.channel('room:client')
    await new Promise((resolve) => room.once('subscribed', resolve))
    const b1 = make('bob')
    const b2 = make('bob')
    const bobRoom = b1.channel('room:client')
    b2.channel('room:client')
    await until(() => room.presenceCounts?.connections === 3, 3000, 'three connections')
    expect(room.members.map((m) => m.userId).sort()).toEqual(['ada', 'bob'])
    expect(room.presenceCounts).toEqual({ connections: 3, users: 2 })
    await until(() => bobRoom.state === 'subscribed', 3000, 'bob subscribed')
    await bobRoom.updatePresence({ mood: 'happy' })
    const mood = () =>
      (room.members.find((m) => m.userId === 'bob')?.info as { mood?: string } | undefined)?.mood
    await until(() => mood() === 'happy', 3000, 'the update')
    expect(room.members.find((m) => m.userId === 'bob')).toMatchObject({ info: { mood: 'happy' } })
    b1.close()
    await until(() => room.presenceCounts?.connections === 2, 3000, 'two connections')
    expect(room.members.map((m) => m.userId).sort()).toEqual(['ada', 'bob'])
    b2.close()
    await until(() => room.members.length === 1, 3000, 'bob gone')
  })
})

describe('presence: dead connections', () => {
  it('a connection that stops answering pings leaves within two heartbeats', async () => {
    const HEARTBEAT = 300
    const { sb, url, client } = await setup({ heartbeat: HEARTBEAT })
    const watcher = await client('watcher')
    await joinAlone(watcher, 'room:dead')
    // A peer that never answers pings and sends nothing after its subscribe.
    const dead = new WebSocket(`${url}?user=ghost`, 'switchboard.v1', { autoPong: false })
    onCleanup(() => dead.terminate())
    dead.on('error', () => {})
    let lastSent = 0
    const pings: number[] = []
    dead.on('ping', () => pings.push(Date.now()))
    await new Promise<void>((resolve) =>
      dead.on('message', (data) => {
        const f = JSON.parse(String(data)) as { type: string }
        if (f.type === 'hello') {
          lastSent = Date.now()
          dead.send(JSON.stringify({ type: 'subscribe', id: 'd', channel: 'room:dead' }))
        }
        if (f.type === 'reply') resolve()
      }),
    )
    expect(await watcher.next('presence')).toMatchObject({ joins: [{ userId: 'ghost' }] })
    const codes: number[] = []
    sb.on('disconnect', (_c, { code }) => codes.push(code))
    const left = await watcher.next('presence', (f) => (f.leaves?.length ?? 0) > 0)
    const elapsed = Date.now() - lastSent
    expect(left.leaves).toEqual([{ userId: 'ghost', connections: 0, info: { device: 'web' } }])
    expect(codes).toEqual([4102])
    expect(pings.length).toBeGreaterThanOrEqual(1)
    // Last sign of life, then at most two interval ticks, the presence window (50 ms) and
    // scheduling slack on a busy machine.
    expect(elapsed).toBeLessThanOrEqual(2 * HEARTBEAT + 250)
    expect(await sb.broker.presence.list('room:dead')).toEqual([
      expect.objectContaining({ userId: 'watcher' }),
    ])
    expect(watcher.ws.readyState).toBe(WebSocket.OPEN)
  })
})
