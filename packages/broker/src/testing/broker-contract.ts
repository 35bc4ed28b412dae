/**
 * The Broker contract: one suite that every broker must pass. The server's guarantees (offsets
 * within an epoch, recovery that is complete only when it truly is, publishes acknowledged only
 * once accepted, idempotency keys, presence) rest on exactly these behaviours, so a new broker —
 * Redis, or anything else — proves itself by running this suite:
 *
 *   describeBrokerContract('RedisBroker', async ({ history, now }) => new RedisBroker({ ... }))
 *
 * `makeBroker` gets the channel history options (as the server resolves them from `channels`)
 * and a clock, which the ttl tests move by hand. Each test uses its own broker and closes it.
 */
import type { JsonValue, StreamPosition } from '@switchboard/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import type { Broker, BrokerEvent, ResolvedHistory } from '../broker.js'
import { historyContract } from './contract-history.js'
import { byteSamples, flush, historyOf, showBytes } from './contract-kit.js'
import { lifecycleContract } from './contract-lifecycle.js'
import { presenceContract } from './contract-presence.js'
import { revocationsContract } from './contract-revocations.js'
import { usersContract } from './contract-users.js'

export interface BrokerFactoryOptions {
  /** The history options of a channel; undefined for a channel without history. */
  history: (channel: string) => ResolvedHistory | undefined
  /** Milliseconds since the epoch; the ttl tests set it by hand. */
  now: () => number
}

export type BrokerFactory<B extends Broker = Broker> = (options: BrokerFactoryOptions) => Promise<B>

export interface BrokerContractOptions<B extends Broker> {
  /**
   * How much the broker stores, in any unit that grows with the channels it keeps (MemoryBroker:
   * its channel count; Redis: the keys under its prefix). With it, the suite also proves that
   * reading channels that were never published stores nothing.
   */
  storedState?: (broker: B) => Promise<number> | number
}

export function describeBrokerContract<B extends Broker>(
  name: string,
  makeBroker: BrokerFactory<B>,
  options: BrokerContractOptions<B> = {},
): void {
  describe(`Broker contract: ${name}`, () => {
    const open: Broker[] = []
    let clock = 1_000_000
    afterEach(async () => {
      for (const b of open.splice(0)) await b.close().catch(() => {})
    })

    async function broker(): Promise<B> {
      clock = 1_000_000
      const b = await makeBroker({ history: historyOf, now: () => clock })
      open.push(b)
      return b
    }

    /** A listener that records what it gets. */
    async function listen(b: Broker, channel: string): Promise<BrokerEvent[]> {
      const events: BrokerEvent[] = []
      await b.subscribe(channel, (e) => events.push(e))
      return events
    }

    async function fill(b: Broker, channel: string, n: number): Promise<StreamPosition> {
      let pos = await b.position(channel)
      for (let i = 1; i <= n; i++) pos = await b.publish(channel, { i })
      return pos
    }

    describe('publish, offsets and epochs', () => {
      it('starts a channel at offset 0 in a non-empty epoch and numbers publishes 1, 2, 3', async () => {
        const b = await broker()
        const start = await b.position('h1')
        expect(start.offset).toBe(0)
        expect(typeof start.epoch).toBe('string')
        expect(start.epoch.length).toBeGreaterThan(0)
        expect(await b.publish('h1', 'a')).toEqual({ epoch: start.epoch, offset: 1 })
        expect(await b.publish('h1', 'b')).toEqual({ epoch: start.epoch, offset: 2 })
        expect(await b.publish('h1', 'c')).toEqual({ epoch: start.epoch, offset: 3 })
        expect(await b.position('h1')).toEqual({ epoch: start.epoch, offset: 3 })
      })

      it('keeps separate offsets per channel', async () => {
        const b = await broker()
        await fill(b, 'h-a', 3)
        const other = await b.publish('h-b', 'x')
        expect(other.offset).toBe(1)
        expect((await b.position('h-a')).offset).toBe(3)
      })

      it('gives concurrent publishes distinct, gapless offsets, delivered in offset order', async () => {
        const b = await broker()
        const events = await listen(b, 'h-burst')
        const positions = await Promise.all(Array.from({ length: 50 }, (_, i) => b.publish('h-burst', i)))
        const sorted = positions.map((p) => p.offset).sort((x, y) => x - y)
        expect(sorted).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
        await flush()
        expect(events.map((e) => (e.kind === 'message' ? e.offset : -1))).toEqual(sorted)
        // Each publish's resolved position is the one its message was delivered with.
        for (const [i, pos] of positions.entries()) {
          expect(events.find((e) => e.kind === 'message' && e.offset === pos.offset)).toMatchObject({
            data: i,
            epoch: pos.epoch,
          })
        }
      })

      it('carries data of any JSON shape unchanged', async () => {
        const b = await broker()
        const events = await listen(b, 'h-json')
        const data = { s: 'é✓', n: -1.5, b: false, z: null, a: [1, { x: [] }] }
        await b.publish('h-json', data)
        await flush()
        expect(events).toEqual([
          { kind: 'message', channel: 'h-json', epoch: expect.any(String), offset: 1, data },
        ])
      })

      it('carries bytes byte for byte: alone, nested in objects and arrays, empty, an ArrayBuffer', async () => {
        const b = await broker()
        const events = await listen(b, 'h-bytes')
        const samples = byteSamples()
        for (const data of samples) await b.publish('h-bytes', data as JsonValue)
        await flush()
        const delivered = events.map((e) => (e.kind === 'message' ? e.data : e))
        expect(delivered.map(showBytes)).toEqual(samples.map(showBytes))
        // A Uint8Array comes back as bytes, never as an object of indices.
        expect(delivered[0]).toBeInstanceOf(Uint8Array)
      })

      it('rejects a publish after close (a publish is never silently dropped)', async () => {
        const b = await broker()
        await b.close()
        await expect(b.publish('h1', 'late')).rejects.toThrow()
      })
    })

    describe('subscribe and unsubscribe', () => {
      it('delivers a channel’s messages, with except, to its listener only', async () => {
        const b = await broker()
        const one = await listen(b, 'c1')
        const two = await listen(b, 'c2')
        const pos = await b.publish('c1', 'x', { except: 'conn-9' })
        await flush()
        expect(one).toEqual([
          { kind: 'message', channel: 'c1', epoch: pos.epoch, offset: 1, data: 'x', except: 'conn-9' },
        ])
        expect(two).toEqual([])
      })

      it('stops delivering after unsubscribe; unsubscribing twice or unknown channels is harmless', async () => {
        const b = await broker()
        const events = await listen(b, 'h-unsub')
        await b.publish('h-unsub', 1)
        await b.unsubscribe('h-unsub')
        await b.unsubscribe('h-unsub')
        await b.unsubscribe('never-seen')
        await b.publish('h-unsub', 2)
        await flush()
        expect(events.map((e) => e.kind === 'message' && e.data)).toEqual([1])
      })

      it('publishes to a channel nobody listens to are accepted and kept in history', async () => {
        const b = await broker()
        const pos = await b.publish('h-quiet', 'alone')
        const h = await b.history('h-quiet', { epoch: pos.epoch, offset: 0 })
        expect(h).toMatchObject({ complete: true, position: pos })
        expect(h.messages.map((m) => m.data)).toEqual(['alone'])
      })
    })

    const advance = (ms: number) => {
      clock += ms
    }
    historyContract({ broker, listen, fill, advance })
    presenceContract({ broker, listen, fill, advance })
    lifecycleContract({ broker, listen, fill, advance })
    usersContract({ broker, listen, fill, advance })
    revocationsContract({ broker, listen, fill, advance })

    describe('idempotency keys', () => {
      it('the same key twice → one message, the same position both times', async () => {
        const b = await broker()
        const events = await listen(b, 'h-key')
        const first = await b.publish('h-key', 'once', { key: 'k1' })
        const again = await b.publish('h-key', 'once', { key: 'k1' })
        expect(again).toEqual(first)
        expect(await b.position('h-key')).toEqual(first)
        await flush()
        expect(events).toHaveLength(1)
        const h = await b.history('h-key', { epoch: first.epoch, offset: 0 })
        expect(h.messages.map((m) => m.data)).toEqual(['once'])
      })

      it('the same key twice at once → one message', async () => {
        const b = await broker()
        const [p1, p2] = await Promise.all([
          b.publish('h-key2', 'x', { key: 'k' }),
          b.publish('h-key2', 'x', { key: 'k' }),
        ])
        expect(p2).toEqual(p1)
        expect((await b.position('h-key2')).offset).toBe(1)
      })

      it('different keys, no key, or another channel → separate messages', async () => {
        const b = await broker()
        await b.publish('h-keys', 1, { key: 'a' })
        await b.publish('h-keys', 2, { key: 'b' })
        await b.publish('h-keys', 3)
        await b.publish('h-keys', 4)
        expect((await b.position('h-keys')).offset).toBe(4)
        expect((await b.publish('h-keys-other', 1, { key: 'a' })).offset).toBe(1)
      })
    })

    const { storedState } = options
    if (storedState) {
      describe('reading a channel stores nothing', () => {
        /** Channels with history (`h…`) and without, never published. */
        const names = (tag: string) =>
          Array.from({ length: 40 }, (_, i) => [`h-${tag}${i}`, `${tag}${i}`]).flat()

        it('position, history, recent and presence lists of unknown channels leave nothing behind', async () => {
          const b = await broker()
          const before = await storedState(b)
          for (const channel of names('read')) {
            const pos = await b.position(channel)
            await b.history(channel, pos)
            await b.history(channel, { epoch: 'from-elsewhere', offset: 3 })
            await b.recent(channel, 10)
            await b.presence.list(channel)
          }
          expect(await storedState(b)).toBe(before)
        })

        it('subscribe then unsubscribe, presence add then remove, on unknown channels leave nothing', async () => {
          const b = await broker()
          const before = await storedState(b)
          for (const channel of names('sub')) {
            await listen(b, channel)
            await b.position(channel)
            await b.presence.add(channel, { userId: 'u', connectionId: 'c1' })
            await b.presence.remove(channel, 'c1')
            await b.unsubscribe(channel)
          }
          expect(await storedState(b)).toBe(before)
        })

        it('users added then removed leave nothing', async () => {
          const b = await broker()
          const before = await storedState(b)
          for (const user of names('user')) await b.users.add(user, `c-${user}`, { transport: 'websocket' })
          for (const user of names('user')) await b.users.remove(`c-${user}`)
          expect(await storedState(b)).toBe(before)
        })

        it('a publish is stored (the measure sees channels)', async () => {
          const b = await broker()
          const before = await storedState(b)
          await b.publish('h-kept', 'x')
          expect(await storedState(b)).toBeGreaterThan(before)
        })
      })
    }

    describe('route: an event for one connection', () => {
      /** An id as the server makes them on this broker's node. */
      const idOf = (b: Broker, local: string) => (b.nodeId === undefined ? local : `${b.nodeId}.${local}`)

      it("delivers to this node's handler and answers what it answered", async () => {
        const b = await broker()
        const got: Array<[string, unknown]> = []
        b.onRoute((id, routed) => {
          got.push([id, routed])
          return id === idOf(b, 'here')
        })
        expect(await b.route(idOf(b, 'here'), { event: 'notice', data: { n: 1 } })).toBe(true)
        expect(await b.route(idOf(b, 'gone'), { event: 'bare' })).toBe(false)
        expect(got).toEqual([
          [idOf(b, 'here'), { event: 'notice', data: { n: 1 } }],
          [idOf(b, 'gone'), { event: 'bare' }],
        ])
      })

      it('is false without a handler, and rejects once the broker is closed', async () => {
        const b = await broker()
        expect(await b.route(idOf(b, 'x'), { event: 'e' })).toBe(false)
        await b.close()
        await expect(b.route(idOf(b, 'x'), { event: 'e' })).rejects.toThrow()
      })
    })

    describe('control: a command for every node', () => {
      it("reaches this node's handler and gathers its answer", async () => {
        const b = await broker()
        const got: unknown[] = []
        b.onControl(async (command) => {
          got.push(command)
          return { echoed: command.data ?? null, bytes: Uint8Array.of(1, 2) }
        })
        const result = await b.control({ type: 'echo', data: { n: 1, list: ['a'] } })
        expect(got).toEqual([{ type: 'echo', data: { n: 1, list: ['a'] } }])
        expect(result.reached).toBe(1)
        expect(result.replies).toHaveLength(1)
        const [reply] = result.replies
        expect(reply).toMatchObject({ ok: true, data: { echoed: { n: 1, list: ['a'] } } })
        if (reply?.ok) expect(Array.from((reply.data as { bytes: Uint8Array }).bytes)).toEqual([1, 2])
        if (b.nodeId !== undefined) expect(reply?.node).toBe(b.nodeId)
        // Without data, the command arrives without data.
        await b.control({ type: 'bare' })
        expect(got[1]).toEqual({ type: 'bare' })
      })

      it('answers ok: false for a handler that throws, and for a node without a handler', async () => {
        const b = await broker()
        const none = await b.control({ type: 'x' })
        expect(none.reached).toBe(1)
        expect(none.replies).toEqual([expect.objectContaining({ ok: false, error: expect.any(String) })])
        b.onControl(() => {
          throw new Error('no such thing')
        })
        const failed = await b.control({ type: 'x' })
        expect(failed.replies).toEqual([expect.objectContaining({ ok: false, error: 'no such thing' })])
      })

      it('rejects once the broker is closed', async () => {
        const b = await broker()
        b.onControl(() => null)
        await b.close()
        await expect(b.control({ type: 'x' })).rejects.toThrow()
      })
    })
  })
}
