/**
 * Server-side subscriptions (`sb.subscribe` in `on('connection')`) keep the delivery guarantee:
 * the client is told with a `subscribed` frame and a `serverSubscribed` event, listens on an
 * ordinary `Channel`, and after a reconnect the subscription resumes from the position the client
 * sent in its URL — on WebSocket, SSE and long-polling. The input of issue 13 point 1 is the first
 * test: the server subscribes on every connection and publishes `m4` right after subscribing.
 */

import { type Channel, type RecoveryInfo, SwitchboardClient, type TransportName } from '@switchboard/client'
import { RESUME_PARAM, type ServerFrame } from '@switchboard/protocol'
import { type Connection, createSwitchboard, type Switchboard } from '@switchboard/server'
import { connect, until as waitFor } from '@switchboard/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { until } from './client-states.js'

const servers: Switchboard[] = []
const clients: SwitchboardClient[] = []

afterEach(async () => {
  for (const client of clients.splice(0)) client.close()
  await Promise.all(servers.splice(0).map((sb) => sb.close({ timeout: 200 })))
})

interface Setup {
  sb: Switchboard
  url: string
  /** The connections the server has seen, in order. */
  conns: Connection[]
}

/** A server whose `user:*` channels keep history; `onConnection` runs for every connection. */
async function start(onConnection: (sb: Switchboard, conn: Connection, nth: number) => void) {
  const sb = createSwitchboard({
    port: 0,
    host: '127.0.0.1',
    logger: false,
    channels: { 'user:*': { history: 100 }, 'room:*': { presence: true } },
  })
  servers.push(sb)
  const setup: Setup = { sb, url: (await sb.ready).url, conns: [] }
  sb.on('connection', (conn) => {
    setup.conns.push(conn)
    onConnection(sb, conn, setup.conns.length)
  })
  return setup
}

function newClient(url: string, transport: TransportName = 'websocket') {
  const client = new SwitchboardClient(url, {
    transports: [transport],
    backoff: () => 20,
    minUptime: 0,
  })
  clients.push(client)
  return client
}

function record(channel: Channel) {
  const seen: unknown[] = []
  const recoveries: RecoveryInfo[] = []
  channel.on('publication', (m) => seen.push(m.data))
  channel.on('recovery', (r) => recoveries.push(r))
  return { seen, recoveries }
}

const TRANSPORTS: TransportName[] = ['websocket', 'sse', 'long-polling']

describe.each(TRANSPORTS)('server-side subscriptions over %s', (transport) => {
  it.each([
    ['once subscribed', true],
    ['while subscribing', false],
  ])(
    'a channel the client opened itself loses nothing across a reconnect: m4 published %s (issue input)',
    async (_, awaitSubscribe) => {
      const { sb, url, conns } = await start((sb, conn, nth) => {
        const subscribed = sb.subscribe(conn, 'user:u')
        if (nth !== 2) return
        if (awaitSubscribe) void subscribed.then(() => sb.publish('user:u', 'm4'))
        else void sb.publish('user:u', 'm4')
      })
      const client = newClient(url, transport)
      const channel = client.channel('user:u')
      const { seen, recoveries } = record(channel)
      await waitFor(() => channel.state === 'subscribed')
      await sb.publish('user:u', 'm1')
      await waitFor(() => seen.length === 1)
      conns[0]!.close(1012, 'restart')
      await until(client, 'reconnecting')
      await sb.publish('user:u', 'm2')
      await sb.publish('user:u', 'm3')
      await waitFor(() => seen.length >= 4 && recoveries.length > 0)
      // Let anything out of order or duplicated arrive before judging.
      await new Promise((r) => setTimeout(r, 100))
      expect(seen).toEqual(['m1', 'm2', 'm3', 'm4'])
      expect(recoveries.every((r) => r.recovered)).toBe(true)
    },
  )

  it('a channel only the server opened is handed to the app and resumed after a reconnect', async () => {
    const { sb, url, conns } = await start((sb, conn) => void sb.subscribe(conn, 'user:v'))
    const client = newClient(url, transport)
    const announced: Channel[] = []
    let log: ReturnType<typeof record> | undefined
    let sideWhenAnnounced: boolean | undefined
    client.on('serverSubscribed', (channel) => {
      announced.push(channel)
      sideWhenAnnounced = channel.serverSide
      log = record(channel)
    })
    await waitFor(() => announced[0]?.state === 'subscribed')
    const channel = announced[0]!
    expect(channel.name).toBe('user:v')
    expect(channel.serverSide).toBe(true)
    // Already server-side (and subscribed) when the app is handed it.
    expect(sideWhenAnnounced).toBe(true)
    expect(client.hasChannel('user:v')).toBe(true)
    await sb.publish('user:v', 'a')
    await waitFor(() => log?.seen.length === 1)
    conns[0]!.close(1012, 'restart')
    await until(client, 'reconnecting')
    await sb.publish('user:v', 'b')
    await sb.publish('user:v', 'c')
    await until(client, 'connected')
    await waitFor(() => (log?.seen.length ?? 0) >= 3 && (log?.recoveries.length ?? 0) > 0)
    await sb.publish('user:v', 'd')
    await waitFor(() => log?.seen.length === 4)
    expect(log?.seen).toEqual(['a', 'b', 'c', 'd'])
    expect(log?.recoveries.map((r) => r.recovered)).toEqual([true])
    // The same Channel object resumes: the app is not told twice.
    expect(announced).toHaveLength(1)
  })

  it('sb.unsubscribe tells the client, and nothing more arrives', async () => {
    const { sb, url, conns } = await start((sb, conn) => void sb.subscribe(conn, 'user:w'))
    const client = newClient(url, transport)
    const ended: Channel[] = []
    client.on('serverUnsubscribed', (channel) => ended.push(channel))
    let seen: unknown[] = []
    client.on('serverSubscribed', (channel) => {
      seen = record(channel).seen
    })
    await waitFor(() => client.hasChannel('user:w') && client.channel('user:w').state === 'subscribed')
    await sb.unsubscribe(conns[0]!, 'user:w')
    await waitFor(() => ended.length === 1)
    expect(ended[0]!.state).toBe('unsubscribed')
    expect(conns[0]!.subscriptions.has('user:w')).toBe(false)
    await sb.publish('user:w', 'late')
    await sb.publish('user:w', 'later')
    // A request round trip after the publishes: anything sent to the client would be ahead of it.
    await client.publish('user:w', 'x').catch(() => {})
    expect(seen).toEqual([])
  })
})

describe('server-side subscriptions on the wire', () => {
  it('replays what a resumed position missed, then `subscribed`, then live messages', async () => {
    const { sb, url } = await start((sb, conn) => {
      void sb.subscribe(conn, 'user:x').then(() => sb.publish('user:x', 'live'))
    })
    const first = await sb.publish('user:x', 'one')
    await sb.publish('user:x', 'two')
    await sb.publish('user:x', 'three')
    const resume = encodeURIComponent(JSON.stringify({ 'user:x': [first.epoch, first.offset] }))
    const raw = await connect(`${url}?${RESUME_PARAM}=${resume}`)
    await raw.next('subscribed')
    await waitFor(() => raw.frames.filter((f) => f.type === 'message').length === 3)
    const seen = raw.frames
      .filter((f) => f.type === 'message' || f.type === 'subscribed')
      .map((f) => (f.type === 'message' ? f.data : `subscribed:${f.offset}:${f.recovered}`))
    expect(seen).toEqual(['two', 'three', `subscribed:${first.offset + 2}:true`, 'live'])
    raw.dispose()
  })

  it('a malformed resume parameter is an invalid_frame error, and the subscription starts afresh', async () => {
    const { sb, url } = await start((sb, conn) => void sb.subscribe(conn, 'user:y'))
    await sb.publish('user:y', 'before')
    for (const bad of ['not json', '[1,2]', '{"user:y":["e",-1]}', '{"bad channel":["e",1]}']) {
      const raw = await connect(`${url}?${RESUME_PARAM}=${encodeURIComponent(bad)}`)
      const error = await raw.next('error')
      expect(error).toMatchObject({ code: 'invalid_frame' })
      const subscribed = (await raw.next('subscribed')) as Extract<ServerFrame, { type: 'subscribed' }>
      expect(subscribed.recovered).toBeUndefined()
      expect(raw.frames.some((f) => f.type === 'message')).toBe(false)
      raw.dispose()
    }
  })

  it('a server-side subscription of a presence channel carries its members', async () => {
    const { url } = await start((sb, conn) => void sb.subscribe(conn, 'room:1'))
    const raw = await connect(url)
    const subscribed = (await raw.next('subscribed')) as Extract<ServerFrame, { type: 'subscribed' }>
    expect(subscribed.members?.map((m) => m.connections)).toEqual([1])
    expect(subscribed.counts).toEqual({ connections: 1, users: 1 })
    raw.dispose()
  })
})
