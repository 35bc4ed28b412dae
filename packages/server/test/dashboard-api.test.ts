// What the operations dashboard reads and does through the HTTP API, against a real server with
// real WebSocket clients: read-only keys (every read, no action), whoami, sessions and dashboard
// links (what each token may do, expiry, no escalation), connections of a user or an id, the stats
// stream (backlog, then a sample a second with the connected clients, messages, closes by kind,
// recoveries) and a channel's live tail; the new counters in the metrics.
import { signDashboardLink } from '@switchboard/server'
import { createMetrics } from '@switchboard/server/metrics'
import { serverFixture, until } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'
import type { StatsSample } from '../src/stats/stats-sample.js'
import { call, documentSchemas, KEY, ok, PUBLISH_KEY } from './http-api-helpers.js'
import { SseReader } from './sse-reader.js'

const READ_KEY = 'k-read-0123456789abcdef'

const { setup, onCleanup } = serverFixture({
  httpApi: {
    keys: [{ key: KEY }, { key: PUBLISH_KEY, publishOnly: true }, { key: READ_KEY, readOnly: true }],
  },
  channels: { 'chat:*': { history: 50, presence: true } },
  authenticate: (req) => ({ user: new URL(req.url ?? '/', 'http://x').searchParams.get('user') ?? 'anon' }),
  presence: (conn) => ({ userId: String(conn.data.user) }),
})

async function server() {
  const s = await setup()
  const api = s.api!.url
  const conforms = await documentSchemas(api)
  const stream = async (path: string, key = KEY) => {
    const reader = await SseReader.open(`${api}/${path}`, key)
    onCleanup(() => reader.close())
    return reader
  }
  return { ...s, api, conforms, stream }
}

describe('read-only keys and tokens', () => {
  it('a read-only key reads everything and acts on nothing', async () => {
    const { api, conforms, client } = await server()
    const c = await client('?user=ada')
    c.send({ type: 'subscribe', id: '1', channel: 'chat:a' })
    await c.next('reply')
    expect(await ok(conforms, call(api, 'whoami', {}, READ_KEY), 'whoami')).toEqual({
      access: 'read',
      via: 'key',
    })
    await ok(conforms, call(api, 'info', {}, READ_KEY), 'info')
    await ok(conforms, call(api, 'channels', {}, READ_KEY), 'channels')
    await ok(conforms, call(api, 'history', { channel: 'chat:a' }, READ_KEY), 'history')
    await ok(conforms, call(api, 'presence', { channel: 'chat:a' }, READ_KEY), 'presence')
    await ok(conforms, call(api, 'connections', { user: 'ada' }, READ_KEY), 'connections')
    for (const [method, body] of [
      ['publish', { channel: 'chat:a', data: 1 }],
      ['broadcast', { channels: ['chat:a'], data: 1 }],
      ['subscribe', { user: 'ada', channel: 'chat:b' }],
      ['unsubscribe', { user: 'ada', channel: 'chat:a' }],
      ['disconnect', { user: 'ada' }],
    ] as const) {
      const answer = await call(api, method, body, READ_KEY)
      expect(answer.status, method).toBe(403)
      expect(answer.body).toEqual({
        error: { code: 'forbidden', message: `this key is read-only, it may not call "${method}"` },
      })
    }
    // Nothing happened: still connected, still subscribed, nothing published.
    expect(c.ws.readyState).toBe(c.ws.OPEN)
    expect((await call(api, 'history', { channel: 'chat:a' })).body).toMatchObject({ messages: [] })
    // A publish-only key reads nothing, the streams included.
    expect((await call(api, 'whoami', {}, PUBLISH_KEY)).body).toEqual({ access: 'publish', via: 'key' })
    expect((await call(api, 'connections', {}, PUBLISH_KEY)).status).toBe(403)
    const refused = await SseReader.open(`${api}/stats/stream`, PUBLISH_KEY)
    expect(refused.status).toBe(403)
  })

  it('a key is publishOnly or readOnly, not both', async () => {
    await expect(
      setup({ httpApi: { keys: [{ key: READ_KEY, readOnly: true, publishOnly: true }] } }),
    ).rejects.toThrow(/publishOnly or readOnly, not both/)
  })

  it('sessions: from a key or a link, with that access, never more; links are good only for a session', async () => {
    const { api, conforms } = await server()
    const session = await ok(conforms, call(api, 'session', { ttl: 120 }, READ_KEY), 'session')
    expect(session.access).toBe('read')
    expect(Number(session.expires) - Date.now()).toBeGreaterThan(100_000)
    const token = String(session.token)
    expect((await call(api, 'whoami', {}, token)).body).toEqual({ access: 'read', via: 'session' })
    expect((await call(api, 'info', {}, token)).status).toBe(200)
    expect((await call(api, 'disconnect', { user: 'x' }, token)).status).toBe(403)
    // A session does not make another (it would never end).
    expect((await call(api, 'session', {}, token)).status).toBe(403)

    const link = signDashboardLink(KEY, { ttlSeconds: 60 })
    expect((await call(api, 'whoami', {}, link)).body).toEqual({ access: 'full', via: 'link' })
    expect((await call(api, 'info', {}, link)).status).toBe(401)
    const full = await ok(conforms, call(api, 'session', {}, link), 'session')
    expect(full.access).toBe('full')
    expect((await call(api, 'disconnect', { user: 'nobody' }, String(full.token))).status).toBe(200)
    // A read-only key cannot sign its way to full access; an expired link, or one signed with a
    // key the server does not have, or tampered with, is no credential.
    for (const bad of [
      signDashboardLink(READ_KEY, { access: 'full' }),
      signDashboardLink(KEY, { ttlSeconds: 1, now: Date.now() - 5000 }),
      signDashboardLink('some-other-key-0123456789'),
      link.replace('.full.', '.read.'),
    ]) {
      expect((await call(api, 'session', {}, bad)).status).toBe(401)
    }
    const readLink = signDashboardLink(READ_KEY, { access: 'read' })
    expect((await ok(conforms, call(api, 'session', {}, readLink), 'session')).access).toBe('read')
  })
})

describe('connections', () => {
  it('of a user, of one connection id, or everyone: node, transport, address, since, channels', async () => {
    const { api, conforms, client } = await server()
    const before = Date.now()
    const ada1 = await client('?user=ada')
    const ada2 = await client('?user=ada')
    await client('?user=bob')
    ada2.send({ type: 'subscribe', id: '1', channel: 'chat:x' })
    await ada2.next('reply')
    const hello = (c: typeof ada1) => {
      const frame = c.frames[0]
      if (frame?.type !== 'hello') throw new Error('no hello')
      return frame.connectionId
    }
    const ada = await ok(conforms, call(api, 'connections', { user: 'ada' }), 'connections')
    expect(ada).toMatchObject({ truncated: false, nodes: { reached: 1, answered: 1 } })
    const list = ada.connections as Array<Record<string, unknown>>
    expect(list.map((c) => c.id)).toEqual([hello(ada2), hello(ada1)])
    expect(list[0]).toMatchObject({
      user: 'ada',
      node: 'local',
      transport: 'websocket',
      address: '127.0.0.1',
      channels: ['chat:x'],
      subscriptions: 1,
    })
    expect(Number(list[0]!.since)).toBeGreaterThanOrEqual(before)
    const one = await ok(conforms, call(api, 'connections', { connection: hello(ada1) }), 'connections')
    expect((one.connections as unknown[]).length).toBe(1)
    const all = await ok(conforms, call(api, 'connections', { limit: 2 }), 'connections')
    expect(all).toMatchObject({ truncated: true })
    expect((all.connections as unknown[]).length).toBe(2)
    expect((await call(api, 'connections', { user: 'ada', connection: 'x' })).status).toBe(400)
  })
})

describe('the stats stream and the tail', () => {
  it('a backlog, then a sample a second: connections, messages, closes by kind, recoveries', async () => {
    const { api, client, sb, stream } = await server()
    const a = await client('?user=ada')
    const b = await client('?user=bob')
    const stats = await stream('stats/stream', READ_KEY)
    expect(stats.status).toBe(200)
    expect(await stats.next('backlog')).toEqual([])
    const first = await stats.next<StatsSample>('sample')
    expect(first.cluster.connections).toBe(2)
    expect(first.nodes).toHaveLength(1)
    expect(first.nodes[0]).toMatchObject({ node: 'local', connections: 2 })
    expect(first.nodes[0]!.memory.rss).toBeGreaterThan(0)
    expect(first).toMatchObject({ reached: 1, answered: 1, brokerUnavailable: false, alerts: [] })

    a.send({ type: 'subscribe', id: '1', channel: 'chat:s' })
    await a.next('reply')
    for (let i = 0; i < 5; i++) await call(api, 'publish', { channel: 'chat:s', data: i })
    await until(() => a.frames.filter((f) => f.type === 'message').length === 5)
    // A resubscribe with a position it can recover from.
    a.send({
      type: 'subscribe',
      id: '2',
      channel: 'chat:s',
      since: { epoch: (a.frames.at(-1) as { epoch: string }).epoch, offset: 2 },
    })
    await a.next('reply')
    b.ws.close(1000)
    await until(() => sb.connections.size === 1)
    const seen = { in: 0, out: 0, normal: 0, recovered: 0 }
    for (let i = 0; i < 5 && (seen.in < 5 || seen.normal < 1 || seen.recovered < 1); i++) {
      const s = await stats.next<StatsSample>('sample', 3000)
      seen.in += s.cluster.messagesInPerSecond > 0 ? s.nodes[0]!.messagesInPerSecond : 0
      seen.normal += s.cluster.closes.normal
      seen.recovered += s.cluster.recoveries.recovered
      seen.out += s.cluster.messagesOutPerSecond
    }
    expect(seen.normal).toBe(1)
    expect(seen.recovered).toBe(1)
    expect(seen.in).toBeGreaterThanOrEqual(4)
    expect(seen.out).toBeGreaterThanOrEqual(4)
    const last = await stats.next<StatsSample>('sample', 3000)
    expect(last.cluster.connections).toBe(1)

    // A second viewer gets what was gathered so far, from the same gather.
    const second = await stream('stats/stream')
    const backlog = await second.next<StatsSample[]>('backlog')
    expect(backlog.length).toBeGreaterThanOrEqual(3)
    expect(backlog.map((s) => s.at)).toEqual([...backlog.map((s) => s.at)].sort((x, y) => x - y))
    expect(sb.stats()).toMatchObject({ messagesIn: 5, recoveries: { recovered: 1, notRecovered: 0 } })
    const text = await createMetrics(sb).registry.metrics()
    expect(text).toContain('switchboard_messages_in_total 5')
    expect(text).toContain('switchboard_recoveries_total{recovered="true"} 1')
    expect(text).toContain('switchboard_recoveries_total{recovered="false"} 0')
  })

  it('the tail: each message published on the channel from now on, with or without a subscriber here', async () => {
    const { api, stream, client } = await server()
    const tail = await stream('tail?channel=chat:t', READ_KEY)
    expect(tail.status).toBe(200)
    await call(api, 'publish', { channel: 'chat:t', data: { text: 'one' } })
    expect(await tail.next('message')).toMatchObject({ channel: 'chat:t', offset: 1, data: { text: 'one' } })
    const c = await client('?user=ada')
    c.send({ type: 'subscribe', id: '1', channel: 'chat:t' })
    await c.next('reply')
    await call(api, 'publish', { channel: 'chat:t', data: { text: 'two' } })
    expect(await tail.next('message')).toMatchObject({ offset: 2, data: { text: 'two' } })
    await c.next('message')
    // The tail is not a subscriber: the channel lists one.
    const channels = await call(api, 'channels', {})
    expect(channels.body).toMatchObject({ channels: [{ channel: 'chat:t', subscribers: 1 }] })
    expect((await SseReader.open(`${api}/tail?channel=bad channel`, KEY)).status).toBe(400)
  })
})
