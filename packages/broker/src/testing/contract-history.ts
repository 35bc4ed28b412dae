/**
 * The Broker contract, history: recovery is complete only when it truly is — at every edge of
 * the ring, across epochs, after a ttl — and `recent` gives the newest messages.
 */
import type { JsonValue } from '@switchboard/protocol'
import { describe, expect, it } from 'vitest'
import type { Broker } from '../broker.js'
import { byteSamples, type ContractKit, flush, offsets, showBytes } from './contract-kit.js'

export function historyContract<B extends Broker>(kit: ContractKit<B>): void {
  const { broker, listen, fill } = kit
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
      kit.advance(600)
      await b.publish('ttl-a', 2) // at t + 600
      kit.advance(600) // now t + 1200: message 1 (1200 ms old) expired, message 2 (600 ms) kept
      expect(await b.history('ttl-a', start)).toMatchObject({ complete: false })
      const h = await b.history('ttl-a', { epoch: start.epoch, offset: 1 })
      expect(h.complete).toBe(true)
      expect(h.messages.map((m) => m.data)).toEqual([2])
      kit.advance(10_000) // everything expired
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
      expect(offsets((await b.history('h-copy', { epoch: head.epoch, offset: 0 })).messages)).toEqual([1, 2])
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

    it('recent before an offset: the latest retained messages strictly older than it', async () => {
      const b = await broker()
      const head = await fill(b, 'h-before', 7)
      const r = await b.recent('h-before', 2, { before: 6 })
      expect(r.position).toEqual(head)
      expect(offsets(r.messages)).toEqual([4, 5])
      expect(r.messages[0]!.data).toEqual((await b.recent('h-before', 4)).messages[0]!.data)
      // Paging back to the start of what is retained (3..7 with a ring of 5), then nothing.
      expect(offsets((await b.recent('h-before', 10, { before: 5 })).messages)).toEqual([3, 4])
      expect((await b.recent('h-before', 10, { before: 3 })).messages).toEqual([])
      expect((await b.recent('h-before', 10, { before: 0 })).messages).toEqual([])
      // A `before` past the head is the head: the latest messages.
      expect(offsets((await b.recent('h-before', 2, { before: 100 })).messages)).toEqual([6, 7])
      expect((await b.recent('h-before', 0, { before: 6 })).messages).toEqual([])
      expect((await b.recent('h-unknown', 5, { before: 3 })).messages).toEqual([])
    })
  })
}
