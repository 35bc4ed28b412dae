/**
 * The client against the real server (@switchboard/server) on port 0: round trips, a dropped
 * connection that resumes its channels exactly once, and a full server restart on the same port
 * — the client reconnects, resubscribes, fails the requests in flight with `disconnected` and
 * resends the idempotent ones.
 */

import {
  type RecoveryInfo,
  type StateChange,
  SwitchboardClient,
  type SwitchboardClientOptions,
  type SwitchboardError,
} from '@switchboard/client'
import { createSwitchboard, SwitchboardError as ServerError, type Switchboard } from '@switchboard/server'
import { afterEach, describe, expect, it } from 'vitest'
import { until } from './client-states.js'

interface TestApp {
  requests: {
    echo: { data: { text: string }; reply: { text: string } }
    hang: { data: null; reply: null }
    lookup: { data: { key: string }; reply: { value: string; node: string } }
  }
  events: { notice: { text: string } }
  channels: { [name: `chat:${string}`]: { n: number } }
}

const servers: Switchboard<TestApp>[] = []
const clients: SwitchboardClient<TestApp>[] = []

afterEach(async () => {
  for (const client of clients.splice(0)) client.close()
  await Promise.all(servers.splice(0).map((sb) => sb.close({ timeout: 200 })))
})

async function startServer(node: string, port = 0, extra: { onAuth?: (token: string) => void } = {}) {
  const seen: string[] = []
  const sb = createSwitchboard<TestApp>({
    port,
    host: '127.0.0.1',
    logger: false,
    channels: { 'chat:*': { history: 100, clientPublish: true } },
    ...(extra.onAuth ? { onAuth: (_conn, token) => extra.onAuth?.(token) } : {}),
  })
  sb.handle('echo', (_conn, data) => data)
  sb.handle('hang', () => {
    seen.push('hang')
    return new Promise<null>(() => {})
  })
  sb.handle('lookup', (_conn, data) => {
    seen.push(`lookup:${data.key}`)
    // The first node never answers, so the request is in flight when it stops.
    return node === 'one' ? new Promise(() => {}) : { value: data.key.toUpperCase(), node }
  })
  servers.push(sb)
  const address = await sb.ready
  return { sb, url: address.url, port: address.port, seen }
}

function connect(url: string, options: SwitchboardClientOptions = {}) {
  const client = new SwitchboardClient<TestApp>(url, { backoff: () => 50, ...options })
  clients.push(client)
  const states: StateChange[] = []
  client.on('state', (s) => states.push(s))
  return { client, states }
}

describe('SwitchboardClient with the real server', () => {
  it('does requests, server events, publishes and channel messages', async () => {
    const { sb, url } = await startServer('one')
    const { client } = connect(url)
    const room = client.channel('chat:a')
    const got: Array<{ n: number }> = []
    room.on('publication', ({ data }) => got.push(data))
    await new Promise((resolve) => room.once('subscribed', resolve))
    await expect(client.request('echo', { text: 'hi' })).resolves.toEqual({ text: 'hi' })
    const notices: string[] = []
    client.onEvent('notice', (d) => notices.push(d.text))
    for (const conn of sb.connections.values()) conn.send('notice', { text: 'hello' })
    const ack = await client.publish('chat:a', { n: 1 })
    expect(ack.offset).toBe(1)
    await sb.publish('chat:a', { n: 2 })
    await expect.poll(() => got).toEqual([{ n: 1 }, { n: 2 }])
    expect(notices).toEqual(['hello'])
    const unknown = await client.request('nope' as 'echo', { text: '' }).catch((e: SwitchboardError) => e)
    expect(unknown).toMatchObject({ name: 'SwitchboardError', code: 'unknown_event' })
  })

  it('resumes a channel after a dropped connection: missed messages once, in order', async () => {
    const { sb, url } = await startServer('one')
    const { client } = connect(url)
    const room = client.channel('chat:resume')
    const got: number[] = []
    room.on('publication', ({ data }) => got.push(data.n))
    const recoveries: RecoveryInfo[] = []
    room.on('recovery', (r) => recoveries.push(r))
    await new Promise((resolve) => room.once('subscribed', resolve))
    for (let n = 1; n <= 3; n++) await sb.publish('chat:resume', { n })
    await expect.poll(() => got).toEqual([1, 2, 3])

    const reconnecting = until(client, 'reconnecting')
    for (const conn of sb.connections.values()) conn.close(1012, 'drop')
    for (let n = 4; n <= 6; n++) await sb.publish('chat:resume', { n })
    await reconnecting
    await until(client, 'connected')
    await expect.poll(() => room.state).toBe('subscribed')
    await sb.publish('chat:resume', { n: 7 })
    await expect.poll(() => got).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(recoveries).toHaveLength(1)
    expect(recoveries[0]!.recovered).toBe(true)
  })

  it('survives a server restart on the same port: reconnects, resubscribes, fails or resends in-flight requests', async () => {
    const first = await startServer('one')
    const { client, states } = connect(first.url)
    const room = client.channel('chat:restart')
    const got: number[] = []
    room.on('publication', ({ data }) => got.push(data.n))
    const recoveries: RecoveryInfo[] = []
    room.on('recovery', (r) => recoveries.push(r))
    await new Promise((resolve) => room.once('subscribed', resolve))
    await first.sb.publish('chat:restart', { n: 1 })
    await expect.poll(() => got).toEqual([1])

    const hang = client.request('hang', null).catch((e: SwitchboardError) => e)
    const lookup = client.request('lookup', { key: 'k' }, { idempotent: true, timeout: 15_000 })
    await expect.poll(() => first.seen).toEqual(['hang', 'lookup:k'])

    // Stop the server mid-stream: both requests are on the wire, unanswered.
    await first.sb.close({ timeout: 500 })
    servers.splice(servers.indexOf(first.sb), 1)
    expect(await hang).toMatchObject({ code: 'disconnected' })
    expect(client.state).toBe('reconnecting')
    expect(room.state).toBe('subscribing')

    const second = await startServer('two', first.port)
    await until(client, 'connected')
    // The idempotent request was sent again, and the new node answered it.
    await expect(lookup).resolves.toEqual({ value: 'K', node: 'two' })
    expect(second.seen).toEqual(['lookup:k'])
    await expect.poll(() => room.state).toBe('subscribed')
    // A new server is a new epoch: the gap is reported, never silent.
    expect(recoveries).toMatchObject([{ recovered: false, since: { offset: 1 } }])
    await second.sb.publish('chat:restart', { n: 1 })
    await expect.poll(() => got).toEqual([1, 1])
    expect(states.map((s) => s.newState)).toContain('reconnecting')
    expect(states.find((s) => s.newState === 'reconnecting')?.closeCode).toBe(1012)
  })

  it('sends a fresh token in an auth frame on every connect', async () => {
    const tokens: string[] = []
    const { sb, url } = await startServer('one', 0, {
      onAuth: (token) => {
        tokens.push(token)
        if (token === 'bad') throw new ServerError('unauthorized', 'bad token')
      },
    })
    let n = 0
    const { client } = connect(url, { getToken: () => (++n <= 2 ? `t${n}` : 'bad') })
    await until(client, 'connected')
    for (const conn of sb.connections.values()) conn.close(1012, 'drop')
    await until(client, 'reconnecting')
    await until(client, 'connected')
    for (const conn of sb.connections.values()) conn.close(1012, 'drop')
    await until(client, 'closed')
    expect(tokens).toEqual(['t1', 't2', 'bad'])
  })
})
