// The code tables drive behaviour: every row of CLOSE_CODES and ERROR_CODES is produced by some
// path of a real server (or of the real client, for client-side codes). The tests iterate the
// TABLES, not the scenarios, so a row nobody produces fails here, and each scenario must observe
// exactly its code — for an error with a close code, the error and then that close.
import { SwitchboardClient } from '@switchboard/client'
import { CLOSE_CODES, ERROR_CODES, SwitchboardError } from '@switchboard/protocol'
import type { SwitchboardOptions, TokenAuth } from '@switchboard/server'
import {
  httpBase,
  PollClient,
  RecordingSocket,
  serverFixture,
  type TestClient,
  until,
} from '@switchboard/testing'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { frame, RawClient } from './raw-websocket.js'

const { setup, onCleanup } = serverFixture()

/** What an error scenario saw: the error code, and the close code when the error ended the connection. */
interface SeenError {
  code: string
  close?: number
}

/** Sends `frame` n times; returns the error codes answered (error frames or failed replies). */
function errorCodes(c: TestClient): string[] {
  return c.frames.flatMap((f) =>
    f.type === 'error' ? [f.code] : f.type === 'reply' && !f.ok ? [f.error.code] : [],
  )
}

/** One code for every answer to a burst of bad frames, and the close that ends it. */
async function invalidBurst(bad: unknown): Promise<SeenError> {
  const { client } = await setup()
  const c = await client()
  // The default maxProtocolErrors is 10: the 11th ends the connection.
  for (let i = 0; i < 11; i++) c.send(bad)
  const { code: close } = await c.closed
  const codes = new Set(errorCodes(c))
  expect(codes.size).toBe(1)
  return { code: [...codes][0]!, close }
}

/** The code of the first failed reply to a frame with an `id`. */
async function replyError(c: TestClient, sent: { id: string; type: string } & Record<string, unknown>) {
  c.send(sent)
  const reply = await c.next('reply', (r) => r.id === sent.id)
  if (reply.ok) throw new Error(`${sent.type} succeeded`)
  return reply.error.code
}

/** A token check: a token is its subject; `down` cannot be checked, `bad` is refused. */
const tokens: TokenAuth<{ sub: string }> = {
  fromRequest: () => undefined,
  verify(token) {
    if (token === 'down') throw new SwitchboardError('unavailable', 'the key server is down')
    if (token === 'bad') throw new SwitchboardError('unauthorized', 'bad token')
    return { data: { sub: token }, subject: token }
  },
}

/** A failed `auth` frame on a tokenAuth server: the reply's code, then the close that follows. */
async function authRefusal(...sequence: string[]): Promise<SeenError> {
  const { client } = await setup({ tokenAuth: tokens } as SwitchboardOptions)
  const c = await client()
  let code = ''
  for (const [i, token] of sequence.entries()) {
    c.send({ type: 'auth', id: `a${i}`, token })
    const reply = await c.next('reply', (r) => r.id === `a${i}`)
    if (!reply.ok) code = reply.error.code
  }
  return { code, close: (await c.closed).code }
}

/** A SwitchboardClient on `url`, closed after the test; no reconnect within it. */
async function sdk(url: string, getToken?: () => string): Promise<SwitchboardClient> {
  const client = new SwitchboardClient(url, { backoff: () => 60_000, ...(getToken ? { getToken } : {}) })
  onCleanup(() => client.close())
  return client
}

async function connectedSdk(url: string): Promise<SwitchboardClient> {
  const client = await sdk(url)
  await new Promise<void>((resolve) => client.once('connected', () => resolve()))
  return client
}

/** The code a promise rejects with (a SwitchboardError's). */
async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (err) {
    if (err instanceof SwitchboardError) return err.code
    throw err
  }
  throw new Error('resolved')
}

/** A server with a `hang` request that never answers; resolves once the handler has the request. */
async function hangingServer() {
  let called = false
  const server = await setup()
  server.sb.handle('hang', () => {
    called = true
    return new Promise<never>(() => {})
  })
  return { ...server, called: () => until(() => called) }
}

/** The close code the server reports for its only connection. */
function nextDisconnect(sb: Awaited<ReturnType<typeof setup>>['sb']): Promise<number> {
  return new Promise((resolve) => sb.on('disconnect', (_conn, { code }) => resolve(code)))
}

/** A long-polling session with its hello read; `start()` polls it until its close frame. */
async function pollSession(url: string): Promise<PollClient> {
  const c = await PollClient.open(httpBase(url))
  await c.pollOnce()
  onCleanup(() => c.stop())
  return c
}

const errorScenarios: Record<string, () => Promise<SeenError>> = {
  invalid_json: () => invalidBurst('{"type":'),
  invalid_frame: () => invalidBurst({ type: 'subscribe', channel: 'chat:a' }),
  unknown_type: () => invalidBurst({ type: 'shout' }),
  invalid_channel: () => invalidBurst({ type: 'subscribe', id: '1', channel: 'a b' }),
  async frame_too_large() {
    const { url } = await setup({ maxPayload: 1024 })
    const c = await pollSession(url)
    expect((await c.post({ type: 'publish', channel: 'chat:a', data: 'x'.repeat(2000) })).status).toBe(413)
    c.start()
    const close = await c.next('close')
    return { code: (await c.next('error')).code, close: close.code }
  },
  async invalid_payload() {
    const c = await (await setup()).client()
    return { code: await replyError(c, { type: 'request', id: '1', event: '$history', data: {} }) }
  },
  async unknown_event() {
    const c = await (await setup()).client()
    return { code: await replyError(c, { type: 'request', id: '1', event: 'nope' }) }
  },
  unauthorized: () => authRefusal('bad'),
  forbidden: () => authRefusal('ada', 'bob'),
  async not_subscribed() {
    const c = await (await setup()).client()
    return { code: await replyError(c, { type: 'unsubscribe', id: '1', channel: 'chat:a' }) }
  },
  async limit_exceeded() {
    const c = await (await setup({ maxSubscriptions: 1 })).client()
    c.send({ type: 'subscribe', id: '1', channel: 'chat:a' })
    return { code: await replyError(c, { type: 'subscribe', id: '2', channel: 'chat:b' }) }
  },
  async rate_limited() {
    const c = await (await setup({ rateLimit: { capacity: 2, refillPerSecond: 1 } })).client()
    for (let i = 0; i < 20; i++) c.send({ type: 'ping', id: String(i) })
    const { code: close } = await c.closed
    const codes = new Set(errorCodes(c))
    expect(codes.size).toBe(1)
    return { code: [...codes][0]!, close }
  },
  unavailable: () => authRefusal('down'),
  async internal() {
    const { sb, client } = await setup()
    sb.handle('boom', () => {
      throw new Error('a secret in a stack trace')
    })
    return { code: await replyError(await client(), { type: 'request', id: '1', event: 'boom' }) }
  },
  async timeout() {
    const { url } = await hangingServer()
    const client = await connectedSdk(url)
    return { code: await rejection(client.request('hang', {}, { timeout: 50 })) }
  },
  async disconnected() {
    const { sb, url, called } = await hangingServer()
    const client = await connectedSdk(url)
    const reply = rejection(client.request('hang', {}))
    await called()
    for (const conn of sb.connections.values()) conn.close(1012, 'restart')
    return { code: await reply }
  },
  async cancelled() {
    const { url, called } = await hangingServer()
    const client = await connectedSdk(url)
    const abort = new AbortController()
    const reply = rejection(client.request('hang', {}, { signal: abort.signal }))
    await called()
    abort.abort()
    return { code: await reply }
  },
}

/** An error scenario's close: each close an error ends a connection with comes from its row. */
const closeOf = (error: string) => async () => (await errorScenarios[error]!()).close

const closeScenarios: Record<number, () => Promise<number | undefined>> = {
  async 1000() {
    const { sb, client } = await setup()
    const c = await client()
    for (const conn of sb.connections.values()) conn.close()
    return (await c.closed).code
  },
  // The client drops a connection whose handshake it cannot finish (here: getToken throws) as
  // going away, and reports that code in its state event. (A `ws` or browser client may not send
  // 1001 itself, so the server sees 1005 here; browsers send 1001 when a page goes away.)
  async 1001() {
    const { url } = await setup()
    const client = await sdk(url, () => {
      throw new Error('no token today')
    })
    return new Promise<number | undefined>((resolve) =>
      client.on('state', (change) => {
        if (change.reason === 'token_failed') resolve(change.closeCode)
      }),
    )
  },
  async 1002() {
    const { port } = await setup()
    const raw = await RawClient.open(port)
    raw.send(frame({ opcode: 3 })) // a reserved opcode
    return raw.closeCode()
  },
  async 1003() {
    const c = await (await setup()).client()
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true })
    return (await c.closed).code
  },
  // Never sent, only observed: the peer's socket is destroyed without a close frame.
  async 1006() {
    const { sb, port } = await setup()
    const closed = nextDisconnect(sb)
    const raw = await RawClient.open(port)
    await until(() => raw.received.length > 0)
    raw.socket.destroy()
    return closed
  },
  async 1007() {
    const { port } = await setup()
    const raw = await RawClient.open(port)
    raw.send(frame({ opcode: 1, payload: Buffer.from([0x7b, 0xff, 0x7d]) }))
    return raw.closeCode()
  },
  1008: closeOf('invalid_frame'),
  async 1009() {
    const c = await (await setup({ maxPayload: 1024 })).client()
    c.send({ type: 'request', event: 'x', data: 'y'.repeat(2000) })
    return (await c.closed).code
  },
  async 1012() {
    const { sb, client } = await setup()
    const c = await client()
    await sb.close({ timeout: 300 })
    return (await c.closed).code
  },
  1013: closeOf('unavailable'),
  4001: closeOf('unauthorized'),
  4003: closeOf('forbidden'),
  // Every connection of a user closed by the application; the default user is the connection id.
  async 4004() {
    const { sb, client } = await setup()
    const c = await client()
    const [id] = sb.connections.keys()
    expect(await sb.disconnectUser(id!)).toBe(1)
    return (await c.closed).code
  },
  // A second connection of one user past maxConnectionsPerUser: closed before its hello.
  async 4029() {
    const { url, client } = await setup({ maxConnectionsPerUser: 1, presence: () => ({ userId: 'one' }) })
    await client()
    const second = new RecordingSocket(new WebSocket(url, 'switchboard.v1'))
    onCleanup(() => second.ws.terminate())
    const { code } = await second.closed
    expect(second.frames.some((f) => f.type === 'hello')).toBe(false)
    return code
  },
  // A reader that falls behind: a long-polling session that is not polled, its queue past four
  // times maxBufferedBytes (the cap even for a client that still polls).
  async 4100() {
    const { sb, url } = await setup({ maxBufferedBytes: 4096 })
    const c = await pollSession(url)
    expect((await c.post({ type: 'subscribe', id: '1', channel: 'firehose' })).status).toBe(204)
    await until(() => [...sb.connections.values()].some((conn) => conn.subscriptions.has('firehose')))
    for (let i = 0; i < 20; i++) await sb.publish('firehose', 'x'.repeat(1000))
    c.start()
    return (await c.next('close')).code
  },
  4101: closeOf('rate_limited'),
  async 4103() {
    const { sb, client } = await setup()
    const c = await client()
    const [id] = sb.connections.keys()
    await sb.disconnectUser(id!, { reconnect: true })
    return (await c.closed).code
  },
  async 4102() {
    const { sb, port } = await setup({ heartbeat: 50 })
    const closed = nextDisconnect(sb)
    const raw = await RawClient.open(port) // never answers pings
    onCleanup(() => raw.socket.destroy())
    return closed
  },
}

describe('every close code in CLOSE_CODES is produced', () => {
  it('no scenario for a code the table does not have', () => {
    expect(Object.keys(closeScenarios).map(Number)).toEqual(CLOSE_CODES.map((c) => c.code))
  })
  it.each(CLOSE_CODES.map((c) => [c.code, c.name] as const))('%i %s', async (code) => {
    const scenario = closeScenarios[code]
    expect(scenario, `no scenario produces close code ${code}`).toBeDefined()
    expect(await scenario!()).toBe(code)
  })
})

describe('every error code in ERROR_CODES is produced, with the close its row gives', () => {
  it('no scenario for a code the table does not have', () => {
    expect(Object.keys(errorScenarios).sort()).toEqual(ERROR_CODES.map((e) => e.code).sort())
  })
  it.each(ERROR_CODES.map((e) => [e.code, e.close ?? '—'] as const))('%s (close %s)', async (code) => {
    const scenario = errorScenarios[code]
    expect(scenario, `no scenario produces error code ${code}`).toBeDefined()
    const close = ERROR_CODES.find((e) => e.code === code)!.close
    expect(await scenario!()).toEqual(close === undefined ? { code } : { code, close })
  })
})
