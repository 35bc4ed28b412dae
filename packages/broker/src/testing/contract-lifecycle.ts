/**
 * The Broker contract, lifecycle log (for a broker that has one): events come back in append
 * order with increasing ids, to each consumer from the moment it registered; what a consumer was
 * handed and did not acknowledge is handed again first (what a crashed deliverer leaves); and one
 * holder at a time has a consumer's lease.
 */
import { describe, expect, it } from 'vitest'
import type { Broker } from '../broker.js'
import type { LifecycleLog } from '../lifecycle.js'
import type { ContractKit } from './contract-kit.js'

export function lifecycleContract<B extends Broker>(kit: ContractKit<B>): void {
  const log = async (): Promise<LifecycleLog | undefined> => (await kit.broker()).lifecycle

  describe('lifecycle log', () => {
    it('hands a registered consumer what was appended after, in order, with increasing ids', async () => {
      const l = await log()
      if (!l) return expect(l).toBeUndefined()
      await l.append({ type: 'connection.open', connection: 'before' })
      await l.register('hook-a')
      await l.append({ type: 'user.online', user: 'ann', node: 'n1' })
      await l.append({ type: 'channel.occupied', channel: 'chat:1' })
      await l.append({ type: 'connection.close', connection: 'c1', data: { code: 1000 } })
      const events = await l.read('hook-a', 10)
      expect(events.map((e) => e.type)).toEqual(['user.online', 'channel.occupied', 'connection.close'])
      expect(events[0]).toMatchObject({ user: 'ann', node: 'n1' })
      expect(events[2]).toMatchObject({ connection: 'c1', data: { code: 1000 } })
      for (const e of events) expect(e.at).toBeGreaterThan(0)
      const ids = events.map((e) => e.id)
      expect(new Set(ids).size).toBe(3)
      const order = (id: string) => id.split('-').map(Number) as [number, number]
      for (let i = 1; i < ids.length; i++) {
        const [a, b] = [order(ids[i - 1]!), order(ids[i]!)]
        expect(a[0] < b[0] || (a[0] === b[0] && a[1] < b[1])).toBe(true)
      }
    })

    it('hands again, first, what was not acknowledged; an acknowledged event never comes back', async () => {
      const l = await log()
      if (!l) return expect(l).toBeUndefined()
      await l.register('hook-b')
      for (const user of ['a', 'b', 'c']) await l.append({ type: 'user.offline', user })
      const first = await l.read('hook-b', 2)
      expect(first.map((e) => e.user)).toEqual(['a', 'b'])
      // Not acknowledged: the same two again (a deliverer that crashed, or the next lease holder).
      expect((await l.read('hook-b', 10)).map((e) => e.user)).toEqual(['a', 'b'])
      await l.ack('hook-b', first[0]!.id)
      await l.ack('hook-b', first[1]!.id)
      expect((await l.read('hook-b', 10)).map((e) => e.user)).toEqual(['c'])
      await l.ack('hook-b', (await l.read('hook-b', 10))[0]!.id)
      expect(await l.read('hook-b', 10)).toEqual([])
    })

    it('keeps each consumer’s place apart from the others’', async () => {
      const l = await log()
      if (!l) return expect(l).toBeUndefined()
      await l.register('hook-c')
      await l.register('hook-d')
      await l.append({ type: 'channel.vacated', channel: 'x' })
      const [c] = await l.read('hook-c', 10)
      await l.ack('hook-c', c!.id)
      expect((await l.read('hook-d', 10)).map((e) => e.channel)).toEqual(['x'])
      // Registering again keeps the place.
      await l.register('hook-c')
      expect(await l.read('hook-c', 10)).toEqual([])
    })

    it('appends a user’s arrival once, and its departure once the grace window ends with the user still gone', async () => {
      const b = await kit.broker()
      const l = b.lifecycle
      if (!l) return expect(l).toBeUndefined()
      await l.register('hook-g')
      expect(await l.arrive('user', 'ann', 'n1')).toBe(true)
      expect(await l.arrive('user', 'ann', 'n1')).toBe(false) // still there: told once
      // A departure while the user has a connection is no departure.
      await b.users.add('ann', 'c1', { transport: 'websocket' })
      await l.depart('user', 'ann', 0)
      expect(await l.settle('n1')).toBe(0)
      await b.users.remove('c1')
      await l.depart('user', 'ann', 0)
      expect(await l.settle('n2')).toBe(1)
      expect(await l.settle('n2')).toBe(0) // settled once
      const events = await l.read('hook-g', 10)
      expect(events.map((e) => [e.type, e.user, e.node])).toEqual([
        ['user.online', 'ann', 'n1'],
        ['user.offline', 'ann', 'n2'],
      ])
    })

    it('an arrival inside the grace window cancels the departure: no offline, no second online', async () => {
      const b = await kit.broker()
      const l = b.lifecycle
      if (!l) return expect(l).toBeUndefined()
      await l.register('hook-h')
      await l.arrive('channel', 'chat:1')
      await l.depart('channel', 'chat:1', 60_000)
      expect(await l.settle()).toBe(0) // not due yet
      expect(await l.arrive('channel', 'chat:1')).toBe(false)
      expect((await l.read('hook-h', 10)).map((e) => [e.type, e.channel])).toEqual([
        ['channel.occupied', 'chat:1'],
      ])
    })

    it('gives a consumer’s lease to one holder at a time, renewed by it, free once released', async () => {
      const l = await log()
      if (!l) return expect(l).toBeUndefined()
      expect(await l.lease('hook-e', 'node-1', 10_000)).toBe(true)
      expect(await l.lease('hook-e', 'node-2', 10_000)).toBe(false)
      expect(await l.lease('hook-e', 'node-1', 10_000)).toBe(true)
      // Another consumer's lease is another lease.
      expect(await l.lease('hook-f', 'node-2', 10_000)).toBe(true)
      await l.release('hook-e', 'node-2') // not the holder: nothing happens
      expect(await l.lease('hook-e', 'node-2', 10_000)).toBe(false)
      await l.release('hook-e', 'node-1')
      expect(await l.lease('hook-e', 'node-2', 10_000)).toBe(true)
    })
  })
}
