// The HTTP API against a real server over HTTP (fetch), with real WebSocket clients: every method
// does what it says and answers what the served OpenAPI document says; idempotent publishes under
// retries land once; the errors (401, 403 for a publish-only key, 404, 405, 413, 400 for bad JSON,
// unknown fields, an invalid channel, data the channel refuses) are JSON with the protocol's codes;
// the API on its own port; the calls in the metrics; keys never in the log.
import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import { jwtAuth } from '@switchboard/server/jwt'
import { createMetrics } from '@switchboard/server/metrics'
import { connect, serverFixture, type TestClient, until } from '@switchboard/testing'
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { call, documentSchemas, KEY, KEYS, ok, PUBLISH_KEY } from './http-api-helpers.js'

const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version

const { setup, onCleanup } = serverFixture({
  httpApi: { keys: KEYS, maxBodyBytes: 4096 },
  channels: {
    'chat:*': { history: 50, presence: true },
    'typed:*': { history: 10, schema: z.object({ text: z.string().transform((t) => t.trim()) }) },
    'bare:*': {},
  },
  // The user of a connection: its `?user=` (what presence, and so the API, knows it by).
  authenticate: (req) => ({ user: new URL(req.url ?? '/', 'http://x').searchParams.get('user') ?? 'anon' }),
  presence: (conn) => ({ userId: String(conn.data.user) }),
})

async function server() {
  const s = await setup()
  const api = s.api!.url
  const conforms = await documentSchemas(api)
  const user = async (name: string) => {
    const c = await s.client(`?user=${name}`)
    const hello = c.frames[0]
    if (hello?.type !== 'hello') throw new Error('no hello')
    return { c, id: hello.connectionId }
  }
  return { ...s, api, conforms, user }
}

const messages = (c: TestClient, channel: string) =>
  c.frames.flatMap((f) => (f.type === 'message' && f.channel === channel ? [f.data] : []))

describe('HTTP API methods', () => {
  it('publish: answers the position, and subscribers get the message', async () => {
    const { api, conforms, client } = await server()
    const c = await client()
    c.send({ type: 'subscribe', id: '1', channel: 'chat:a' })
    await c.next('reply')
    const first = await ok(
      conforms,
      call(api, 'publish', { channel: 'chat:a', data: { text: 'hi' } }),
      'publish',
    )
    const second = await ok(
      conforms,
      call(api, 'publish', { channel: 'chat:a', data: [1, 'two'] }),
      'publish',
    )
    expect(second).toEqual({ epoch: first.epoch, offset: (first.offset as number) + 1 })
    await until(() => messages(c, 'chat:a').length === 2)
    expect(messages(c, 'chat:a')).toEqual([{ text: 'hi' }, [1, 'two']])
    // A publish-only key may publish.
    expect((await call(api, 'publish', { channel: 'chat:a', data: 3 }, PUBLISH_KEY)).status).toBe(200)
  })

  it('publish retried with the same key lands once and answers the same position every time', async () => {
    const { api, conforms, client } = await server()
    const c = await client()
    c.send({ type: 'subscribe', id: '1', channel: 'chat:idem' })
    await c.next('reply')
    const body = { channel: 'chat:idem', data: { n: 1 }, key: 'order-42' }
    // Concurrent retries (a client that timed out and sent again), then late ones.
    const together = await Promise.all(Array.from({ length: 5 }, () => call(api, 'publish', body)))
    const later = [await call(api, 'publish', body), await call(api, 'publish', body)]
    const positions = [...together, ...later].map((a) => {
      expect(a.status).toBe(200)
      conforms('PublishResponse', a.body)
      return a.body
    })
    expect(new Set(positions.map((p) => JSON.stringify(p))).size).toBe(1)
    // Another key is another message.
    const other = await ok(conforms, call(api, 'publish', { ...body, key: 'order-43' }), 'publish')
    expect(other.offset).toBe((positions[0]!.offset as number) + 1)
    await until(() => messages(c, 'chat:idem').length === 2)
    const history = await ok(conforms, call(api, 'history', { channel: 'chat:idem' }), 'history')
    expect((history.messages as unknown[]).length).toBe(2)
    expect(messages(c, 'chat:idem')).toEqual([{ n: 1 }, { n: 1 }])
  })

  it("publish: the channel's schema applies (its output is published; a failure is invalid_payload with the issues)", async () => {
    const { api, conforms } = await server()
    await ok(conforms, call(api, 'publish', { channel: 'typed:1', data: { text: '  padded  ' } }), 'publish')
    const refused = await call(api, 'publish', { channel: 'typed:1', data: { text: 5 } })
    expect(refused.status).toBe(400)
    conforms('Error', refused.body)
    expect(refused.body).toMatchObject({ error: { code: 'invalid_payload', details: [{ path: ['text'] }] } })
    const history = await ok(conforms, call(api, 'history', { channel: 'typed:1' }), 'history')
    expect((history.messages as Array<{ data: unknown }>).map((m) => m.data)).toEqual([{ text: 'padded' }])
    // Data no codec carries ($bin that is not base64) is refused before anything is published.
    const junk = await call(api, 'publish', { channel: 'typed:1', data: { $bin: 5 } })
    expect(junk.status).toBe(400)
    expect(junk.body).toMatchObject({ error: { code: 'invalid_json' } })
  })

  it('bytes travel as {"$bin": base64}: a WebSocket subscriber and history get them back', async () => {
    const { api, conforms, client } = await server()
    const c = await client()
    c.send({ type: 'subscribe', id: '1', channel: 'chat:bin' })
    await c.next('reply')
    await ok(
      conforms,
      call(api, 'publish', { channel: 'chat:bin', data: { file: { $bin: 'AAEC/w==' } } }),
      'publish',
    )
    await until(() => messages(c, 'chat:bin').length === 1)
    expect(messages(c, 'chat:bin')).toEqual([{ file: { $bin: 'AAEC/w==' } }])
    const history = await ok(conforms, call(api, 'history', { channel: 'chat:bin' }), 'history')
    expect((history.messages as Array<{ data: unknown }>)[0]!.data).toEqual({ file: { $bin: 'AAEC/w==' } })
  })

  it('broadcast: one result per channel, in order, an error for the one that failed', async () => {
    const { api, conforms, client } = await server()
    const c = await client()
    for (const channel of ['chat:b1', 'chat:b2']) {
      c.send({ type: 'subscribe', id: channel, channel })
      await c.next('reply')
    }
    const answer = await ok(
      conforms,
      call(api, 'broadcast', { channels: ['chat:b1', 'typed:b', 'chat:b2'], data: { text: 7 } }),
      'broadcast',
    )
    const results = answer.results as Array<Record<string, unknown>>
    expect(results.map((r) => r.channel)).toEqual(['chat:b1', 'typed:b', 'chat:b2'])
    expect(results[0]).toMatchObject({ offset: 1 })
    expect(results[1]).toMatchObject({ error: { code: 'invalid_payload' } })
    expect(results[2]).toMatchObject({ offset: 1 })
    await until(() => messages(c, 'chat:b1').length === 1 && messages(c, 'chat:b2').length === 1)
    // A publish-only key may broadcast.
    expect((await call(api, 'broadcast', { channels: ['chat:b1'], data: 1 }, PUBLISH_KEY)).status).toBe(200)
  })

  it('history: the latest `limit`, or after `since` (complete, or not when the position is gone)', async () => {
    const { api, conforms } = await server()
    let last: Record<string, unknown> = {}
    for (let i = 1; i <= 5; i++) last = (await call(api, 'publish', { channel: 'chat:h', data: i })).body
    const latest = await ok(conforms, call(api, 'history', { channel: 'chat:h', limit: 2 }), 'history')
    expect(latest).toEqual({
      epoch: last.epoch,
      offset: 5,
      messages: [
        { epoch: last.epoch, offset: 4, data: 4 },
        { epoch: last.epoch, offset: 5, data: 5 },
      ],
    })
    const since = { epoch: last.epoch, offset: 1 }
    const after = await ok(conforms, call(api, 'history', { channel: 'chat:h', since, limit: 3 }), 'history')
    expect(after.complete).toBe(true)
    expect((after.messages as Array<{ data: number }>).map((m) => m.data)).toEqual([2, 3, 4])
    const gone = await ok(
      conforms,
      call(api, 'history', { channel: 'chat:h', since: { epoch: 'another', offset: 1 } }),
      'history',
    )
    expect(gone).toMatchObject({ complete: false, messages: [], offset: 5 })
    const none = await call(api, 'history', { channel: 'bare:h' })
    expect(none.status).toBe(403)
    expect(none.body).toMatchObject({ error: { code: 'forbidden', message: '"bare:h" keeps no history' } })
  })

  it('presence: the counts and members (per user) of a presence channel, counts only on request; forbidden without presence', async () => {
    const { api, conforms, user } = await server()
    const ada = await user('ada')
    const bob = await user('bob')
    for (const { c } of [ada, bob]) {
      c.send({ type: 'subscribe', id: '1', channel: 'chat:p' })
      await c.next('reply')
    }
    const answer = await ok(conforms, call(api, 'presence', { channel: 'chat:p' }), 'presence')
    expect(answer).toMatchObject({ connections: 2, users: 2 })
    expect(
      (answer.members as Array<{ userId: string; connections: number }>)
        .map((m) => [m.userId, m.connections])
        .sort(),
    ).toEqual([
      ['ada', 1],
      ['bob', 1],
    ])
    const counts = await ok(conforms, call(api, 'presence', { channel: 'chat:p', counts: true }), 'presence')
    expect(counts).toEqual({ connections: 2, users: 2 })
    const refused = await call(api, 'presence', { channel: 'bare:p' })
    expect(refused.status).toBe(403)
    expect(refused.body).toMatchObject({ error: { code: 'forbidden' } })
  })

  it('channels: active channels with subscriber counts, filtered by pattern; info: connections and version', async () => {
    const { api, conforms, client } = await server()
    const [a, b] = [await client(), await client()]
    for (const [c, channel] of [
      [a, 'chat:x'],
      [b, 'chat:x'],
      [a, 'bare:y'],
    ] as const) {
      c.send({ type: 'subscribe', id: channel, channel })
      await c.next('reply')
    }
    const all = await ok(conforms, call(api, 'channels', {}), 'channels')
    expect(all).toEqual({
      channels: [
        { channel: 'bare:y', subscribers: 1, messagesPerSecond: 0, history: 0 },
        { channel: 'chat:x', subscribers: 2, messagesPerSecond: 0, history: 50 },
      ],
      truncated: false,
      nodes: { reached: 1, answered: 1 },
    })
    const chat = await ok(conforms, call(api, 'channels', { pattern: 'chat:*' }), 'channels')
    expect(chat.channels).toEqual([{ channel: 'chat:x', subscribers: 2, messagesPerSecond: 0, history: 50 }])
    const info = await ok(conforms, call(api, 'info'), 'info')
    expect(info).toEqual({
      version: VERSION,
      connections: 2,
      nodes: [{ node: 'local', version: VERSION, connections: 2, channels: 2, subscriptions: 3 }],
      reached: 1,
    })
  })

  it('subscribe and unsubscribe: every connection of a user, or one connection; the clients are told', async () => {
    const { api, conforms, user } = await server()
    const ada1 = await user('ada')
    const ada2 = await user('ada')
    const bob = await user('bob')
    const sub = await ok(conforms, call(api, 'subscribe', { user: 'ada', channel: 'chat:ada' }), 'subscribe')
    expect(sub).toEqual({ subscribed: 2, failed: [], nodes: { reached: 1, answered: 1 } })
    for (const { c } of [ada1, ada2])
      expect(await c.next('subscribed')).toMatchObject({ channel: 'chat:ada', offset: 0 })
    await call(api, 'publish', { channel: 'chat:ada', data: 'for ada' })
    await until(() => messages(ada1.c, 'chat:ada').length === 1 && messages(ada2.c, 'chat:ada').length === 1)
    // By connection: bob's one connection.
    const one = await ok(
      conforms,
      call(api, 'subscribe', { connection: bob.id, channel: 'chat:ada' }),
      'subscribe',
    )
    expect(one.subscribed).toBe(1)
    await bob.c.next('subscribed')
    const unsub = await ok(
      conforms,
      call(api, 'unsubscribe', { user: 'ada', channel: 'chat:ada' }),
      'unsubscribe',
    )
    expect(unsub).toEqual({ unsubscribed: 2, nodes: { reached: 1, answered: 1 } })
    for (const { c } of [ada1, ada2])
      expect(await c.next('unsubscribed')).toMatchObject({ channel: 'chat:ada' })
    await call(api, 'publish', { channel: 'chat:ada', data: 'bob only' })
    await until(() => messages(bob.c, 'chat:ada').length === 1)
    expect(messages(ada1.c, 'chat:ada')).toEqual(['for ada'])
    // Nobody by that name, or not subscribed: zero, not an error.
    expect((await call(api, 'unsubscribe', { user: 'ada', channel: 'chat:ada' })).body).toMatchObject({
      unsubscribed: 0,
    })
    expect((await call(api, 'subscribe', { user: 'nobody', channel: 'chat:z' })).body).toMatchObject({
      subscribed: 0,
    })
  })

  it("with jwtAuth a connection's user is its token's subject; one still without a token has none", async () => {
    const secret = 'api-test-secret-api-test-secret-42'
    const token = (sub: string) =>
      new SignJWT({ sub })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(secret))
    const s = await setup({ authenticate: undefined, presence: undefined, ...jwtAuth({ secret }) })
    const api = s.api!.url
    const alice = await s.client(`?token=${await token('alice')}`)
    const bob = await s.client(`?token=${await token('bob')}`)
    // Connected, but its token not sent yet: no user, so no API call reaches it.
    const waiting = await connect(s.url)
    onCleanup(() => waiting.ws.terminate())
    const hello = waiting.frames[0]
    const waitingId = hello?.type === 'hello' ? hello.connectionId : ''
    expect((await call(api, 'subscribe', { user: 'alice', channel: 'chat:jwt' })).body).toMatchObject({
      subscribed: 1,
    })
    expect(await alice.next('subscribed')).toMatchObject({ channel: 'chat:jwt' })
    expect((await call(api, 'subscribe', { connection: waitingId, channel: 'chat:jwt' })).body).toMatchObject(
      {
        subscribed: 0,
      },
    )
    expect((await call(api, 'disconnect', { user: 'bob', code: 4001 })).body).toMatchObject({
      disconnected: 1,
    })
    expect((await bob.closed).code).toBe(4001)
    expect(waiting.frames.some((f) => f.type === 'subscribed')).toBe(false)
  })

  it('subscribe reports the connections it could not subscribe (limit_exceeded)', async () => {
    const { api, conforms, user } = await server()
    const ada = await user('ada')
    // maxSubscriptions is 256: fill it from the server side, then one more.
    for (let i = 0; i < 256; i++) {
      const done = await call(api, 'subscribe', { user: 'ada', channel: `bare:${i}` })
      expect(done.body).toMatchObject({ subscribed: 1 })
    }
    const full = await ok(
      conforms,
      call(api, 'subscribe', { user: 'ada', channel: 'bare:more' }),
      'subscribe',
    )
    expect(full).toMatchObject({
      subscribed: 0,
      failed: [{ connection: ada.id, error: { code: 'limit_exceeded' } }],
    })
  })

  it('disconnect: a user on every connection with a code and reason, or one connection (default 4004, 4103 with reconnect)', async () => {
    const { api, conforms, user, sb } = await server()
    const ada1 = await user('ada')
    const ada2 = await user('ada')
    const bob = await user('bob')
    const carl = await user('carl')
    const gone = await ok(
      conforms,
      call(api, 'disconnect', { user: 'ada', code: 4000, reason: 'account closed' }),
      'disconnect',
    )
    expect(gone).toEqual({ disconnected: 2, nodes: { reached: 1, answered: 1 } })
    for (const { c } of [ada1, ada2]) expect(await c.closed).toEqual({ code: 4000, reason: 'account closed' })
    const one = await ok(conforms, call(api, 'disconnect', { connection: bob.id }), 'disconnect')
    expect(one.disconnected).toBe(1)
    expect(await bob.c.closed).toEqual({ code: 4004, reason: '' })
    const again = await ok(
      conforms,
      call(api, 'disconnect', { user: 'carl', reconnect: true, reason: 'log in again' }),
      'disconnect',
    )
    expect(again.disconnected).toBe(1)
    expect(await carl.c.closed).toEqual({ code: 4103, reason: 'log in again' })
    await until(() => sb.connections.size === 0)
  })
})

describe('HTTP API errors', () => {
  it('401 without a key or with a wrong one, JSON with WWW-Authenticate; 403 for a publish-only key elsewhere', async () => {
    const { api, conforms } = await server()
    for (const key of [null, 'wrong-key-0123456789abcdef', `${KEY}x`, KEY.slice(0, -1)]) {
      const answer = await call(api, 'publish', { channel: 'chat:a', data: 1 }, key)
      expect(answer.status).toBe(401)
      expect(answer.headers.get('www-authenticate')).toBe('Bearer')
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/)
      conforms('Error', answer.body)
      expect(answer.body).toMatchObject({ error: { code: 'unauthorized' } })
    }
    // A scheme other than Bearer is no key.
    const basic = await fetch(`${api}/info`, { method: 'POST', headers: { authorization: `Basic ${KEY}` } })
    expect(basic.status).toBe(401)
    for (const method of [
      'history',
      'presence',
      'channels',
      'info',
      'connections',
      'session',
      'subscribe',
      'unsubscribe',
      'disconnect',
    ]) {
      const answer = await call(api, method, { channel: 'chat:a', user: 'x' }, PUBLISH_KEY)
      expect(answer.status, method).toBe(403)
      expect(answer.body).toMatchObject({
        error: { code: 'forbidden', message: `this key may only publish, not call "${method}"` },
      })
    }
  })

  it('400 for a body that is not JSON or not an object, naming unknown fields, an invalid channel; 404, 405', async () => {
    const { api, conforms } = await server()
    const cases: Array<[string, unknown, string, RegExp]> = [
      ['publish', '{"channel": "chat:a", "data":', 'invalid_json', /not valid JSON/],
      ['publish', '[1, 2]', 'invalid_json', /must be a JSON object/],
      [
        'publish',
        '{"channel":"chat:a","data":1,"__proto__":{"x":1}}',
        'invalid_json',
        /"__proto__" is not allowed/,
      ],
      [
        'publish',
        { channel: 'chat:a', data: 1, extra: true, colour: 'red' },
        'invalid_frame',
        /unknown field "extra".*unknown field "colour"/,
      ],
      ['publish', { channel: 'chat:a' }, 'invalid_frame', /missing field "data"/],
      ['publish', { channel: 'chat a', data: 1 }, 'invalid_channel', /"channel" must match pattern/],
      ['publish', { channel: '', data: 1 }, 'invalid_channel', /"channel"/],
      ['broadcast', { channels: ['ok', 'no good'], data: 1 }, 'invalid_channel', /"channels\.1"/],
      ['broadcast', { channels: ['chat:a', 'chat:a'], data: 1 }, 'invalid_frame', /duplicate items/],
      [
        'broadcast',
        { channels: [], data: 1 },
        'invalid_frame',
        /"channels" must NOT have fewer than 1 items/,
      ],
      ['history', { channel: 'chat:a', limit: 5000 }, 'invalid_frame', /"limit" must be <= 1000/],
      [
        'history',
        { channel: 'chat:a', since: { epoch: 'e', offset: 1, more: 1 } },
        'invalid_frame',
        /unknown field "since.more"/,
      ],
      [
        'subscribe',
        { user: 'a', connection: 'b', channel: 'chat:a' },
        'invalid_frame',
        /exactly one of "user" and "connection"/,
      ],
      ['subscribe', { channel: 'chat:a' }, 'invalid_frame', /exactly one of "user" and "connection"/],
      ['disconnect', { user: 'a', code: 1006 }, 'invalid_frame', /"code"/],
      ['disconnect', { user: 'a', reason: 'é'.repeat(100) }, 'invalid_frame', /at most 123 bytes/],
      ['info', { verbose: true }, 'invalid_frame', /unknown field "verbose"/],
    ]
    for (const [method, body, code, message] of cases) {
      const answer = await call(api, method, body)
      expect(answer.status, JSON.stringify(body)).toBe(400)
      conforms('Error', answer.body)
      const error = (answer.body as { error: { code: string; message: string } }).error
      expect(error.code, JSON.stringify(body)).toBe(code)
      expect(error.message).toMatch(message)
    }
    const unknownField = await call(api, 'publish', { channel: 'chat:a', data: 1, extra: true })
    expect(unknownField.body).toMatchObject({ error: { details: [{ path: ['extra'] }] } })
    const unknown = await call(api, 'nope', {})
    expect(unknown.status).toBe(404)
    expect(unknown.body).toMatchObject({ error: { code: 'unknown_event' } })
    const get = await fetch(`${api}/publish`, { headers: { authorization: `Bearer ${KEY}` } })
    expect(get.status).toBe(405)
    expect(get.headers.get('allow')).toBe('POST')
    expect(await get.json()).toMatchObject({ error: { code: 'invalid_frame' } })
  })

  it('413 for a body over the limit, by Content-Length or while it streams in, and the server goes on', async () => {
    const { api, conforms } = await server()
    const big = { channel: 'chat:a', data: 'x'.repeat(5000) }
    const answer = await call(api, 'publish', big)
    expect(answer.status).toBe(413)
    conforms('Error', answer.body)
    expect(answer.body).toMatchObject({
      error: { code: 'frame_too_large', message: 'a request body may not exceed 4096 bytes' },
    })
    // Chunked, without a Content-Length: refused once the bytes pass the limit.
    const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        `${api}/publish`,
        { method: 'POST', headers: { authorization: `Bearer ${KEY}` } },
        (res) => {
          let body = ''
          res.on('data', (d) => {
            body += d
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        },
      )
      req.on('error', reject)
      for (let i = 0; i < 10; i++) req.write('x'.repeat(1000))
      req.end()
    })
    expect(streamed.status).toBe(413)
    expect(JSON.parse(streamed.body)).toMatchObject({ error: { code: 'frame_too_large' } })
    expect((await call(api, 'publish', { channel: 'chat:a', data: 1 })).status).toBe(200)
  })

  it('an unavailable broker answers 503 unavailable; the log has the failure but never a key', async () => {
    const lines: string[] = []
    const record = (m: string, err?: unknown) =>
      lines.push(`${m} ${err instanceof Error ? err.message : String(err ?? '')}`)
    const s = await setup({ logger: { info: record, warn: record, error: record } })
    const api = s.api!.url
    await call(api, 'publish', { channel: 'chat:a', data: 1 }, 'wrong-key-0123456789abcdef')
    await call(api, 'info', {}, PUBLISH_KEY)
    await s.sb.broker.close()
    const answer = await call(api, 'publish', { channel: 'chat:a', data: 1 })
    expect(answer.status).toBe(503)
    expect(answer.body).toMatchObject({ error: { code: 'unavailable' } })
    expect((await call(api, 'info')).status).toBe(503)
    expect(lines.join('\n')).toMatch(/broker publish on "chat:a" failed, answered unavailable/)
    for (const key of [KEY, PUBLISH_KEY, 'wrong-key']) expect(lines.join('\n')).not.toContain(key)
  })

  it('refuses short keys at start, without showing them', async () => {
    const err = (await setup({ httpApi: { keys: [{ key: 'short-secret' }] } }).catch(
      (e: unknown) => e,
    )) as Error
    expect(err).toBeInstanceOf(TypeError)
    expect(err.message).toMatch(/httpApi.keys\[0\].key must be a string of at least 16 characters/)
    expect(err.message).not.toContain('short-secret')
  })
})

describe('HTTP API: where it is served, the document, the metrics', () => {
  it('on a port of its own: the API answers there, and the main port does not serve it', async () => {
    const s = await setup({ httpApi: { keys: KEYS, port: 0 } })
    expect(s.api!.port).not.toBe(s.port)
    expect((await call(s.api!.url, 'info')).status).toBe(200)
    const other = await call(s.api!.url.replace(String(s.api!.port), String(s.port)), 'info')
    expect(other.status).toBe(404)
    const root = await fetch(s.api!.url.replace(/\/api$/, '/healthz'))
    expect(root.status).toBe(404)
    expect(await root.json()).toMatchObject({ error: { code: 'unknown_event' } })
    // Closed with the server.
    await s.sb.close({ timeout: 100 })
    await expect(fetch(`${s.api!.url}/info`, { method: 'POST' })).rejects.toThrow()
  })

  it('serves an OpenAPI 3.1 document that a validator accepts, with every method', async () => {
    const { api } = await server()
    const res = await fetch(`${api}/openapi.json`)
    expect(res.status).toBe(200)
    const doc = (await res.json()) as {
      openapi: string
      info: { version: string }
      paths: Record<string, unknown>
    }
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.info.version).toBe(VERSION)
    const { validate } = await import('@readme/openapi-parser')
    const result = await validate(structuredClone(doc) as never)
    expect(result.valid ? [] : result.errors).toEqual([])
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        'broadcast',
        'channels',
        'connections',
        'disconnect',
        'history',
        'info',
        'openapi.json',
        'presence',
        'publish',
        'revoke',
        'session',
        'stats/stream',
        'subscribe',
        'tail',
        'unsubscribe',
        'whoami',
      ]
        .map((m) => `/api/${m}`)
        .sort(),
    )
  })

  it('counts calls by method and status, in stats() and in switchboard_api_requests_total', async () => {
    const { api, sb } = await server()
    await call(api, 'publish', { channel: 'chat:m', data: 1 })
    await call(api, 'publish', { channel: 'chat:m', data: 1 })
    await call(api, 'publish', { channel: 'chat:m' })
    await call(api, 'info', {}, null)
    await call(api, 'no-such-method', {})
    expect(sb.stats().apiRequests).toMatchObject({
      publish: { 200: 2, 400: 1 },
      info: { 401: 1 },
      unknown: { 404: 1 },
    })
    const metrics = createMetrics(sb)
    const text = await metrics.registry.metrics()
    expect(text).toContain('switchboard_api_requests_total{method="publish",status="200"} 2')
    expect(text).toContain('switchboard_api_requests_total{method="publish",status="400"} 1')
    expect(text).toContain('switchboard_api_requests_total{method="unknown",status="404"} 1')
  })

  it('on an application’s own server, the API comes before its request listener', async () => {
    const { createServer } = await import('node:http')
    const app = createServer((_req, res) => res.writeHead(200).end('app'))
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve))
    onCleanup(() => new Promise((resolve) => app.close(resolve)))
    const s = await setup({ server: app })
    expect((await call(s.api!.url, 'info')).status).toBe(200)
    expect(await (await fetch(s.api!.url.replace(/\/api$/, '/other'))).text()).toBe('app')
  })
})
