/**
 * The Broker contract, presence: stored per connection, told per user. A user joins with its
 * first connection and leaves with its last, after the grace window given to `remove` (a
 * connection of it coming back meanwhile cancels the leave); every change carries the channel's
 * counts; `update` replaces a user's info; bytes in info survive.
 */
import type { PresenceMember, PresenceUser } from '@switchboard/protocol'
import { describe, expect, it } from 'vitest'
import type { Broker, BrokerEvent } from '../broker.js'
import { ALL_BYTES, type ContractKit, flush, showBytes } from './contract-kit.js'

const ada: PresenceMember = { userId: 'ada', connectionId: 'c1', info: { device: 'laptop' } }
const ada2: PresenceMember = { userId: 'ada', connectionId: 'c2' }
const bob: PresenceMember = { userId: 'bob', connectionId: 'c3' }

const byConn = (ms: PresenceMember[]) => [...ms].sort((x, y) => x.connectionId.localeCompare(y.connectionId))
const byUser = (us: PresenceUser[]) => [...us].sort((x, y) => x.userId.localeCompare(y.userId))
/** The events as `action user connections/users`, for short expectations. */
const brief = (events: BrokerEvent[]) =>
  events.map((e) =>
    e.kind === 'presence'
      ? `${e.action} ${e.user ? `${e.user.userId}:${e.user.connections}` : '-'} ${e.counts.connections}/${e.counts.users}`
      : e.kind,
  )
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function presenceContract<B extends Broker>(kit: ContractKit<B>): void {
  const { broker, listen } = kit
  describe('presence', () => {
    it('lists connections one each, users once each with their connection count, and counts both', async () => {
      const b = await broker()
      expect(await b.presence.list('room')).toEqual([])
      expect(await b.presence.users('room')).toEqual([])
      expect(await b.presence.counts('room')).toEqual({ connections: 0, users: 0 })
      await b.presence.add('room', ada)
      await b.presence.add('room', ada2)
      await b.presence.add('room', bob)
      expect(byConn(await b.presence.list('room'))).toEqual([ada, ada2, bob])
      expect(byUser(await b.presence.users('room'))).toEqual([
        { userId: 'ada', info: { device: 'laptop' }, connections: 2 },
        { userId: 'bob', connections: 1 },
      ])
      expect(await b.presence.counts('room')).toEqual({ connections: 3, users: 2 })
      await b.presence.remove('room', 'c1')
      expect(byConn(await b.presence.list('room'))).toEqual([ada2, bob])
      expect(await b.presence.counts('room')).toEqual({ connections: 2, users: 2 })
      expect(await b.presence.list('other-room')).toEqual([])
    })

    it('a user joins with its first connection and leaves with its last; the others are counts', async () => {
      const b = await broker()
      const events = await listen(b, 'room2')
      await b.presence.add('room2', ada)
      await b.presence.add('room2', ada2)
      await b.presence.remove('room2', ada.connectionId)
      await b.presence.remove('room2', ada2.connectionId)
      await flush()
      expect(brief(events)).toEqual([
        'join ada:1 1/1',
        'count ada:2 2/1',
        'count ada:1 1/1',
        'leave ada:0 0/0',
      ])
      expect(events[0]).toEqual({
        kind: 'presence',
        channel: 'room2',
        action: 'join',
        user: { userId: 'ada', info: { device: 'laptop' }, connections: 1 },
        counts: { connections: 1, users: 1 },
      })
    })

    it('after its last connection a user stays for the grace window; coming back inside it is no leave and no join', async () => {
      const b = await broker()
      const events = await listen(b, 'room-grace')
      await b.presence.add('room-grace', ada)
      await b.presence.remove('room-grace', ada.connectionId, { graceMs: 300 })
      expect(await b.presence.users('room-grace')).toEqual([
        { userId: 'ada', info: { device: 'laptop' }, connections: 0 },
      ])
      expect(await b.presence.counts('room-grace')).toEqual({ connections: 0, users: 1 })
      await b.presence.add('room-grace', ada2)
      await sleep(450)
      expect(brief(events)).toEqual(['join ada:1 1/1', 'count - 0/1', 'count ada:1 1/1'])
      // Gone for good: the leave comes once the window has passed.
      await b.presence.remove('room-grace', ada2.connectionId, { graceMs: 150 })
      await flush()
      expect(brief(events).slice(3)).toEqual(['count - 0/1'])
      await sleep(400)
      expect(brief(events).slice(3)).toEqual(['count - 0/1', 'leave ada:0 0/0'])
      expect(await b.presence.users('room-grace')).toEqual([])
    })

    it('update replaces the user’s info, told as an update; a connection that is not there is false', async () => {
      const b = await broker()
      const events = await listen(b, 'room-up')
      await b.presence.add('room-up', ada)
      await b.presence.add('room-up', ada2)
      expect(await b.presence.update('room-up', ada2.connectionId, { device: 'phone', away: true })).toBe(
        true,
      )
      expect(await b.presence.update('room-up', 'nobody', 1)).toBe(false)
      expect(await b.presence.update('never-seen', 'nobody', 1)).toBe(false)
      await flush()
      expect(brief(events)).toEqual(['join ada:1 1/1', 'count ada:2 2/1', 'update ada:2 2/1'])
      expect(events[2]).toMatchObject({ user: { userId: 'ada', info: { device: 'phone', away: true } } })
      expect(await b.presence.users('room-up')).toEqual([
        { userId: 'ada', info: { device: 'phone', away: true }, connections: 2 },
      ])
    })

    it('keeps bytes in a member’s info, in the lists and in the events', async () => {
      const b = await broker()
      const events = await listen(b, 'room-bytes')
      const cy: PresenceMember = {
        userId: 'cy',
        connectionId: 'c4',
        info: {
          avatar: ALL_BYTES,
          keys: [Uint8Array.of(1), new Uint8Array(0)],
          raw: Uint8Array.of(5).buffer,
        },
      }
      await b.presence.add('room-bytes', cy)
      expect((await b.presence.list('room-bytes')).map(showBytes)).toEqual([showBytes(cy)])
      const user = { userId: 'cy', info: cy.info, connections: 1 }
      expect((await b.presence.users('room-bytes')).map(showBytes)).toEqual([showBytes(user)])
      await b.presence.remove('room-bytes', cy.connectionId)
      await flush()
      expect(events.map((e) => e.kind === 'presence' && showBytes(e.user?.info))).toEqual([
        showBytes(cy.info),
        showBytes(cy.info),
      ])
    })

    it('removing someone who is not there is a no-op, without an event', async () => {
      const b = await broker()
      const events = await listen(b, 'room3')
      await b.presence.remove('room3', 'nobody')
      await b.presence.remove('never-seen', 'nobody', { graceMs: 10 })
      await flush()
      expect(events).toEqual([])
    })

    it('presence does not move the channel’s offsets', async () => {
      const b = await broker()
      const before = await b.position('h-room')
      await b.presence.add('h-room', bob)
      await b.presence.remove('h-room', bob.connectionId)
      expect(await b.position('h-room')).toEqual(before)
    })
  })
}
