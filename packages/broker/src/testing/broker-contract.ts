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
import type { JsonValue, PresenceMember, StreamPosition } from '@switchboard/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import type { Broker, BrokerEvent, BrokerMessage, ResolvedHistory } from '../broker.js'

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

/** Channels named `h…` keep 5 messages (or `ttl…`: 5 messages for 1 s); the others keep none. */
function historyOf(channel: string): ResolvedHistory | undefined {
  if (channel.startsWith('ttl')) return { size: 5, ttlMs: 1000 }
  if (channel.startsWith('h')) return { size: 5, ttlMs: Number.POSITIVE_INFINITY }
  return undefined
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 10))

/**
 * Data with every byte value shown as `bytes:<hex>`, so bytes compare byte for byte whether a
 * broker hands back a `Uint8Array` or the very `ArrayBuffer` it was given — and a value that came
 * back as anything else (`{"0":1}`, `{}`, a base64 string) does not compare equal.
 */
function showBytes(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return showBytes(new Uint8Array(value))
  if (value instanceof Uint8Array)
    return `bytes:${Array.from(value, (b) => b.toString(16).padStart(2, '0')).join('')}`
  if (Array.isArray(value)) return value.map(showBytes)
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, showBytes(v)]))
}

/** Every byte value, so nothing in an encoding (UTF-8, escapes) can go unnoticed. */
const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i)

/** Bytes alone, nested in objects and arrays, empty, a Buffer's view, an ArrayBuffer, next to plain JSON. */
function byteSamples(): unknown[] {
  const offsetView = new Uint8Array(ALL_BYTES.buffer.slice(0), 100, 7)
  return [
    Uint8Array.of(1, 2, 3),
    { file: ALL_BYTES, name: 'all.bin', nested: { deeper: [Uint8Array.of(255), 'text', 0] } },
    [new Uint8Array(0), { empty: new Uint8Array(0) }, [[Uint8Array.of(0)]]],
    Uint8Array.of(9, 8, 7).buffer,
    { view: offsetView, buf: Uint8Array.of(42, 43).buffer },
    // Lookalikes that are not bytes stay what they are.
    { $bin: 'AQID', other: 1 },
    '{"$bin":"AQID"}',
    { text: '"$bin"' },
  ]
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

    const offsets = (messages: BrokerMessage[]) => messages.map((m) => m.offset)

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

    describe('history: complete only when truly complete', () => {
      it('empty history: nothing published, since offset 0 → complete and empty', async () => {
        const b = await broker()
        const pos = await b.position('h-empty')
        expect(await b.history('h-empty', pos)).toEqual({ complete: true, messages: [], position: pos })
      })

      it('offset at head → complete and empty', async () => {
        const b = await broker()
        const head = await fill(b, 'h-head', 3)
        expect(await b.history('h-head', head)).toEqual({ complete: true, messages: [], position: head })
      })

      it('offset inside the window → complete, the messages after it in order, with their data', async () => {
        const b = await broker()
        const head = await fill(b, 'h-mid', 4)
        const h = await b.history('h-mid', { epoch: head.epoch, offset: 1 })
        expect(h.complete).toBe(true)
        expect(h.position).toEqual(head)
        expect(h.messages).toEqual(
          [2, 3, 4].map((i) => ({
            kind: 'message',
            channel: 'h-mid',
            epoch: head.epoch,
            offset: i,
            data: { i },
          })),
        )
      })

      it('offset trimmed by size: the window edge is exact', async () => {
        const b = await broker()
        // size 5, 12 published: the ring holds 8..12.
        const head = await fill(b, 'h-trim', 12)
        const at = (offset: number) => b.history('h-trim', { epoch: head.epoch, offset })
        expect(offsets((await at(7)).messages)).toEqual([8, 9, 10, 11, 12])
        expect((await at(7)).complete).toBe(true)
        const trimmed = await at(6)
        expect(trimmed).toMatchObject({ complete: false, position: head })
        expect((await at(0)).complete).toBe(false)
      })

      it('offset in the future → incomplete, with the current position', async () => {
        const b = await broker()
        const head = await fill(b, 'h-future', 3)
        const h = await b.history('h-future', { epoch: head.epoch, offset: 4 })
        expect(h).toMatchObject({ complete: false, position: head })
      })

      it('another epoch → incomplete, even at an offset that exists here', async () => {
        const b = await broker()
        const head = await fill(b, 'h-epoch', 3)
        for (const offset of [0, 1, 3]) {
          expect(await b.history('h-epoch', { epoch: `${head.epoch}x`, offset })).toMatchObject({
            complete: false,
            position: head,
          })
        }
      })

      it('unknown channel → incomplete, at offset 0 of its own epoch', async () => {
        const b = await broker()
        for (const channel of ['h-unknown', 'plain-unknown']) {
          const h = await b.history(channel, { epoch: 'from-elsewhere', offset: 7 })
          expect(h.complete).toBe(false)
          expect(h.messages).toEqual([])
          expect(h.position.offset).toBe(0)
          expect(h.position.epoch).not.toBe('from-elsewhere')
        }
      })

      it('a channel never published: offset 0 of a stable epoch, and its first publish lands in it', async () => {
        const b = await broker()
        for (const channel of ['h-fresh', 'plain-fresh']) {
          const pos = await b.position(channel)
          expect(pos.offset).toBe(0)
          expect(pos.epoch).not.toBe('')
          // Read again, and read every other way: the same position, nothing kept in between.
          expect(await b.position(channel)).toEqual(pos)
          expect(await b.history(channel, pos)).toEqual({ complete: true, messages: [], position: pos })
          expect(await b.recent(channel, 10)).toEqual({ messages: [], position: pos })
          expect(await b.presence.list(channel)).toEqual([])
          // A subscriber told `pos` before the first publish gets that publish at pos.offset + 1.
          const events = await listen(b, channel)
          expect(await b.publish(channel, 'first')).toEqual({ epoch: pos.epoch, offset: 1 })
          await flush()
          expect(events).toEqual([{ kind: 'message', channel, epoch: pos.epoch, offset: 1, data: 'first' }])
        }
      })

      it('a position read before the first publish, with nobody listening, resumes complete', async () => {
        const b = await broker()
        const before = await b.position('h-later')
        await b.publish('h-later', 'first')
        const h = await b.history('h-later', before)
        expect(h.complete).toBe(true)
        expect(h.messages.map((m) => [m.epoch, m.offset, m.data])).toEqual([[before.epoch, 1, 'first']])
      })

      it('a channel without history: complete only at the head', async () => {
        const b = await broker()
        await listen(b, 'plain') // keeps the channel alive
        const head = await fill(b, 'plain', 2)
        expect(await b.history('plain', head)).toMatchObject({ complete: true, messages: [] })
        expect(await b.history('plain', { epoch: head.epoch, offset: 1 })).toMatchObject({ complete: false })
      })

      it('ttl: an expired message makes a resume before it incomplete', async () => {
        const b = await broker()
        const start = await b.position('ttl-a')
        await b.publish('ttl-a', 1) // at t
        clock += 600
        await b.publish('ttl-a', 2) // at t + 600
        clock += 600 // now t + 1200: message 1 (1200 ms old) expired, message 2 (600 ms) kept
        expect(await b.history('ttl-a', start)).toMatchObject({ complete: false })
        const h = await b.history('ttl-a', { epoch: start.epoch, offset: 1 })
        expect(h.complete).toBe(true)
        expect(h.messages.map((m) => m.data)).toEqual([2])
        clock += 10_000 // everything expired
        expect(await b.history('ttl-a', { epoch: start.epoch, offset: 1 })).toMatchObject({ complete: false })
        // At the head nothing is missing, so it stays complete even with an empty window.
        expect(await b.history('ttl-a', { epoch: start.epoch, offset: 2 })).toMatchObject({
          complete: true,
          messages: [],
        })
        // Expiry does not change the epoch or the offsets.
        expect(await b.publish('ttl-a', 3)).toEqual({ epoch: start.epoch, offset: 3 })
      })

      it('returns fresh arrays: mutating a result does not change the history', async () => {
        const b = await broker()
        const head = await fill(b, 'h-copy', 2)
        const first = await b.history('h-copy', { epoch: head.epoch, offset: 0 })
        first.messages.length = 0
        expect(offsets((await b.history('h-copy', { epoch: head.epoch, offset: 0 })).messages)).toEqual([
          1, 2,
        ])
      })

      it('gives bytes back from history and recent byte for byte', async () => {
        const b = await broker()
        const start = await b.position('h-bytes-history')
        const samples = byteSamples().slice(0, 5)
        for (const data of samples) await b.publish('h-bytes-history', data as JsonValue)
        const h = await b.history('h-bytes-history', start)
        expect(h.complete).toBe(true)
        expect(h.messages.map((m) => showBytes(m.data))).toEqual(samples.map(showBytes))
        const recent = await b.recent('h-bytes-history', 2)
        expect(recent.messages.map((m) => showBytes(m.data))).toEqual(samples.slice(3).map(showBytes))
      })

      it('recent: the latest retained messages, oldest first, and the position', async () => {
        const b = await broker()
        const head = await fill(b, 'h-recent', 7)
        const r = await b.recent('h-recent', 3)
        expect(r.position).toEqual(head)
        expect(offsets(r.messages)).toEqual([5, 6, 7])
        expect(offsets((await b.recent('h-recent', 100)).messages)).toEqual([3, 4, 5, 6, 7])
        expect((await b.recent('h-recent', 0)).messages).toEqual([])
      })
    })

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

    describe('presence', () => {
      const ada: PresenceMember = { userId: 'ada', connectionId: 'c1', info: { device: 'laptop' } }
      const ada2: PresenceMember = { userId: 'ada', connectionId: 'c2' }
      const bob: PresenceMember = { userId: 'bob', connectionId: 'c3' }

      it('adds, lists and removes members by connection; a user with two connections is listed twice', async () => {
        const b = await broker()
        expect(await b.presence.list('room')).toEqual([])
        await b.presence.add('room', ada)
        await b.presence.add('room', ada2)
        await b.presence.add('room', bob)
        const byConn = (ms: PresenceMember[]) =>
          [...ms].sort((x, y) => x.connectionId.localeCompare(y.connectionId))
        expect(byConn(await b.presence.list('room'))).toEqual([ada, ada2, bob])
        await b.presence.remove('room', 'c1')
        expect(byConn(await b.presence.list('room'))).toEqual([ada2, bob])
        expect(await b.presence.list('other-room')).toEqual([])
      })

      it('tells the channel listener about joins and leaves, with the member', async () => {
        const b = await broker()
        const events = await listen(b, 'room2')
        await b.presence.add('room2', ada)
        await b.presence.remove('room2', ada.connectionId)
        await flush()
        expect(events).toEqual([
          { kind: 'presence', channel: 'room2', action: 'join', member: ada },
          { kind: 'presence', channel: 'room2', action: 'leave', member: ada },
        ])
      })

      it('keeps bytes in a member’s info, in the list and in join and leave events', async () => {
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
        await b.presence.remove('room-bytes', cy.connectionId)
        await flush()
        expect(events.map(showBytes)).toEqual(
          ['join', 'leave'].map((action) =>
            showBytes({ kind: 'presence', channel: 'room-bytes', action, member: cy }),
          ),
        )
      })

      it('removing someone who is not there is a no-op, without a leave event', async () => {
        const b = await broker()
        const events = await listen(b, 'room3')
        await b.presence.remove('room3', 'nobody')
        await b.presence.remove('never-seen', 'nobody')
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
