// Broker failures as the server answers them (issue 13, points 11 and 12), with a MemoryBroker
// that can be switched off: every channel operation is answered `unavailable` (not `internal`),
// a publish the broker may still carry out is answered `timeout`, and the log gets one line per
// outage window rather than one per failure.
import {
  type Broker,
  BrokerOutcomeUnknownError,
  MemoryBroker,
  type PublishOptions,
} from '@switchboard/broker'
import type { JsonValue, ReplyFrame, StreamPosition } from '@switchboard/protocol'
import { ChannelRules, SwitchboardError } from '@switchboard/server'
import { serverFixture, type TestClient } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'
import { guardBroker } from '../src/channels/broker-guard.js'

const channels = { 'room:*': { history: 10, presence: true, clientPublish: true } }
const rules = new ChannelRules(channels)
const { setup } = serverFixture({ channels })

/** A MemoryBroker whose every operation fails while `down`; a publish can be made "sent, unconfirmed". */
class SwitchedBroker extends MemoryBroker {
  down = false
  unconfirmed = false

  constructor() {
    super({ history: (channel) => rules.get(channel).history })
    // Each presence call checks first, then does what MemoryBroker does.
    const { add, remove, update, list, users, counts } = this.presence
    this.presence.add = async (channel, member) => {
      this.fail()
      return add(channel, member)
    }
    this.presence.remove = async (channel, id, options) => {
      this.fail()
      return remove(channel, id, options)
    }
    this.presence.update = async (channel, id, info) => {
      this.fail()
      return update(channel, id, info)
    }
    this.presence.list = async (channel) => {
      this.fail()
      return list(channel)
    }
    this.presence.users = async (channel) => {
      this.fail()
      return users(channel)
    }
    this.presence.counts = async (channel) => {
      this.fail()
      return counts(channel)
    }
  }

  override async publish(
    channel: string,
    data: JsonValue,
    options?: PublishOptions,
  ): Promise<StreamPosition> {
    if (this.unconfirmed) throw new BrokerOutcomeUnknownError('sent, no answer')
    this.fail()
    return super.publish(channel, data, options)
  }
  override async subscribe(...args: Parameters<Broker['subscribe']>) {
    this.fail()
    return super.subscribe(...args)
  }
  override async position(channel: string) {
    this.fail()
    return super.position(channel)
  }
  override async history(channel: string, since: StreamPosition) {
    this.fail()
    return super.history(channel, since)
  }
  override async recent(channel: string, limit: number) {
    this.fail()
    return super.recent(channel, limit)
  }

  private fail(): void {
    if (this.down) throw new Error('broker down')
  }
}

let ids = 0
async function ask(client: TestClient, frame: Record<string, unknown>): Promise<string> {
  const id = `b${++ids}`
  client.send({ ...frame, id })
  const reply: ReplyFrame = await client.next('reply', (r) => r.id === id)
  return reply.ok ? 'ok' : reply.error.code
}

describe('through a real server', () => {
  it('every operation on a failing broker is answered unavailable; all works once it is back', async () => {
    const broker = new SwitchedBroker()
    const { client } = await setup({ broker })
    const c1 = await client()
    const c2 = await client()
    expect(await ask(c1, { type: 'subscribe', channel: 'room:a' })).toBe('ok')
    broker.down = true
    expect({
      subscribe: await ask(c2, { type: 'subscribe', channel: 'room:a' }),
      resubscribe: await ask(c1, { type: 'subscribe', channel: 'room:a', since: { epoch: 'e', offset: 0 } }),
      history: await ask(c1, { type: 'request', event: '$history', data: { channel: 'room:a' } }),
      presence: await ask(c1, { type: 'request', event: '$presence', data: { channel: 'room:a' } }),
      publish: await ask(c1, { type: 'publish', channel: 'room:a', data: 1 }),
    }).toEqual({
      subscribe: 'unavailable',
      resubscribe: 'unavailable',
      history: 'unavailable',
      presence: 'unavailable',
      publish: 'unavailable',
    })
    broker.down = false
    expect(await ask(c2, { type: 'subscribe', channel: 'room:a' })).toBe('ok')
    expect(await ask(c1, { type: 'publish', channel: 'room:a', data: 2 })).toBe('ok')
    expect(await c2.next('message')).toMatchObject({ data: 2 })
  })

  it('a publish the broker may still carry out is answered timeout, to a client and to sb.publish', async () => {
    const broker = new SwitchedBroker()
    const { sb, client } = await setup({ broker })
    const c = await client()
    broker.unconfirmed = true
    expect(await ask(c, { type: 'publish', channel: 'room:t', data: 1, key: 'k' })).toBe('timeout')
    const rejection = await sb.publish('room:t', 1).catch((err: unknown) => err)
    expect(rejection).toBeInstanceOf(SwitchboardError)
    expect(rejection).toMatchObject({ code: 'timeout' })
  })
})

describe('guardBroker', () => {
  it('logs the first failure of an outage, then one line per window with the count left out', async () => {
    const broker = new SwitchedBroker()
    const lines: string[] = []
    let clock = 0
    const log = {
      info: (m: string) => lines.push(`info ${m}`),
      warn() {},
      error: (m: string) => lines.push(m),
    }
    const guarded = guardBroker(broker, log, { reportEveryMs: 1000, now: () => clock })
    broker.down = true
    for (let i = 0; i < 50; i++)
      await expect(guarded.position(`c${i}`)).rejects.toMatchObject({ code: 'unavailable' })
    expect(lines).toEqual(['broker position on "c0" failed, answered unavailable:'])
    clock = 1000
    await expect(guarded.history('c', { epoch: 'e', offset: 0 })).rejects.toMatchObject({
      code: 'unavailable',
    })
    expect(lines[1]).toBe(
      'broker history on "c" failed, answered unavailable (and 49 more broker failures not logged):',
    )
    await guarded.position('c').catch(() => {})
    broker.down = false
    await guarded.position('c')
    await guarded.position('c')
    expect(lines.slice(2)).toEqual(['info broker answers again (1 more failures were not logged)'])
  })
})
