import type { StreamPosition } from '@switchboard/protocol'
import { describe, expect, it } from 'vitest'
import type { BrokerEvent } from './broker.js'
import { MemoryBroker } from './memory-broker.js'

function broker(size?: number, ttlMs = Number.POSITIVE_INFINITY, now?: () => number) {
  return new MemoryBroker({ history: () => (size ? { size, ttlMs } : undefined), now })
}

/** A broker whose channels keep 10 messages, forgotten `channelTtlMs` after going idle; its clock moves by hand. */
function staleBroker(channelTtlMs: number) {
  let clock = 1_000_000
  const b = new MemoryBroker({
    history: () => ({ size: 10, ttlMs: Number.POSITIVE_INFINITY }),
    now: () => clock,
    channelTtlMs,
  })
  return { b, advance: (ms: number) => (clock += ms) }
}

describe('MemoryBroker', () => {
  it('numbers messages 1, 2, 3… within one epoch and delivers them to the listener', async () => {
    const b = broker()
    const events: BrokerEvent[] = []
    await b.subscribe('c', (e) => events.push(e))
    const start = await b.position('c')
    expect(start.offset).toBe(0)
    expect(await b.publish('c', 'a')).toEqual({ epoch: start.epoch, offset: 1 })
    expect(await b.publish('c', 'b', { except: 'conn1' })).toEqual({ epoch: start.epoch, offset: 2 })
    expect(events).toEqual([
      { kind: 'message', channel: 'c', epoch: start.epoch, offset: 1, data: 'a' },
      { kind: 'message', channel: 'c', epoch: start.epoch, offset: 2, data: 'b', except: 'conn1' },
    ])
  })

  it('starts a new epoch when a published channel without history is forgotten', async () => {
    const b = broker()
    await b.subscribe('c', () => {})
    const first = await b.publish('c', 'a')
    await b.unsubscribe('c')
    expect(b.channelCount).toBe(0)
    await b.subscribe('c', () => {})
    expect((await b.position('c')).epoch).not.toBe(first.epoch)
  })

  it('keeps the epoch of a channel that was never published, though it stores nothing for it', async () => {
    const b = broker()
    await b.subscribe('c', () => {})
    const first = await b.position('c')
    await b.unsubscribe('c')
    expect(b.channelCount).toBe(0)
    expect(await b.position('c')).toEqual(first)
    // Nothing was missed: a resume from there is complete.
    expect(await b.history('c', first)).toMatchObject({ complete: true, messages: [] })
  })

  it('keeps an idle channel with history until channelTtlMs after its last publish', async () => {
    const { b, advance } = staleBroker(60_000)
    const { epoch } = await b.publish('h', 'a')
    const start = { epoch, offset: 0 }
    advance(59_000)
    expect(b.forgetStale()).toBe(0)
    const kept = await b.history('h', start)
    expect(kept.complete).toBe(true)
    expect(kept.messages.map((m) => m.data)).toEqual(['a'])
    advance(2_000)
    expect(b.forgetStale()).toBe(1)
    const after = await b.history('h', start)
    expect(after.complete).toBe(false)
    expect(after.position.epoch).not.toBe(start.epoch)
    await b.close()
  })

  it('keeps nothing for a channel with history that is only read, and its first publish lands in the epoch read', async () => {
    const { b, advance } = staleBroker(60_000)
    const first = await b.position('named')
    await b.recent('named', 10)
    expect(b.channelCount).toBe(0)
    advance(120_000)
    expect(await b.history('named', first)).toMatchObject({ complete: true, position: first })
    expect(await b.publish('named', 'a')).toEqual({ epoch: first.epoch, offset: 1 })
    expect(b.channelCount).toBe(1)
    await b.close()
  })

  it('never forgets a channel with a listener or presence members, however quiet', async () => {
    const { b, advance } = staleBroker(1000)
    await b.subscribe('listened', () => {})
    await b.publish('listened', 1)
    await b.presence.add('present', { userId: 'u', connectionId: 'c' })
    await b.publish('present', 1)
    const positions = [await b.position('listened'), await b.position('present')]
    advance(10_000)
    expect(b.forgetStale()).toBe(0)
    expect([await b.position('listened'), await b.position('present')]).toEqual(positions)
    await b.close()
  })

  it('lands a publish with a repeated idempotency key once', async () => {
    const b = broker(10)
    const p1 = await b.publish('c', 'x', { key: 'k' })
    const p2 = await b.publish('c', 'x', { key: 'k' })
    expect(p2).toEqual(p1)
    expect((await b.position('c')).offset).toBe(1)
  })

  describe('history', () => {
    async function filled(n: number, size: number) {
      const b = broker(size)
      let pos: StreamPosition = await b.position('h')
      for (let i = 1; i <= n; i++) pos = await b.publish('h', i)
      return { b, epoch: pos.epoch }
    }

    it('returns what came after since, complete, when the ring still reaches back', async () => {
      const { b, epoch } = await filled(5, 10)
      const h = await b.history('h', { epoch, offset: 2 })
      expect(h.complete).toBe(true)
      expect(h.messages.map((m) => m.offset)).toEqual([3, 4, 5])
      expect(h.position).toEqual({ epoch, offset: 5 })
    })

    it('is complete and empty at the head', async () => {
      const { b, epoch } = await filled(3, 10)
      expect(await b.history('h', { epoch, offset: 3 })).toMatchObject({ complete: true, messages: [] })
    })

    it('is incomplete when trimmed, in the future, or in another epoch', async () => {
      const { b, epoch } = await filled(10, 3)
      expect((await b.history('h', { epoch, offset: 2 })).complete).toBe(false)
      expect((await b.history('h', { epoch, offset: 7 })).complete).toBe(true)
      expect((await b.history('h', { epoch, offset: 11 })).complete).toBe(false)
      expect((await b.history('h', { epoch: 'other', offset: 9 })).complete).toBe(false)
    })

    it('expires messages past the ttl', async () => {
      let now = 0
      const b = broker(10, 1000, () => now)
      const { epoch } = await b.position('h')
      await b.publish('h', 1)
      now = 2000
      await b.publish('h', 2)
      expect((await b.history('h', { epoch, offset: 0 })).complete).toBe(false)
      expect((await b.history('h', { epoch, offset: 1 })).messages.map((m) => m.data)).toEqual([2])
    })
  })

  it('tracks presence and tells the listener about joins and leaves', async () => {
    const b = broker()
    const events: BrokerEvent[] = []
    await b.subscribe('p', (e) => events.push(e))
    await b.presence.add('p', { userId: 'ada', connectionId: 'c1' })
    expect(await b.presence.list('p')).toEqual([{ userId: 'ada', connectionId: 'c1' }])
    await b.presence.remove('p', 'c1')
    expect(await b.presence.list('p')).toEqual([])
    expect(events.map((e) => e.kind === 'presence' && e.action)).toEqual(['join', 'leave'])
  })
})
