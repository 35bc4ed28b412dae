// Recovery at the protocol level: hand-written frames against a real server on port 0. Every edge
// case of the fault table (empty history, offset at head, offset trimmed, expired, offset in the
// future, epoch changed, unknown channel) answers `recovered: true` only when nothing is missing,
// otherwise `recovered: false` with the current position — never an error; and a replay meets the
// live stream with no gap and no overlap while publishing goes on.
import type { MessageFrame, StreamPosition, SubscribeResult } from '@switchboard/protocol'
import { type HistoryResult, MemoryBroker } from '@switchboard/server'
import { serverFixture, type TestClient, until } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'

const CHANNELS = {
  'h:*': { history: 5 },
  'ttl:*': { history: { size: 100, ttl: 150 } },
  'big:*': { history: 100_000 },
  // 'plain:*' and anything else: no history
}

const { setup } = serverFixture({ channels: CHANNELS })
let nextId = 0

interface Resumed {
  result: SubscribeResult
  /** Message frames of the channel that came before the reply: the replay. */
  replay: number[]
  /** The index in `c.frames` just after the reply. */
  after: number
}

/** Sends a subscribe (with `since` if given) and returns the reply and the replay before it. */
async function subscribe(c: TestClient, channel: string, since?: StreamPosition): Promise<Resumed> {
  const id = `s${++nextId}`
  const start = c.frames.length
  c.send(since ? { type: 'subscribe', id, channel, since } : { type: 'subscribe', id, channel })
  const reply = await c.next('reply', (r) => r.id === id)
  if (!reply.ok) throw new Error(`subscribe refused: ${JSON.stringify(reply.error)}`)
  const at = c.frames.indexOf(reply)
  const replay = c.frames
    .slice(start, at)
    .flatMap((f) => (f.type === 'message' && f.channel === channel ? [f.offset] : []))
  return { result: reply.data as unknown as SubscribeResult, replay, after: at + 1 }
}

function messagesOf(c: TestClient, channel: string, from = 0): MessageFrame[] {
  return c.frames.slice(from).filter((f): f is MessageFrame => f.type === 'message' && f.channel === channel)
}

/** A fresh connection resuming `channel` from `since`, as a reconnecting client does. */
async function resume(client: () => Promise<TestClient>, channel: string, since: StreamPosition) {
  const c = await client()
  const r = await subscribe(c, channel, since)
  return { c, ...r }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe('recovery edge cases', () => {
  it('empty history: resuming at offset 0 of a channel with nothing in it is recovered, then live', async () => {
    const { sb, client } = await setup()
    const first = await client()
    const { result: pos } = await subscribe(first, 'h:empty')
    expect(pos).toMatchObject({ offset: 0 })
    first.ws.close()
    const { c, result, replay, after } = await resume(client, 'h:empty', pos)
    expect(result).toEqual({ epoch: pos.epoch, offset: 0, recovered: true })
    expect(replay).toEqual([])
    await sb.publish('h:empty', 'one')
    await until(() => messagesOf(c, 'h:empty', after).length === 1)
    expect(messagesOf(c, 'h:empty', after)[0]).toMatchObject({ epoch: pos.epoch, offset: 1, data: 'one' })
  })

  it('offset at head: recovered, nothing replayed, the next message is live', async () => {
    const { sb, client } = await setup()
    let head = await sb.publish('h:head', 1)
    head = await sb.publish('h:head', 2)
    const { c, result, replay, after } = await resume(client, 'h:head', head)
    expect(result).toEqual({ ...head, recovered: true })
    expect(replay).toEqual([])
    await sb.publish('h:head', 3)
    await until(() => messagesOf(c, 'h:head', after).length === 1)
    expect(messagesOf(c, 'h:head').map((m) => m.offset)).toEqual([3])
  })

  it('offset inside the window: the missed messages, in order, before the reply; then live', async () => {
    const { sb, client } = await setup()
    const { epoch } = await sb.publish('h:mid', 1)
    for (let i = 2; i <= 4; i++) await sb.publish('h:mid', i)
    const { c, result, replay, after } = await resume(client, 'h:mid', { epoch, offset: 1 })
    expect(result).toEqual({ epoch, offset: 4, recovered: true })
    expect(replay).toEqual([2, 3, 4])
    expect(messagesOf(c, 'h:mid').map((m) => m.data)).toEqual([2, 3, 4])
    await sb.publish('h:mid', 5)
    await until(() => messagesOf(c, 'h:mid', after).length === 1)
    expect(messagesOf(c, 'h:mid').map((m) => m.offset)).toEqual([2, 3, 4, 5])
  })

  it('offset trimmed (history size 5): not recovered, no replay, the current position; the edge is exact', async () => {
    const { sb, client } = await setup()
    let head: StreamPosition = { epoch: '', offset: 0 }
    for (let i = 1; i <= 12; i++) head = await sb.publish('h:trim', i)
    // The window holds 8..12: from 7 everything is there, from 6 offset 7 is missing.
    const edge = await resume(client, 'h:trim', { epoch: head.epoch, offset: 7 })
    expect(edge.result).toEqual({ ...head, recovered: true })
    expect(edge.replay).toEqual([8, 9, 10, 11, 12])
    const trimmed = await resume(client, 'h:trim', { epoch: head.epoch, offset: 6 })
    expect(trimmed.result).toEqual({ ...head, recovered: false })
    expect(trimmed.replay).toEqual([])
    // Still subscribed: live messages come after the reply.
    await sb.publish('h:trim', 13)
    await until(() => messagesOf(trimmed.c, 'h:trim').length === 1)
    expect(messagesOf(trimmed.c, 'h:trim')[0]).toMatchObject({ offset: 13 })
  })

  it('offset expired (ttl 150 ms): not recovered; at the head still recovered', async () => {
    const { sb, client } = await setup()
    const start = await sb.publish('ttl:a', 1)
    const head = await sb.publish('ttl:a', 2)
    await new Promise((r) => setTimeout(r, 300))
    const expired = await resume(client, 'ttl:a', { epoch: start.epoch, offset: 0 })
    expect(expired.result).toEqual({ ...head, recovered: false })
    expect(expired.replay).toEqual([])
    const atHead = await resume(client, 'ttl:a', head)
    expect(atHead.result).toEqual({ ...head, recovered: true })
  })

  it('offset in the future: not recovered, the current position', async () => {
    const { sb, client } = await setup()
    const head = await sb.publish('h:future', 1)
    const r = await resume(client, 'h:future', { epoch: head.epoch, offset: 2 })
    expect(r.result).toEqual({ ...head, recovered: false })
    expect(r.replay).toEqual([])
  })

  it('epoch changed: not recovered, and the new epoch replayed from its start', async () => {
    // The old epoch's tail is gone (recovered: false), but what was acknowledged in the new one
    // is still in its history: it is replayed from offset 1, not lost as well.
    const { sb, client } = await setup()
    await sb.publish('h:epoch', 1)
    await sb.publish('h:epoch', 2)
    const head = await sb.publish('h:epoch', 3)
    for (const offset of [0, 1, 5]) {
      const r = await resume(client, 'h:epoch', { epoch: 'gone-epoch', offset })
      expect(r.result).toEqual({ ...head, recovered: false })
      expect(r.replay).toEqual([1, 2, 3])
    }
  })

  it('epoch changed and the new epoch already trimmed: not recovered, nothing replayed', async () => {
    const { sb, client } = await setup()
    let head = await sb.publish('h:trimmed', 0)
    for (let i = 1; i < 8; i++) head = await sb.publish('h:trimmed', i)
    const r = await resume(client, 'h:trimmed', { epoch: 'gone-epoch', offset: 2 })
    expect(r.result).toEqual({ ...head, recovered: false })
    expect(r.replay).toEqual([])
  })

  it('epoch changed because a channel without history was forgotten: not recovered', async () => {
    const { sb, client } = await setup()
    const first = await client()
    const { result: pos } = await subscribe(first, 'plain:gone')
    await sb.publish('plain:gone', 1)
    await until(() => messagesOf(first, 'plain:gone').length === 1)
    first.ws.close()
    await until(() => sb.channelSize('plain:gone') === 0)
    const r = await resume(client, 'plain:gone', { epoch: pos.epoch, offset: 1 })
    expect(r.result.recovered).toBe(false)
    expect(r.result.epoch).not.toBe(pos.epoch)
    expect(r.result.offset).toBe(0)
  })

  it('a channel without history: recovered only when nothing was missed', async () => {
    const { sb, client } = await setup()
    const keeper = await client() // keeps the channel, and its epoch, alive
    const { result: pos } = await subscribe(keeper, 'plain:kept')
    const one = await sb.publish('plain:kept', 1)
    expect((await resume(client, 'plain:kept', one)).result).toEqual({ ...one, recovered: true })
    const missed = await resume(client, 'plain:kept', pos)
    expect(missed.result).toEqual({ ...one, recovered: false })
    expect(missed.replay).toEqual([])
  })

  it('unknown channel: not recovered, offset 0 of a new epoch', async () => {
    const { client } = await setup()
    for (const channel of ['h:never-seen', 'plain:never-seen']) {
      const r = await resume(client, channel, { epoch: 'whatever', offset: 5 })
      expect(r.result.recovered).toBe(false)
      expect(r.result.offset).toBe(0)
      expect(r.result.epoch).not.toBe('whatever')
    }
  })

  it('never an error: every edge case is an ok reply, and no error frame is sent', async () => {
    const { sb, client } = await setup()
    const head = await sb.publish('h:all', 1)
    const c = await client()
    const cases: StreamPosition[] = [
      head,
      { epoch: head.epoch, offset: 0 },
      { epoch: head.epoch, offset: 1e9 },
      { epoch: 'x', offset: 0 },
    ]
    for (const since of cases) {
      for (const channel of ['h:all', 'plain:all', 'ttl:all']) {
        const r = await subscribe(c, channel, since)
        expect(typeof r.result.recovered).toBe('boolean')
        const id = `u${++nextId}`
        c.send({ type: 'unsubscribe', id, channel })
        expect(await c.next('reply', (f) => f.id === id)).toMatchObject({ ok: true })
      }
    }
    expect(c.frames.filter((f) => f.type === 'error' || (f.type === 'reply' && !f.ok))).toEqual([])
  })
})

/** A broker whose history read is slow, before or after reading: publishes race the recovery. */
class SlowHistoryBroker extends MemoryBroker {
  constructor(private readonly delay: { before: number; after: number }) {
    super({ history: () => ({ size: 100_000, ttlMs: Number.POSITIVE_INFINITY }) })
  }

  override async history(channel: string, since: StreamPosition): Promise<HistoryResult> {
    await new Promise((r) => setTimeout(r, this.delay.before))
    const result = await super.history(channel, since)
    await new Promise((r) => setTimeout(r, this.delay.after))
    return result
  }
}

describe('replay meets live: no gap, no overlap, while publishing continues', () => {
  /**
   * A publisher publishes on every event-loop turn; a first connection reads a while and drops;
   * a second resumes from the last offset the first handled. The second must see exactly the
   * offsets after it, once each, in order — replay and live stream joined.
   */
  async function raceOnce(
    setupResult: Awaited<ReturnType<typeof setup>>,
    channel: string,
    readFor: number,
    sameConnection: boolean,
  ) {
    const { sb, client } = setupResult
    const first = await client()
    await subscribe(first, channel)
    let publishing = true
    let last: StreamPosition | undefined
    const publisher = (async () => {
      while (publishing) {
        last = await sb.publish(channel, { at: Date.now() })
        await new Promise((r) => setImmediate(r))
      }
    })()
    await until(() => messagesOf(first, channel).length >= readFor)
    let resumed: TestClient
    let handled: MessageFrame[]
    if (sameConnection) {
      // A resubscribe with `since` on the connection that is still subscribed (the slow-consumer
      // path): what it already had, and the replay, overlap; dropping by offset must leave no gap.
      handled = messagesOf(first, channel)
      resumed = first
    } else {
      first.ws.terminate()
      handled = messagesOf(first, channel)
      resumed = await client()
    }
    const since = { epoch: handled.at(-1)!.epoch, offset: handled.at(-1)!.offset }
    const start = resumed.frames.length
    const r = await subscribe(resumed, channel, since)
    expect(r.result.recovered).toBe(true)
    await new Promise((res) => setTimeout(res, 30))
    publishing = false
    await publisher
    const end = last!.offset
    await until(() => messagesOf(resumed, channel).at(-1)?.offset === end)
    const after = messagesOf(resumed, channel, start).map((m) => m.offset)
    if (sameConnection) {
      // Frames already on their way when the resubscribe was sent come again in the replay; a
      // client that drops every offset at or below the last it handled sees each exactly once.
      let handledUpTo = since.offset
      const seen: number[] = []
      for (const o of after) {
        if (o <= handledUpTo) continue
        seen.push(o)
        handledUpTo = o
      }
      expect(seen).toEqual(range(since.offset + 1, end))
    } else {
      expect(after).toEqual(range(since.offset + 1, end))
    }
    return { replayed: r.replay.length, live: after.length - r.replay.length }
  }

  it('with the in-memory broker', async () => {
    const s = await setup()
    for (let i = 0; i < 10; i++) await raceOnce(s, `big:race-${i}`, 5 + i * 7, false)
  })

  it('when live messages arrive while the history is being read (slow read)', async () => {
    const s = await setup({ broker: new SlowHistoryBroker({ before: 25, after: 0 }) })
    let held = 0
    for (let i = 0; i < 5; i++) held += (await raceOnce(s, `race-before-${i}`, 10, false)).replayed
    expect(held).toBeGreaterThan(0)
  })

  it('when live messages arrive after the history was read, before the reply (slow return)', async () => {
    const s = await setup({ broker: new SlowHistoryBroker({ before: 0, after: 25 }) })
    let live = 0
    for (let i = 0; i < 5; i++) live += (await raceOnce(s, `race-after-${i}`, 10, false)).live
    expect(live).toBeGreaterThan(0)
  })

  it('a resubscribe with since on a connection that is still subscribed', async () => {
    const s = await setup({ broker: new SlowHistoryBroker({ before: 10, after: 10 }) })
    for (let i = 0; i < 5; i++) await raceOnce(s, `race-same-${i}`, 10, true)
  })
})
