/**
 * The Broker contract, the user index (`broker.users`): each user's connections with their node,
 * transport, address and age; `first` and `last` decided once however many adds and removes race;
 * a per-user limit that holds under concurrent adds, refusing or evicting the oldest.
 */
import { describe, expect, it } from 'vitest'
import type { Broker } from '../broker.js'
import type { ContractKit } from './contract-kit.js'

export function usersContract<B extends Broker>(kit: ContractKit<B>): void {
  const { broker, advance } = kit
  const web = { transport: 'websocket', remoteAddress: '10.0.0.1' }
  const ids = (list: Array<{ connectionId: string }>) => list.map((c) => c.connectionId)

  describe('users: the user index', () => {
    it('adds, lists (oldest first, with node, transport, address, since), counts and removes', async () => {
      const b = await broker()
      expect(await b.users.count('ada')).toBe(0)
      expect(await b.users.list('ada')).toEqual([])
      expect(await b.users.add('ada', 'c1', web)).toEqual({ added: true, first: true, evicted: [] })
      advance(10)
      expect(await b.users.add('ada', 'c2', { transport: 'sse' })).toEqual({
        added: true,
        first: false,
        evicted: [],
      })
      await b.users.add('bob', 'c3', web)
      const list = await b.users.list('ada')
      expect(ids(list)).toEqual(['c1', 'c2'])
      const node = b.nodeId === undefined ? {} : { node: b.nodeId }
      expect(list[0]).toEqual({
        connectionId: 'c1',
        ...node,
        transport: 'websocket',
        remoteAddress: '10.0.0.1',
        since: expect.any(Number),
      })
      expect(list[1]).toEqual({ connectionId: 'c2', ...node, transport: 'sse', since: list[0]!.since + 10 })
      expect(await b.users.count('ada')).toBe(2)
      expect(await b.users.count('bob')).toBe(1)
      expect(await b.users.remove('c1')).toEqual({ removed: true, last: false, user: 'ada' })
      expect(await b.users.remove('c2')).toEqual({ removed: true, last: true, user: 'ada' })
      expect(await b.users.count('ada')).toBe(0)
      expect(await b.users.list('ada')).toEqual([])
      expect(ids(await b.users.list('bob'))).toEqual(['c3'])
    })

    it('removing an unknown connection, or one twice, is a no-op', async () => {
      const b = await broker()
      expect(await b.users.remove('nobody')).toEqual({ removed: false, last: false })
      await b.users.add('ada', 'c1', web)
      await b.users.remove('c1')
      expect(await b.users.remove('c1')).toEqual({ removed: false, last: false })
    })

    it('adding a connection again replaces its info and keeps its age', async () => {
      const b = await broker()
      await b.users.add('ada', 'c1', web)
      const [before] = await b.users.list('ada')
      advance(50)
      expect(await b.users.add('ada', 'c1', { transport: 'long-polling' })).toEqual({
        added: true,
        first: false,
        evicted: [],
      })
      const node = b.nodeId === undefined ? {} : { node: b.nodeId }
      expect(await b.users.list('ada')).toEqual([
        { connectionId: 'c1', ...node, transport: 'long-polling', since: before!.since },
      ])
      expect(await b.users.count('ada')).toBe(1)
    })

    it('user names are kept apart whatever they hold (braces, colons, newlines, unicode)', async () => {
      const b = await broker()
      const names = ['a', 'a}', '{a}', 'a:b', 'a\nb', 'é✓', '', 'a%7D']
      for (const [i, name] of names.entries()) await b.users.add(name, `c${i}`, web)
      for (const [i, name] of names.entries()) expect(ids(await b.users.list(name))).toEqual([`c${i}`])
      for (const [i] of names.entries()) expect((await b.users.remove(`c${i}`)).last).toBe(true)
    })

    it('first and last are each reported once when adds and removes race', async () => {
      const b = await broker()
      const adds = await Promise.all(Array.from({ length: 8 }, (_, i) => b.users.add('ada', `r${i}`, web)))
      expect(adds.filter((a) => a.added && a.first)).toHaveLength(1)
      const removes = await Promise.all(Array.from({ length: 8 }, (_, i) => b.users.remove(`r${i}`)))
      expect(removes.filter((r) => r.last)).toHaveLength(1)
      expect(removes.every((r) => r.removed)).toBe(true)
    })

    it('limit with refuse: the add past it is refused and changes nothing, also when adds race', async () => {
      const b = await broker()
      const limit = { limit: 2, policy: 'refuse' } as const
      await b.users.add('ada', 'c1', web, limit)
      await b.users.add('ada', 'c2', web, limit)
      expect(await b.users.add('ada', 'c3', web, limit)).toEqual({ added: false, count: 2 })
      expect(ids(await b.users.list('ada'))).toEqual(['c1', 'c2'])
      // Without a policy, refuse is the default; an add within the limit is not refused.
      expect(await b.users.add('ada', 'c4', web, { limit: 2 })).toEqual({ added: false, count: 2 })
      expect((await b.users.add('ada', 'c5', web, { limit: 3 })).added).toBe(true)
      const racing = await Promise.all(
        Array.from({ length: 10 }, (_, i) => b.users.add('bob', `b${i}`, web, { limit: 3 })),
      )
      expect(racing.filter((r) => r.added)).toHaveLength(3)
      expect(await b.users.count('bob')).toBe(3)
    })

    it('limit with closeOldest: the oldest entries make room and are reported, also when adds race', async () => {
      const b = await broker()
      const limit = { limit: 2, policy: 'closeOldest' } as const
      await b.users.add('ada', 'c1', web, limit)
      advance(1)
      await b.users.add('ada', 'c2', web, limit)
      advance(1)
      const third = await b.users.add('ada', 'c3', { transport: 'sse' }, limit)
      expect(third).toMatchObject({ added: true, first: false })
      expect(third.added && ids(third.evicted)).toEqual(['c1'])
      expect(third.added && third.evicted[0]).toMatchObject({
        transport: 'websocket',
        remoteAddress: '10.0.0.1',
      })
      expect(ids(await b.users.list('ada'))).toEqual(['c2', 'c3'])
      // The evicted connection is no longer in the index: removing it changes nothing.
      expect(await b.users.remove('c1')).toEqual({ removed: false, last: false })
      // A lower limit evicts as many as it takes.
      const tight = await b.users.add('ada', 'c4', web, { limit: 1, policy: 'closeOldest' })
      expect(tight.added && ids(tight.evicted)).toEqual(['c2', 'c3'])
      expect(ids(await b.users.list('ada'))).toEqual(['c4'])
      const racing = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          b.users.add('bob', `b${i}`, web, { limit: 3, policy: 'closeOldest' }),
        ),
      )
      expect(racing.every((r) => r.added)).toBe(true)
      expect(await b.users.count('bob')).toBe(3)
      const evicted = racing.flatMap((r) => (r.added ? ids(r.evicted) : []))
      expect(evicted).toHaveLength(7)
      expect(new Set([...evicted, ...ids(await b.users.list('bob'))]).size).toBe(10)
    })
  })
}
