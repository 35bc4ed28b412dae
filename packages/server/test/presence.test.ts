// Presence: who is in a channel, as members (user id, connection id, info) with join and leave
// frames. A member is one connection; a user with several connections is several members of the
// same user, and counts once in the distinct-user view. A dead connection (it stops answering
// pings) is dropped by the heartbeat, and its member leaves within two heartbeat intervals.
import { SwitchboardClient } from '@switchboard/client'
import type { PresenceFrame, PresenceMember } from '@switchboard/protocol'
import { serverFixture, type TestClient, until } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'

const fixture = serverFixture({
  channels: { 'room:*': { presence: true } },
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
async function join(c: TestClient, channel: string): Promise<PresenceMember[]> {
  const id = `j${Math.random()}`
  c.send({ type: 'subscribe', id, channel })
  const reply = await c.next('reply', (r) => r.id === id)
  if (!reply.ok) throw new Error(reply.error.message)
  return (reply.data as unknown as { members: PresenceMember[] }).members
}

const connectionIdOf = (c: TestClient) => (c.frames[0]?.type === 'hello' ? c.frames[0].connectionId : '')

/** The distinct-user view of a member list: each user once, with how many connections it has. */
function users(members: PresenceMember[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const m of members) out.set(m.userId, (out.get(m.userId) ?? 0) + 1)
  return out
}

describe('presence', () => {
  it('members carry the user id, the connection id and info; join and leave go to the others', async () => {
    const { client } = await setup()
    const ada = await client('ada', 'laptop')
    const bob = await client('bob', 'phone')
    expect(await join(ada, 'room:1')).toEqual([
      { userId: 'ada', connectionId: connectionIdOf(ada), info: { device: 'laptop' } },
    ])
    const members = await join(bob, 'room:1')
    expect(members).toHaveLength(2)
    expect(members).toContainEqual({
      userId: 'bob',
      connectionId: connectionIdOf(bob),
      info: { device: 'phone' },
    })
    expect(await ada.next('presence')).toEqual({
      type: 'presence',
      channel: 'room:1',
      action: 'join',
      member: { userId: 'bob', connectionId: connectionIdOf(bob), info: { device: 'phone' } },
    })
    // The joining connection does not get its own join frame.
    expect(bob.frames.filter((f) => f.type === 'presence')).toEqual([])

    bob.send({ type: 'unsubscribe', id: 'u', channel: 'room:1' })
    expect(await ada.next('presence')).toMatchObject({ action: 'leave', member: { userId: 'bob' } })
    await join(bob, 'room:1')
    expect(await ada.next('presence')).toMatchObject({ action: 'join', member: { userId: 'bob' } })
    bob.ws.close()
    expect(await ada.next('presence')).toMatchObject({ action: 'leave', member: { userId: 'bob' } })
  })

  it('a user with several connections: one member per connection, counted once as a user', async () => {
    const { sb, client } = await setup()
    const watcher = await client('carol')
    await join(watcher, 'room:multi')
    const laptop = await client('ada', 'laptop')
    const phone = await client('ada', 'phone')
    await join(laptop, 'room:multi')
    const members = await join(phone, 'room:multi')
    expect(members).toHaveLength(3)
    expect(users(members)).toEqual(
      new Map([
        ['carol', 1],
        ['ada', 2],
      ]),
    )
    expect(new Set(members.map((m) => m.connectionId)).size).toBe(3)
    // The watcher saw two joins of the same user, told apart by connection id.
    const joins = [await watcher.next('presence'), await watcher.next('presence')]
    expect(joins.map((j) => j.member.userId)).toEqual(['ada', 'ada'])
    expect(new Set(joins.map((j) => j.member.connectionId)).size).toBe(2)

    // One of ada's connections goes: a leave for that connection; ada is still there as a user.
    laptop.ws.close()
    const leave = await watcher.next('presence')
    expect(leave).toMatchObject({
      action: 'leave',
      member: { userId: 'ada', connectionId: connectionIdOf(laptop) },
    })
    const now = await sb.broker.presence.list('room:multi')
    expect(users(now)).toEqual(
      new Map([
        ['carol', 1],
        ['ada', 1],
      ]),
    )
  })

  it('a channel without presence has no members and sends no presence frames', async () => {
    const { client } = await setup()
    const a = await client('ada')
    const b = await client('bob')
    for (const c of [a, b]) {
      c.send({ type: 'subscribe', id: 's', channel: 'plain' })
      const reply = await c.next('reply')
      expect(reply.ok && (reply.data as { members?: unknown }).members).toBeUndefined()
    }
    b.ws.close()
    await new Promise((r) => setTimeout(r, 50))
    expect(a.frames.filter((f) => f.type === 'presence')).toEqual([])
  })

  it('the real client keeps Channel.members per connection, in step with joins and leaves', async () => {
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
    b1.channel('room:client')
    b2.channel('room:client')
    await until(() => room.members.length === 3)
    expect(users(room.members)).toEqual(
      new Map([
        ['ada', 1],
        ['bob', 2],
      ]),
    )
    b1.close()
    await until(() => room.members.length === 2)
    expect([...users(room.members).keys()].sort()).toEqual(['ada', 'bob'])
  })

  it('a connection that stops answering pings leaves within two heartbeats', async () => {
    const HEARTBEAT = 300
    const { sb, url, client } = await setup({ heartbeat: HEARTBEAT })
    const watcher = await client('watcher')
    await join(watcher, 'room:dead')
    // A peer that never answers pings and sends nothing after its subscribe.
    const dead = new WebSocket(`${url}?user=ghost`, 'switchboard.v1', { autoPong: false })
    onCleanup(() => dead.terminate())
    dead.on('error', () => {})
    let helloAt = 0
    let lastSent = 0
    const pings: number[] = []
    dead.on('ping', () => pings.push(Date.now()))
    await new Promise<void>((resolve) =>
      dead.on('message', (data) => {
        const f = JSON.parse(String(data)) as { type: string }
        if (f.type === 'hello') {
          helloAt = Date.now()
          lastSent = Date.now()
          dead.send(JSON.stringify({ type: 'subscribe', id: 'd', channel: 'room:dead' }))
        }
        if (f.type === 'reply') resolve()
      }),
    )
    expect(helloAt).toBeGreaterThan(0)
    const joined = await watcher.next('presence')
    expect(joined).toMatchObject({ action: 'join', member: { userId: 'ghost' } })
    const codes: number[] = []
    sb.on('disconnect', (_c, { code }) => codes.push(code))

    const left: PresenceFrame = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the dead member never left')), 10 * HEARTBEAT)
      const look = () => {
        const f = watcher.frames.find((x) => x.type === 'presence' && x.action === 'leave')
        if (f) {
          clearTimeout(timer)
          resolve(f as PresenceFrame)
        } else setTimeout(look, 5)
      }
      look()
    })
    const elapsed = Date.now() - lastSent
    expect(left.member).toEqual(joined.member)
    expect(codes).toEqual([4102])
    expect(pings.length).toBeGreaterThanOrEqual(1)
    // Last sign of life, then at most two interval ticks (plus scheduling slack on a busy machine).
    expect(elapsed).toBeLessThanOrEqual(2 * HEARTBEAT + 200)
    expect(await sb.broker.presence.list('room:dead')).toEqual([
      expect.objectContaining({ userId: 'watcher' }),
    ])
    // The live watcher was not dropped meanwhile.
    expect(watcher.ws.readyState).toBe(WebSocket.OPEN)
  })
})
