/**
 * The transport contract: one set of behaviour tests that every transport (WebSocket, SSE,
 * long-polling) must pass the same way, against a real server, spoken by a raw protocol client.
 * A runner names the transport, its client factory and a peer on another transport (for
 * delivery across transports):
 *
 *   describeTransportContract('SSE', sseClient, { name: 'long-polling', client: longPollingClient })
 */
import type { StreamPosition } from '@switchboard/protocol'
import { describe, expect, it } from 'vitest'
import type { SeenFrame } from '../frame-log.js'
import { until } from '../until.js'
import type { ClientFactory, ContractClient } from './contract-client.js'
import { CONTRACT_LIMITS, closedWithin, contractFixture } from './contract-fixture.js'

export interface ContractPeer {
  /** The peer transport's name, for the test titles. */
  name: string
  client: ClientFactory
}

/** The position a successful subscribe reply carries; throws on a failed reply. */
function okData(reply: Extract<SeenFrame, { type: 'reply' }>): StreamPosition {
  if (!reply.ok) throw new Error(`reply ${reply.id} failed: ${reply.error.code}`)
  const data = reply.data as { epoch?: unknown; offset?: unknown } | null | undefined
  if (typeof data?.epoch !== 'string' || typeof data.offset !== 'number') {
    throw new Error(`reply ${reply.id} carries no position: ${JSON.stringify(reply.data)}`)
  }
  return { epoch: data.epoch, offset: data.offset }
}

/** The connection id its `hello` gave the client. */
function connectionId(client: ContractClient): string {
  const hello = client.frames[0]
  if (hello?.type !== 'hello') throw new Error('the first frame is not hello')
  return hello.connectionId
}

export function describeTransportContract(name: string, makeClient: ClientFactory, peer: ContractPeer): void {
  describe(`transport contract: ${name}`, () => {
    const { start } = contractFixture(makeClient, peer.client)

    it('sends hello first, with the connection id, the heartbeat and the limits', async () => {
      const { sb, client } = await start()
      const c = await client()
      const hello = c.frames[0]
      expect(hello).toMatchObject({
        type: 'hello',
        version: 1,
        heartbeat: CONTRACT_LIMITS.heartbeat,
        limits: {
          maxPayload: CONTRACT_LIMITS.maxPayload,
          maxSubscriptions: CONTRACT_LIMITS.maxSubscriptions,
        },
      })
      expect(hello?.type === 'hello' && sb.connections.has(hello.connectionId)).toBe(true)
    })

    it('answers a subscribe with the channel position, then delivers what is published', async () => {
      const { sb, client } = await start()
      const c = await client()
      await sb.publish('news:a', 'one')
      const { epoch } = await sb.publish('news:a', 'two')
      await c.send({ type: 'subscribe', id: 's', channel: 'news:a' })
      expect(await c.next('reply', (r) => r.id === 's')).toEqual({
        type: 'reply',
        id: 's',
        ok: true,
        data: { epoch, offset: 2 },
      })
      await sb.publish('news:a', 'three')
      expect(await c.next('message')).toEqual({
        type: 'message',
        channel: 'news:a',
        epoch,
        offset: 3,
        data: 'three',
      })
    })

    it(`acknowledges client publishes with epoch and offset; a subscriber on ${peer.name} gets all 50 in order`, async () => {
      const { client, peer: openPeer } = await start()
      const subscriber = await openPeer()
      await subscriber.send({ type: 'subscribe', id: 's', channel: 'open:order' })
      const position = okData(await subscriber.next('reply', (r) => r.id === 's'))
      const c = await client()
      for (let n = 0; n < 50; n++) {
        await c.send({ type: 'publish', id: `p${n}`, channel: 'open:order', data: { n } })
      }
      const acks = []
      for (let n = 0; n < 50; n++) acks.push(await c.next('reply', (r) => r.id === `p${n}`))
      const { epoch } = position
      expect(acks.map((a) => (a.ok ? a.data : a.error))).toEqual(
        Array.from({ length: 50 }, (_, i) => ({ epoch, offset: i + 1 })),
      )
      await until(
        () => subscriber.frames.filter((f) => f.type === 'message').length >= 50,
        5000,
        '50 messages',
      )
      const messages = subscriber.frames.flatMap((f) => (f.type === 'message' ? [f] : []))
      expect(messages.map((m) => [m.epoch, m.offset, m.data])).toEqual(
        Array.from({ length: 50 }, (_, i) => [epoch, i + 1, { n: i }]),
      )
      // The publisher is not subscribed: it gets the acknowledgements only.
      expect(c.frames.some((f) => f.type === 'message')).toBe(false)
    })

    it('carries a request to its handler and the reply back; an unknown event is unknown_event', async () => {
      const { sb, client } = await start()
      sb.handle('echo', (conn, data) => ({ echoed: data, by: conn.id }))
      const c = await client()
      const hello = c.frames[0]
      await c.send({ type: 'request', id: 'r1', event: 'echo', data: { x: [1, 2] } })
      expect(await c.next('reply', (r) => r.id === 'r1')).toEqual({
        type: 'reply',
        id: 'r1',
        ok: true,
        data: { echoed: { x: [1, 2] }, by: hello?.type === 'hello' ? hello.connectionId : '?' },
      })
      await c.send({ type: 'request', id: 'r2', event: 'nobody-home', data: null })
      expect(await c.next('reply', (r) => r.id === 'r2')).toMatchObject({
        ok: false,
        error: { code: 'unknown_event' },
      })
    })

    it('answers invalid frames with error frames and keeps the connection open', async () => {
      const { sb, client } = await start()
      const c = await client()
      await c.send('{"type":')
      expect(await c.next('error')).toMatchObject({ code: 'invalid_json' })
      await c.send('{"type":"publish","id":"bad","channel":"open:a","data":{"__proto__":{"a":1}}}')
      expect(await c.next('error')).toMatchObject({ code: 'invalid_frame' })
      await c.send({ type: 'ping', id: 'still' })
      expect(await c.next('pong')).toEqual({ type: 'pong', id: 'still' })
      expect(sb.connections.size).toBe(1)
      expect(c.frames.some((f) => f.type === 'close')).toBe(false)
    })

    it('answers ping with pong, with the same id or none', async () => {
      const { client } = await start()
      const c = await client()
      await c.send({ type: 'ping', id: '7' })
      expect(await c.next('pong')).toEqual({ type: 'pong', id: '7' })
      await c.send({ type: 'ping' })
      expect(await c.next('pong')).toEqual({ type: 'pong' })
    })

    it('stops delivery on unsubscribe', async () => {
      const { sb, client, peer: openPeer } = await start()
      const c = await client()
      const witness = await openPeer()
      for (const s of [c, witness]) {
        await s.send({ type: 'subscribe', id: 's', channel: 'news:u' })
        await s.next('reply', (r) => r.id === 's')
      }
      await sb.publish('news:u', 'before')
      expect(await c.next('message')).toMatchObject({ offset: 1, data: 'before' })
      await c.send({ type: 'unsubscribe', id: 'u', channel: 'news:u' })
      expect(await c.next('reply', (r) => r.id === 'u')).toEqual({ type: 'reply', id: 'u', ok: true })
      await sb.publish('news:u', 'after')
      // The witness gets it; after a round trip queued behind it, `c` still has not.
      expect(await witness.next('message', (m) => m.offset === 2)).toMatchObject({ data: 'after' })
      await c.send({ type: 'ping', id: 'after' })
      await c.next('pong')
      expect(c.frames.flatMap((f) => (f.type === 'message' ? [f.data] : []))).toEqual(['before'])
    })

    it('carries a close from the server to the client with its code and reason', async () => {
      const { sb, client } = await start()
      const c = await client()
      const [conn] = [...sb.connections.values()]
      conn!.close(4000, 'contract says bye')
      expect(await closedWithin(c)).toEqual({ code: 4000, reason: 'contract says bye' })
    })

    it('carries sb.close() to the client as 1012', async () => {
      const { sb, client } = await start()
      const c = await client()
      // A round trip, then a moment for a long-polling client to have its next poll waiting: a
      // session with no poll waiting when the server stops listening cannot be told of the close.
      await c.send({ type: 'ping', id: 'here' })
      await c.next('pong')
      await new Promise((r) => setTimeout(r, 50))
      const closing = sb.close({ timeout: 2000 })
      expect(await closedWithin(c)).toEqual({ code: 1012, reason: 'server restarting' })
      await closing
    })

    it('recovers: a subscribe with since replays the missed publications, then replies recovered: true', async () => {
      const { sb, client } = await start()
      const first = await client()
      await first.send({ type: 'subscribe', id: 's', channel: 'news:r' })
      const since = okData(await first.next('reply', (r) => r.id === 's'))
      first.dispose()
      for (const text of ['a', 'b', 'c']) await sb.publish('news:r', text)
      const again = await client()
      await again.send({ type: 'subscribe', id: 'r', channel: 'news:r', since })
      const reply = await again.next('reply', (r) => r.id === 'r')
      expect(reply).toMatchObject({ ok: true, data: { offset: 3, recovered: true } })
      // The replayed messages come before the reply, in order.
      const upToReply = again.frames.slice(0, again.frames.indexOf(reply))
      expect(upToReply.flatMap((f) => (f.type === 'message' ? [[f.offset, f.data]] : []))).toEqual([
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
      ])
    })

    it('cuts a client that stops reading as a slow consumer (4100); one that reads keeps up', async () => {
      const { sb, client } = await start({ maxBufferedBytes: 64 * 1024 })
      const codes: number[] = []
      sb.on('disconnect', (_conn, { code }) => codes.push(code))
      const [slow, reader] = [await client(), await client()]
      for (const c of [slow, reader]) {
        await c.send({ type: 'subscribe', id: 's', channel: 'news:flood' })
        await c.next('reply', (r) => r.id === 's')
      }
      slow.pause()
      const slowConn = sb.connections.get(connectionId(slow))!
      const readerConn = sb.connections.get(connectionId(reader))!
      const payload = 'x'.repeat(2048)
      let sent = 0
      // One publication per event-loop turn, as real traffic comes: a client that reads keeps up.
      while (slowConn.state === 'open' && sent < 20_000) {
        await sb.publish('news:flood', { n: sent++, payload })
        await new Promise((r) => setImmediate(r))
      }
      expect(slowConn.state).not.toBe('open')
      // Reading again, the client learns of the end: the close itself if it got through, else a
      // dropped connection; the server reports the cut as 4100.
      slow.resume()
      expect([4100, 1006]).toContain((await closedWithin(slow)).code)
      await until(() => codes.length > 0, 5000, 'the disconnect')
      expect(codes).toEqual([4100])
      await until(() => reader.frames.filter((f) => f.type === 'message').length === sent, 10_000, 'all')
      expect(readerConn.state).toBe('open')
    })
  })
}
