// Batched fan-out (OutgoingBatch): the messages a channel gets within one flush window share one
// batch per subscriber. These tests publish many messages in one event-loop turn and change
// things in the middle of it — a frame for one connection, a publish that skips one, someone
// unsubscribing, someone joining, someone resubscribing with `since` — and check that every
// connection still gets exactly its frames, each once, in the order they were queued.
import type { ServerFrame } from '@switchboard/protocol'
import type { Connection } from '@switchboard/server'
import { serverFixture, type TestClient, until } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'

const { setup } = serverFixture({ channels: { 'h:*': { history: 1000 } } })

type Message = Extract<ServerFrame, { type: 'message' }>

const messagesOf = (c: TestClient, channel: string) =>
  c.frames.filter((f): f is Message => f.type === 'message' && f.channel === channel)
const dataOf = (c: TestClient, channel: string) => messagesOf(c, channel).map((m) => m.data)
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

async function subscribed(c: TestClient, channel: string, since?: { epoch: string; offset: number }) {
  const id = `s-${channel}-${c.frames.length}`
  c.send(since ? { type: 'subscribe', id, channel, since } : { type: 'subscribe', id, channel })
  const reply = await c.next('reply', (r) => r.id === id)
  expect(reply.ok).toBe(true)
  return reply
}

async function threeSubscribers(channel: string) {
  const { sb, client } = await setup()
  const clients = [await client(), await client(), await client()]
  for (const c of clients) await subscribed(c, channel)
  const conn = (c: TestClient): Connection => {
    const hello = c.frames[0] as Extract<ServerFrame, { type: 'hello' }>
    return sb.connections.get(hello.connectionId)!
  }
  return { sb, clients, conn }
}

describe('batched fan-out', () => {
  it('many messages in one turn reach every subscriber once, in order', async () => {
    const { sb, clients } = await threeSubscribers('h:a')
    for (let i = 1; i <= 500; i++) void sb.publish('h:a', i)
    await until(() => clients.every((c) => messagesOf(c, 'h:a').length >= 500))
    for (const c of clients) {
      expect(dataOf(c, 'h:a')).toEqual(range(1, 500))
      expect(messagesOf(c, 'h:a').map((m) => m.offset)).toEqual(range(1, 500))
    }
  })

  it('a frame for one connection in the middle of a batch stays in its place', async () => {
    const { sb, clients, conn } = await threeSubscribers('h:a')
    const [a, b] = clients as [TestClient, TestClient, TestClient]
    for (let i = 1; i <= 50; i++) void sb.publish('h:a', i)
    conn(a).send('note', 'between')
    for (let i = 51; i <= 100; i++) void sb.publish('h:a', i)
    await until(() => clients.every((c) => messagesOf(c, 'h:a').length >= 100))
    const seen = a.frames.filter((f) => f.type === 'message' || f.type === 'event')
    const at = seen.findIndex((f) => f.type === 'event')
    expect(at).toBe(50)
    expect(seen.filter((f): f is Message => f.type === 'message').map((m) => m.data)).toEqual(range(1, 100))
    expect(dataOf(b, 'h:a')).toEqual(range(1, 100))
    expect(b.frames.some((f) => f.type === 'event')).toBe(false)
  })

  it('a publish that skips one connection (except) does not reach it through the batch', async () => {
    const { sb, clients, conn } = await threeSubscribers('h:a')
    const [a, b, c] = clients as [TestClient, TestClient, TestClient]
    for (let i = 1; i <= 30; i++) void sb.publish('h:a', i)
    void sb.publish('h:a', 'not for a', { except: conn(a) })
    for (let i = 32; i <= 60; i++) void sb.publish('h:a', i)
    await until(() => [b, c].every((x) => messagesOf(x, 'h:a').length >= 60))
    await until(() => messagesOf(a, 'h:a').length >= 59)
    expect(dataOf(a, 'h:a')).toEqual([...range(1, 30), ...range(32, 60)])
    for (const x of [b, c]) expect(dataOf(x, 'h:a')).toEqual([...range(1, 30), 'not for a', ...range(32, 60)])
  })

  it('a connection that unsubscribes mid-turn gets nothing published after', async () => {
    const { sb, clients, conn } = await threeSubscribers('h:a')
    const [a, b] = clients as [TestClient, TestClient, TestClient]
    for (let i = 1; i <= 20; i++) void sb.publish('h:a', i)
    void sb.unsubscribe(conn(a), 'h:a')
    for (let i = 21; i <= 40; i++) void sb.publish('h:a', i)
    await until(() => messagesOf(b, 'h:a').length >= 40)
    // a flush later, whatever a would still get has arrived
    await new Promise((r) => setTimeout(r, 50))
    expect(dataOf(a, 'h:a')).toEqual(range(1, 20))
    expect(dataOf(b, 'h:a')).toEqual(range(1, 40))
  })

  it('a connection that joins mid-turn gets exactly the stream after its position', async () => {
    const { sb, clients, conn } = await threeSubscribers('h:a')
    const [a, b] = clients as [TestClient, TestClient, TestClient]
    // a leaves h:a, then joins again from the server side while h:a is busy
    const connA = conn(a)
    await subscribed(a, 'h:other')
    void sb.unsubscribe(connA, 'h:a')
    await until(() => !connA.subscriptions.has('h:a'))
    for (let i = 1; i <= 20; i++) void sb.publish('h:a', i)
    const joined = sb.subscribe(connA, 'h:a')
    for (let i = 21; i <= 60; i++) void sb.publish('h:a', i)
    const position = await joined
    for (let i = 61; i <= 80; i++) void sb.publish('h:a', i)
    await until(() => messagesOf(b, 'h:a').length >= 80)
    await until(() => messagesOf(a, 'h:a').some((m) => m.data === 80))
    // Held from the moment it joined, released at the reply's position: nothing before it,
    // nothing twice, nothing missing after it.
    expect(position.offset).toBeGreaterThanOrEqual(20)
    expect(dataOf(a, 'h:a')).toEqual(range(position.offset + 1, 80))
    expect(dataOf(b, 'h:a')).toEqual(range(1, 80))
  })

  it('a resubscribe with `since` in the middle of a busy stream: no gap, no duplicate', async () => {
    const { sb, clients } = await threeSubscribers('h:a')
    const [a, b] = clients as [TestClient, TestClient, TestClient]
    for (let i = 1; i <= 40; i++) void sb.publish('h:a', i)
    await until(() => messagesOf(a, 'h:a').length >= 40)
    const last = messagesOf(a, 'h:a').at(-1)!
    const id = 'resub'
    const stop = setInterval(() => {
      for (let i = 0; i < 20; i++) void sb.publish('h:a', `live`)
    }, 1)
    a.send({ type: 'subscribe', id, channel: 'h:a', since: { epoch: last.epoch, offset: 20 } })
    const reply = await a.next('reply', (r) => r.id === id)
    clearInterval(stop)
    expect(reply).toMatchObject({ ok: true, data: { recovered: true } })
    const total = (await sb.publish('h:a', 'end')).offset
    await until(() => messagesOf(a, 'h:a').some((m) => m.offset === total))
    await until(() => messagesOf(b, 'h:a').length >= total)
    // Right before the reply, the replay: 21 up to the reply's position; after it, the live
    // stream from the next offset on — each offset once, in order.
    if (!reply.ok) throw new Error(reply.error.message)
    const position = (reply.data as { offset: number }).offset
    const frames = a.frames.filter((f) => f.type === 'message' || (f.type === 'reply' && f.id === id))
    const replyAt = frames.findIndex((f) => f.type === 'reply')
    const before = frames.slice(0, replyAt) as Message[]
    const replay = before.slice(before.length - (position - 20))
    expect(replay.map((m) => m.offset)).toEqual(range(21, position))
    expect((frames.slice(replyAt + 1) as Message[]).map((m) => m.offset)).toEqual(range(position + 1, total))
    expect(messagesOf(b, 'h:a').map((m) => m.offset)).toEqual(range(1, total))
  })
})
