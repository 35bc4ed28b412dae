/**
 * The connection multiplexer of `@switchboard/client/share`, in Node, against a real server:
 * several SwitchboardClients (as several tabs would) each get a virtual socket linked to one
 * multiplexer, which holds one real `ws` connection. What the browser tests prove across real
 * tabs (apps/chat/test/share.e2e.test.ts), here for the multiplexing rules themselves: one
 * server connection and one subscription per channel, replies to the client that asked,
 * reference-counted unsubscribes, and a dropped connection resumed by every client with nothing
 * lost or doubled.
 */
import { SwitchboardClient, type SwitchboardClientOptions } from '@switchboard/client'
import { startServer, type TestServer, until } from '@switchboard/testing'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { ConnectionMultiplexer } from '../src/share/multiplexer.js'
import { virtualSocketClass } from '../src/share/virtual-socket.js'
import type { WebSocketConstructor } from '../src/transport/websocket-like.js'

let server: TestServer | undefined
const clients: SwitchboardClient[] = []
afterEach(async () => {
  for (const client of clients.splice(0)) client.close({ flush: false })
  await server?.sb.close({ timeout: 200 })
  server = undefined
})

async function setup() {
  server = await startServer({ channels: { 'room:*': { history: 1000, clientPublish: true } } })
  server.sb.handle('whoami', (_conn, data) => data)
  const mux = new ConnectionMultiplexer({ WebSocket: WebSocket as unknown as WebSocketConstructor })
  const share: SwitchboardClientOptions['share'] = { socket: () => virtualSocketClass(mux) }
  const tab = (options: SwitchboardClientOptions = {}) => {
    const client = new SwitchboardClient(server!.url, { share, backoff: () => 20, ...options })
    clients.push(client)
    return client
  }
  return { sb: server.sb, mux, tab }
}

/** Every offset a channel's `publication` gave, in order. */
function offsets(client: SwitchboardClient, channel: string): number[] {
  const seen: number[] = []
  client.channel(channel).on('publication', ({ offset }) => seen.push(offset))
  return seen
}

const connected = (client: SwitchboardClient) => until(() => client.state === 'connected')
const subscribed = (client: SwitchboardClient, channel: string) =>
  until(() => client.channel(channel).state === 'subscribed')

describe('ConnectionMultiplexer', () => {
  it('carries three clients on one connection and one subscription, each message to each once', async () => {
    const { sb, tab } = await setup()
    const tabs = [tab(), tab(), tab()]
    const seen = tabs.map((client) => offsets(client, 'room:a'))
    for (const client of tabs) await subscribed(client, 'room:a')
    expect(sb.connections.size).toBe(1)
    const [conn] = sb.connections.values()
    expect([...conn!.subscriptions]).toEqual(['room:a'])
    expect(new Set(tabs.map((c) => c.connectionId))).toEqual(new Set([conn!.id]))
    for (let n = 0; n < 5; n++) await sb.publish('room:a', { n })
    await until(() => seen.every((s) => s.length === 5))
    await new Promise((r) => setTimeout(r, 50))
    for (const s of seen) expect(s).toEqual([1, 2, 3, 4, 5])
  })

  it('answers each request and publish in the client that made it', async () => {
    const { tab } = await setup()
    const tabs = [tab(), tab(), tab()]
    for (const client of tabs) await connected(client)
    const replies = await Promise.all(
      tabs.flatMap((client, i) => [0, 1, 2].map((j) => client.request('whoami', { tab: i, j }))),
    )
    expect(replies).toEqual(tabs.flatMap((_, i) => [0, 1, 2].map((j) => ({ tab: i, j }))))
    const acks = await Promise.all(tabs.map((client, i) => client.publish('room:p', { from: i })))
    expect(acks.map((a) => a.offset).sort()).toEqual([1, 2, 3])
  })

  it('unsubscribes on the server only when the last client leaves the channel', async () => {
    const { sb, tab } = await setup()
    const [a, b] = [tab(), tab()]
    const seenB = offsets(b, 'room:u')
    offsets(a, 'room:u')
    await subscribed(a, 'room:u')
    await subscribed(b, 'room:u')
    const [conn] = sb.connections.values()
    a.channel('room:u').unsubscribe()
    await sb.publish('room:u', { n: 1 })
    await until(() => seenB.length === 1)
    expect(conn!.subscriptions.has('room:u')).toBe(true)
    b.removeChannel('room:u')
    await until(() => !conn!.subscriptions.has('room:u'))
  })

  it('resumes every client with since after the connection drops: nothing lost or doubled', async () => {
    const { sb, tab } = await setup()
    const tabs = [tab(), tab(), tab()]
    const seen = tabs.map((client) => offsets(client, 'room:r'))
    for (const client of tabs) await subscribed(client, 'room:r')
    let n = 0
    const publishing = setInterval(() => void sb.publish('room:r', { n: ++n }), 5)
    try {
      await until(() => seen.every((s) => s.length >= 10), 5000, 'ten messages')
      const [first] = sb.connections.values()
      first!.close(1012, 'restart')
      await until(
        () => sb.connections.size === 1 && [...sb.connections.values()][0] !== first,
        5000,
        'a new connection',
      )
      const target = n + 10
      await until(
        () => seen.every((s) => s.length >= target),
        5000,
        `ten more than ${target - 10}: ${seen.map((s) => s.length)}`,
      )
    } finally {
      clearInterval(publishing)
    }
    const total = n
    await until(() => seen.every((s) => s.length === total), 5000, 'the last ones')
    for (const s of seen) expect(s).toEqual(Array.from({ length: total }, (_, i) => i + 1))
    expect(sb.connections.size).toBe(1)
  })

  it('replays to a client that joins late with an older position, without doubles elsewhere', async () => {
    const { sb, tab } = await setup()
    const a = tab()
    const seenA = offsets(a, 'room:l')
    await subscribed(a, 'room:l')
    for (let n = 0; n < 3; n++) await sb.publish('room:l', { n })
    await until(() => seenA.length === 3)
    // b had handled up to offset 1 (as after a reload or a handover), then resubscribes.
    const b = tab({ autoConnect: false })
    const channel = b.channel('room:l')
    const seenB: number[] = []
    channel.on('publication', ({ offset }) => seenB.push(offset))
    b.connect()
    await subscribed(b, 'room:l')
    await sb.publish('room:l', { n: 3 })
    await until(() => seenA.length === 4 && seenB.length >= 1)
    expect(seenA).toEqual([1, 2, 3, 4])
    expect(seenB.at(-1)).toBe(4)
    expect(new Set(seenB).size).toBe(seenB.length)
  })

  it('gives a client that resubscribes from behind the replay first, then the live messages', async () => {
    // After a handover each tab resubscribes from its own position. A tab behind the others
    // subscribes on a channel the connection already has: live messages reach it before the
    // server reads that subscribe and replays what the tab missed. Here the server holds the
    // behind tab's subscribe (authorize) while live messages are published.
    let gate: (() => void) | undefined
    let asked = 0
    server = await startServer({
      channels: { 'room:*': { history: 1000 } },
      authorize: {
        subscribe: async () => {
          if (++asked === 3) await new Promise<void>((resolve) => (gate = resolve))
          return true
        },
      },
    })
    const sb = server.sb
    const mux = new ConnectionMultiplexer({ WebSocket: WebSocket as unknown as WebSocketConstructor })
    const share: SwitchboardClientOptions['share'] = { socket: () => virtualSocketClass(mux) }
    const [a, b] = [0, 1].map(() => {
      const client = new SwitchboardClient(server!.url, { share })
      clients.push(client)
      return client
    }) as [SwitchboardClient, SwitchboardClient]
    const [seenA, seenB] = [offsets(a, 'room:g'), offsets(b, 'room:g')]
    await subscribed(a, 'room:g')
    await subscribed(b, 'room:g')
    await sb.publish('room:g', { n: 1 })
    await until(() => seenA.length === 1 && seenB.length === 1)
    // b leaves (keeping its position, 1) and misses 2 and 3, then comes back from behind.
    b.channel('room:g').unsubscribe()
    for (let n = 2; n <= 3; n++) await sb.publish('room:g', { n })
    await until(() => seenA.length === 3)
    b.channel('room:g').subscribe()
    await until(() => gate !== undefined, 5000, "the server holds b's subscribe")
    for (let n = 4; n <= 5; n++) await sb.publish('room:g', { n })
    await until(() => seenA.length === 5)
    gate!()
    await subscribed(b, 'room:g')
    await sb.publish('room:g', { n: 6 })
    await until(() => seenA.length === 6 && seenB.length >= 6, 5000, `b: ${seenB}`)
    expect(seenA).toEqual([1, 2, 3, 4, 5, 6])
    expect(seenB).toEqual([1, 2, 3, 4, 5, 6])
  })

  it('closes the real connection with the last client; one closing leaves the others up', async () => {
    const { sb, mux, tab } = await setup()
    const [a, b] = [tab(), tab()]
    await connected(a)
    await connected(b)
    await a.close()
    expect(mux.links).toBe(1)
    expect(await b.request('whoami', 'still')).toBe('still')
    await b.close()
    await until(() => sb.connections.size === 0)
  })
})
