// The user layer on one node, with the real SDK: every connection is in the user index under its
// user (with its transport and address) until it closes; `sb.disconnectUser` closes all of a
// user's connections — terminal by default (the SDK stays closed), 4103 with `reconnect` (the SDK
// connects again); `maxConnectionsPerUser` refuses (before hello, or at the first token) or
// closes the oldest. The same on several nodes is packages/redis/test/users-cluster.test.ts.
import { SwitchboardClient, type SwitchboardClientOptions } from '@switchboard/client'
import type { SwitchboardOptions, TokenAuth } from '@switchboard/server'
import { serverFixture, until } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'

const { setup, onCleanup } = serverFixture()

/** A connection's user is `?user=` of its URL. */
const byQuery: SwitchboardOptions = {
  authenticate: (req) => ({ user: new URL(req.url ?? '/', 'http://x').searchParams.get('user') ?? 'anon' }),
  presence: (conn) => ({ userId: String((conn.data as { user: string }).user) }),
}

/** An SDK client that retries fast, closed after the test, with the close codes it saw. */
function sdk(url: string, options: SwitchboardClientOptions = {}) {
  const client = new SwitchboardClient(url, { backoff: () => 20, ...options })
  onCleanup(() => client.close())
  const closes: Array<{ state: string; reason: string; code?: number }> = []
  let connects = 0
  client.on('state', (s) => {
    if (s.closeCode !== undefined) closes.push({ state: s.newState, reason: s.reason, code: s.closeCode })
  })
  client.on('connected', () => {
    connects++
  })
  return { client, closes, connects: () => connects }
}

async function connected(url: string, options?: SwitchboardClientOptions) {
  const c = sdk(url, options)
  await until(() => c.connects() > 0, 5000, 'the client to connect')
  return c
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('the user index', () => {
  it('holds each open connection under its user, with transport, address and age, until it closes', async () => {
    const { sb, url } = await setup(byQuery)
    const before = Date.now()
    const ws = await connected(`${url}?user=ada`)
    const sse = await connected(`${url}?user=ada`, { transports: ['sse'] })
    await connected(`${url}?user=bob`)
    await until(async () => (await sb.broker.users.count('ada')) === 2)
    const list = await sb.broker.users.list('ada')
    expect(list.map((c) => c.connectionId).sort()).toEqual(
      [ws.client.connectionId, sse.client.connectionId].sort(),
    )
    expect(list.map((c) => c.transport).sort()).toEqual(['sse', 'websocket'])
    for (const c of list) {
      expect(c.remoteAddress).toMatch(/127\.0\.0\.1/)
      expect(c.since).toBeGreaterThanOrEqual(before)
    }
    ws.client.close()
    await until(async () => (await sb.broker.users.count('ada')) === 1)
    sse.client.close()
    await until(async () => (await sb.broker.users.count('ada')) === 0)
    expect(await sb.broker.users.count('bob')).toBe(1)
  })
})

describe('sb.disconnectUser', () => {
  it('closes every connection of the user with 4004; the SDK does not reconnect; others stay', async () => {
    const { sb, url } = await setup(byQuery)
    const ada1 = await connected(`${url}?user=ada`)
    const ada2 = await connected(`${url}?user=ada`, { transports: ['long-polling'] })
    const bob = await connected(`${url}?user=bob`)
    expect(await sb.disconnectUser('ada', { reason: 'account closed' })).toBe(2)
    for (const ada of [ada1, ada2]) {
      await until(() => ada.client.state === 'closed', 5000, 'ada to be closed')
      expect(ada.closes).toEqual([{ state: 'closed', reason: 'terminal_close', code: 4004 }])
    }
    // Well past the 20 ms backoff: nobody came back.
    await sleep(300)
    expect([ada1, ada2].map((a) => a.connects())).toEqual([1, 1])
    expect([...sb.connections.keys()]).toEqual([bob.client.connectionId])
    expect(await sb.broker.users.count('ada')).toBe(0)
    expect(await sb.disconnectUser('ada')).toBe(0)
    expect(bob.client.state).toBe('connected')
  })

  it('with reconnect: true closes with 4103 and the SDK connects again, with a fresh token (log in again)', async () => {
    const tokens: TokenAuth<{ sub: string }> = {
      fromRequest: () => undefined,
      verify: () => ({ data: { sub: 'ada' }, subject: 'ada' }),
    }
    const { sb, url } = await setup({ tokenAuth: tokens } as SwitchboardOptions)
    let issued = 0
    const ada = await connected(url, { getToken: () => `t${++issued}` })
    const first = ada.client.connectionId
    expect(await sb.disconnectUser('ada', { reconnect: true, reason: 'log in again' })).toBe(1)
    await until(() => ada.connects() === 2, 5000, 'the client to connect again')
    expect(ada.closes[0]).toMatchObject({ state: 'reconnecting', code: 4103 })
    expect(ada.client.connectionId).not.toBe(first)
    // It logged in again with a fresh token.
    expect(issued).toBe(2)
    await until(async () => (await sb.broker.users.count('ada')) === 1)
  })

  it('takes a code of its own, and refuses codes that cannot be sent and long reasons', async () => {
    const { sb, url } = await setup(byQuery)
    const ada = await connected(`${url}?user=ada`)
    await expect(sb.disconnectUser('ada', { code: 1006 })).rejects.toThrow(TypeError)
    await expect(sb.disconnectUser('ada', { reason: 'é'.repeat(62) })).rejects.toThrow(TypeError)
    expect(await sb.disconnectUser('ada', { code: 4000, reason: 'bye' })).toBe(1)
    await until(() => ada.client.state === 'closed')
    expect(ada.closes.at(-1)?.code).toBe(4000)
  })
})

describe('maxConnectionsPerUser', () => {
  it('refuse: the connection past the limit is closed with 4029 before its hello; the SDK stays closed', async () => {
    const { sb, url } = await setup({ ...byQuery, maxConnectionsPerUser: 2 })
    const ada1 = await connected(`${url}?user=ada`)
    await connected(`${url}?user=ada`)
    const third = sdk(`${url}?user=ada`)
    await until(() => third.client.state === 'closed', 5000, 'the third to be refused')
    expect(third.closes).toEqual([{ state: 'closed', reason: 'terminal_close', code: 4029 }])
    expect(third.connects()).toBe(0)
    expect(sb.stats().handshakesRefused).toBe(1)
    // Another user is not counted against ada; once ada has room, she gets in again.
    await connected(`${url}?user=bob`)
    ada1.client.close()
    await until(async () => (await sb.broker.users.count('ada')) === 1)
    await connected(`${url}?user=ada`)
    expect(await sb.broker.users.count('ada')).toBe(2)
  })

  it('closeOldest: the new connection gets in and the oldest is closed with 4029 (not retried)', async () => {
    const { sb, url } = await setup({
      ...byQuery,
      maxConnectionsPerUser: 2,
      maxConnectionsPerUserPolicy: 'closeOldest',
    })
    const oldest = await connected(`${url}?user=ada`)
    const middle = await connected(`${url}?user=ada`)
    const newest = await connected(`${url}?user=ada`)
    await until(() => oldest.client.state === 'closed', 5000, 'the oldest to be closed')
    expect(oldest.closes).toEqual([{ state: 'closed', reason: 'terminal_close', code: 4029 }])
    expect(middle.client.state).toBe('connected')
    expect(newest.client.state).toBe('connected')
    const ids = (await sb.broker.users.list('ada')).map((c) => c.connectionId)
    expect(ids).toEqual([middle.client.connectionId, newest.client.connectionId])
  })

  it('a token sent in an auth frame: closed with 4029 instead of an answer; the app never sees it', async () => {
    const tokens: TokenAuth<{ sub: string }> = {
      fromRequest: () => undefined,
      verify: (token) => ({ data: { sub: token }, subject: token }),
    }
    const { sb, url } = await setup({ tokenAuth: tokens, maxConnectionsPerUser: 1 } as SwitchboardOptions)
    let connections = 0
    sb.on('connection', () => {
      connections++
    })
    await connected(url, { getToken: () => 'ada' })
    const second = sdk(url, { getToken: () => 'ada' })
    await until(() => second.client.state === 'closed', 5000, 'the second to be refused')
    expect(second.closes).toEqual([{ state: 'closed', reason: 'terminal_close', code: 4029 }])
    expect(second.connects()).toBe(0)
    // The application never saw the refused connection.
    expect(connections).toBe(1)
    expect(await sb.broker.users.count('ada')).toBe(1)
  })

  it('rejects a limit that is not a positive integer and an unknown policy', async () => {
    await expect(setup({ maxConnectionsPerUser: 0 })).rejects.toThrow(TypeError)
    await expect(setup({ maxConnectionsPerUser: 1.5 })).rejects.toThrow(TypeError)
    await expect(
      setup({ maxConnectionsPerUser: 2, maxConnectionsPerUserPolicy: 'kick' as 'refuse' }),
    ).rejects.toThrow(TypeError)
  })
})
