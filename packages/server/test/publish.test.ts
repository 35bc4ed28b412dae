// Publishing: acknowledged only after the broker accepted the message; refused loudly (and not
// delivered) when it did not; and an idempotency key makes a retried publish land once — with raw
// frames, and with the real client retrying a publish whose ack was lost to a dropped connection.
import { SwitchboardClient } from '@switchboard/client'
import type { JsonValue, StreamPosition } from '@switchboard/protocol'
import { MemoryBroker, type PublishOptions } from '@switchboard/server'
import { serverFixture, type TestClient, until } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'

const CHANNELS = { 'chat:*': { history: 100, clientPublish: true } }
const history = () => ({ size: 100, ttlMs: Number.POSITIVE_INFINITY })

const { setup, onCleanup } = serverFixture({ channels: CHANNELS })
async function subscribed(c: TestClient, channel: string) {
  c.send({ type: 'subscribe', id: `sub-${channel}`, channel })
  await c.next('reply', (r) => r.id === `sub-${channel}`)
}

const messages = (c: TestClient, channel: string) =>
  c.frames.filter((f) => f.type === 'message' && f.channel === channel)

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A broker that refuses every publish (a broker outage). */
class RefusingBroker extends MemoryBroker {
  override async publish(): Promise<StreamPosition> {
    throw new Error('broker down')
  }
}

/** A broker whose publishes wait at a gate until the test opens it. */
class GatedBroker extends MemoryBroker {
  open: () => void = () => {}
  private gate = new Promise<void>((resolve) => {
    this.open = resolve
  })

  override async publish(channel: string, data: JsonValue, options?: PublishOptions) {
    await this.gate
    return super.publish(channel, data, options)
  }
}

/** A broker that accepts a publish and then runs `afterAccept` before answering (the ack is lost). */
class AckLosingBroker extends MemoryBroker {
  accepted: Array<{ data: JsonValue; key: string | undefined; position: StreamPosition }> = []
  afterAccept: ((count: number) => void) | undefined

  override async publish(channel: string, data: JsonValue, options?: PublishOptions) {
    const position = await super.publish(channel, data, options)
    this.accepted.push({ data, key: options?.key, position })
    this.afterAccept?.(this.accepted.length)
    return position
  }
}

describe('acknowledgement', () => {
  it('a broker that refuses: the reply is `unavailable` and nothing is delivered', async () => {
    const { sb, client } = await setup({ broker: new RefusingBroker({ history }) })
    const sub = await client()
    await subscribed(sub, 'chat:down')
    const pub = await client()
    pub.send({ type: 'publish', id: 'p1', channel: 'chat:down', data: 'lost?' })
    expect(await pub.next('reply', (r) => r.id === 'p1')).toMatchObject({
      ok: false,
      error: { code: 'unavailable' },
    })
    // Without an id the refusal still reaches the publisher, as an error frame.
    pub.send({ type: 'publish', channel: 'chat:down', data: 'lost?' })
    expect(await pub.next('error')).toMatchObject({ code: 'unavailable', channel: 'chat:down' })
    // sb.publish is told the same, with the broker's own error as the cause.
    await expect(sb.publish('chat:down', 'from the server')).rejects.toMatchObject({
      code: 'unavailable',
      cause: { message: 'broker down' },
    })
    await pause(50)
    expect(messages(sub, 'chat:down')).toEqual([])
    expect(messages(pub, 'chat:down')).toEqual([])
    expect((await sb.broker.position('chat:down')).offset).toBe(0)
  })

  it('no ack before the broker accepted; the ack carries the accepted position', async () => {
    const broker = new GatedBroker({ history })
    const { client } = await setup({ broker })
    const pub = await client()
    await subscribed(pub, 'chat:gate')
    pub.send({ type: 'publish', id: 'p1', channel: 'chat:gate', data: 1 })
    await pause(100)
    expect(pub.frames.filter((f) => f.type === 'reply' && f.id === 'p1')).toEqual([])
    broker.open()
    const reply = await pub.next('reply', (r) => r.id === 'p1')
    const position = await broker.position('chat:gate')
    expect(reply).toEqual({ type: 'reply', id: 'p1', ok: true, data: position })
    expect(position.offset).toBe(1)
  })
})

describe('idempotency keys', () => {
  it('the same key twice: one message, both replies the same position', async () => {
    const { sb, client } = await setup()
    const sub = await client()
    await subscribed(sub, 'chat:k')
    const pub = await client()
    pub.send({ type: 'publish', id: '1', channel: 'chat:k', data: 'once', key: 'key-1' })
    const r1 = await pub.next('reply', (r) => r.id === '1')
    // Later, on another connection (as after a reconnect).
    const again = await client()
    again.send({ type: 'publish', id: '2', channel: 'chat:k', data: 'once', key: 'key-1' })
    const r2 = await again.next('reply', (r) => r.id === '2')
    expect(r1.ok && r2.ok).toBe(true)
    expect(r1.ok && r1.data).toEqual(r2.ok && r2.data)
    await pause(50)
    expect(messages(sub, 'chat:k').map((m) => m.type === 'message' && m.data)).toEqual(['once'])
    const h = await sb.broker.history('chat:k', {
      ...(r1.ok ? (r1.data as unknown as StreamPosition) : { epoch: '' }),
      offset: 0,
    })
    expect(h.messages.map((m) => m.data)).toEqual(['once'])
  })

  it('without a key, the same publish sent twice lands twice (the key is what makes it once)', async () => {
    const { client } = await setup()
    const sub = await client()
    await subscribed(sub, 'chat:nokey')
    sub.send({ type: 'publish', id: '1', channel: 'chat:nokey', data: 'twice' })
    sub.send({ type: 'publish', id: '2', channel: 'chat:nokey', data: 'twice' })
    await until(() => messages(sub, 'chat:nokey').length === 2)
  })

  for (const how of ['close', 'terminate'] as const) {
    it(`the real client: an ack lost to a dropped connection (${how}) is retried and lands once`, async () => {
      const broker = new AckLosingBroker({ history })
      const { sb, url, client } = await setup({ broker })
      const watcher = await client()
      await subscribed(watcher, 'chat:retry')

      const sbc = new SwitchboardClient(url, { backoff: () => 20, requestTimeout: 5000 })
      onCleanup(() => sbc.close())
      const room = sbc.channel('chat:retry')
      const seen: unknown[] = []
      room.on('publication', ({ data }) => seen.push(data))
      await new Promise((resolve) => room.once('subscribed', resolve))
      const states: string[] = []
      sbc.on('state', (s) => states.push(s.newState))

      // The first accepted publish drops its connection before the reply can be sent.
      broker.afterAccept = (count) => {
        if (count !== 1) return
        const conn = sb.connections.get(sbc.connectionId!)!
        if (how === 'close') conn.close(1012, 'drop after accept')
        else (conn as unknown as { terminate(code: number, reason: string): void }).terminate(1006, 'gone')
      }
      const ack = await sbc.publish('chat:retry', { text: 'hello' })

      // The publish reached the broker twice, with one key; it was accepted once.
      expect(broker.accepted).toHaveLength(2)
      expect(broker.accepted[0]!.key).toBe(broker.accepted[1]!.key)
      expect(broker.accepted[1]!.position).toEqual(broker.accepted[0]!.position)
      expect(ack).toEqual(broker.accepted[0]!.position)
      expect(states).toContain('reconnecting')
      await until(() => seen.length === 1 && messages(watcher, 'chat:retry').length === 1)
      await pause(50)
      expect(seen).toEqual([{ text: 'hello' }])
      expect(messages(watcher, 'chat:retry')).toHaveLength(1)
      expect(await broker.position('chat:retry')).toEqual(ack)
    })
  }
})

describe('frames received before a close', () => {
  it('are all processed: 50 publishes then a close land 50 times, whatever the broker latency', async () => {
    // A 2 ms asynchronous authorize.publish stands in for a broker round trip (Redis).
    const { client } = await setup({
      authorize: {
        publish: async () => {
          await pause(2)
          return true
        },
      },
    })
    const watcher = await client()
    await subscribed(watcher, 'chat:burst')
    const sender = await client()
    for (let i = 0; i < 50; i++) {
      sender.send({ type: 'publish', id: String(i), channel: 'chat:burst', data: i })
    }
    sender.ws.close(1000)
    await until(() => messages(watcher, 'chat:burst').length === 50, 5000, '50 publications')
    await pause(100)
    expect(messages(watcher, 'chat:burst').map((m) => (m as { data: number }).data)).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    )
  })
})
