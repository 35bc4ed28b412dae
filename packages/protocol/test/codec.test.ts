// Unit tests for the JSON codec: every frame type round-trips, and every malformed input is
// rejected with a ProtocolError carrying the right code — never any other exception.
import { describe, expect, it } from 'vitest'
import {
  type ClientFrame,
  DEFAULT_LIMITS,
  decodeClientFrame,
  decodeServerFrame,
  ErrorCode,
  encodeFrame,
  jsonCodec,
  ProtocolError,
  type ServerFrame,
} from '../src/index.js'

const clientFrames: ClientFrame[] = [
  { type: 'subscribe', id: '1', channel: 'chat:general' },
  { type: 'subscribe', id: '2', channel: 'chat:general', since: { epoch: 'e1', offset: 41 } },
  { type: 'unsubscribe', channel: 'chat:general' },
  { type: 'unsubscribe', id: '3', channel: 'chat:general' },
  { type: 'publish', channel: 'chat:general', data: { text: 'hi' } },
  { type: 'publish', id: '4', channel: 'chat:general', data: [1, 'two', null, true], key: 'k-1' },
  { type: 'request', id: '5', event: 'chat:send', data: { room: 'general', text: 'hi' } },
  { type: 'request', event: 'typing' },
  { type: 'auth', id: '6', token: 'eyJhbGciOi.x.y' },
  { type: 'ping' },
  { type: 'ping', id: '7' },
  { type: 'presence_update', channel: 'chat:general', info: { name: 'Ada', status: 'away' } },
  { type: 'presence_update', id: '8', channel: 'chat:general', info: null },
]

const serverFrames: ServerFrame[] = [
  {
    type: 'hello',
    version: 1,
    connectionId: 'c1',
    heartbeat: 25000,
    limits: { maxPayload: 65536, maxSubscriptions: 256 },
  },
  {
    type: 'hello',
    version: 1,
    connectionId: 'c2',
    heartbeat: 25000,
    limits: { maxPayload: 65536, maxSubscriptions: 256 },
    auth: 'required',
  },
  {
    type: 'hello',
    version: 1,
    connectionId: 'c3',
    heartbeat: 25000,
    limits: { maxPayload: 65536, maxSubscriptions: 256, rateLimit: { capacity: 200, refillPerSecond: 0.5 } },
  },
  { type: 'message', channel: 'chat:general', epoch: 'e1', offset: 42, data: { text: 'hi' } },
  { type: 'event', event: 'notice', data: 'maintenance at noon' },
  { type: 'event', event: '$system' },
  { type: 'reply', id: '5', ok: true, data: { status: 'delivered' } },
  { type: 'reply', id: '5', ok: true },
  {
    type: 'reply',
    id: '5',
    ok: false,
    error: { code: 'invalid_payload', message: 'bad', details: [{ path: 'a' }] },
  },
  {
    type: 'presence',
    channel: 'chat:general',
    joins: [
      { userId: 'u1', connections: 1, info: { name: 'Ada' } },
      { userId: 'u2', connections: 1 },
    ],
    leaves: [{ userId: 'u3', connections: 0 }],
    updates: [{ userId: 'u4', connections: 2, info: { name: 'Bo', status: 'away' } }],
    counts: { connections: 5, users: 3 },
  },
  { type: 'presence', channel: 'big:room', counts: { connections: 3000, users: 2999 } },
  { type: 'error', code: 'unknown_type', message: 'unknown frame type', id: '9' },
  { type: 'error', code: 'slow_consumer', message: 'cut', channel: 'chat:general' },
  { type: 'pong' },
  { type: 'pong', id: '7' },
  { type: 'refresh', expiresIn: 30000 },
  { type: 'refresh', expiresIn: 0 },
  { type: 'subscribed', channel: 'user:42', epoch: 'k3F9xq', offset: 20 },
  { type: 'subscribed', channel: 'user:42', epoch: 'k3F9xq', offset: 20, recovered: false },
  {
    type: 'subscribed',
    channel: 'room:1',
    epoch: 'e',
    offset: 0,
    members: [{ userId: 'u1', connections: 2 }],
    counts: { connections: 2, users: 1 },
  },
  { type: 'unsubscribed', channel: 'user:42' },
]

function rejects(input: string | Uint8Array, code: string, from?: 'client' | 'server'): ProtocolError {
  try {
    jsonCodec.decode(input, from)
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError)
    expect((err as ProtocolError).code).toBe(code)
    return err as ProtocolError
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected with ${code}`)
}

describe('round trip', () => {
  it.each(clientFrames.map((f) => [f.type, f] as const))('client frame %s', (_type, frame) => {
    expect(decodeClientFrame(encodeFrame(frame))).toEqual(frame)
  })
  it.each(serverFrames.map((f) => [f.type, f] as const))('server frame %s', (_type, frame) => {
    expect(decodeServerFrame(encodeFrame(frame))).toEqual(frame)
  })
  it('decodes UTF-8 bytes as well as strings', () => {
    const bytes = new TextEncoder().encode(encodeFrame({ type: 'publish', channel: 'c', data: 'héllo ✓' }))
    expect(decodeClientFrame(bytes)).toEqual({ type: 'publish', channel: 'c', data: 'héllo ✓' })
  })
  it("keeps a hello's auth only when it is a value this version knows", () => {
    const hello =
      '{"type":"hello","version":1,"connectionId":"c","heartbeat":1,"limits":{"maxPayload":1,"maxSubscriptions":1}'
    expect(decodeServerFrame(`${hello},"auth":"required"}`)).toHaveProperty('auth', 'required')
    expect(decodeServerFrame(`${hello},"auth":"someday"}`)).not.toHaveProperty('auth')
  })
  it('drops fields the protocol does not define', () => {
    const frame = decodeClientFrame('{"type":"ping","id":"1","extra":{"x":1}}')
    expect(frame).toEqual({ type: 'ping', id: '1' })
  })
})

describe('presence frames of servers before user presence', () => {
  it('a single join or leave reads as a one-entry joins or leaves', () => {
    const join =
      '{"type":"presence","channel":"c","action":"join","member":{"userId":"u","connectionId":"x","info":{"n":1}}}'
    expect(decodeServerFrame(join)).toEqual({
      type: 'presence',
      channel: 'c',
      joins: [{ userId: 'u', connections: 1, info: { n: 1 } }],
    })
    const leave =
      '{"type":"presence","channel":"c","action":"leave","member":{"userId":"u","connectionId":"x"}}'
    expect(decodeServerFrame(leave)).toEqual({
      type: 'presence',
      channel: 'c',
      leaves: [{ userId: 'u', connections: 0 }],
    })
  })
  it('per-connection members of a subscribed frame read as users with one connection each', () => {
    const frame = decodeServerFrame(
      '{"type":"subscribed","channel":"c","epoch":"e","offset":0,"members":[{"userId":"u","connectionId":"a"},{"userId":"v","connectionId":"c"}]}',
    )
    expect(frame).toMatchObject({
      members: [
        { userId: 'u', connections: 1 },
        { userId: 'v', connections: 1 },
      ],
    })
  })
})

describe('rejections', () => {
  it('invalid JSON', () => rejects('{"type":', ErrorCode.INVALID_JSON))
  it('invalid UTF-8 bytes', () => rejects(new Uint8Array([0x7b, 0xff, 0x7d]), ErrorCode.INVALID_JSON))
  it.each(['[]', '"ping"', '42', 'null', 'true'])('non-object root %s', (root) =>
    rejects(root, ErrorCode.INVALID_JSON),
  )
  it('missing type', () => rejects('{"id":"1"}', ErrorCode.INVALID_FRAME))
  it('non-string type', () => rejects('{"type":7}', ErrorCode.INVALID_FRAME))
  it('unknown type', () => rejects('{"type":"shout"}', ErrorCode.UNKNOWN_TYPE))
  it('a server frame type from a client', () => rejects('{"type":"pong"}', ErrorCode.UNKNOWN_TYPE, 'client'))
  it('a client frame type from a server', () =>
    rejects('{"type":"subscribe","id":"1","channel":"c"}', ErrorCode.UNKNOWN_TYPE, 'server'))

  const bad: Array<[string, string]> = [
    ['subscribe without id', '{"type":"subscribe","channel":"c"}'],
    ['subscribe with numeric id', '{"type":"subscribe","id":1,"channel":"c"}'],
    ['subscribe with empty id', '{"type":"subscribe","id":"","channel":"c"}'],
    ['subscribe without channel', '{"type":"subscribe","id":"1"}'],
    ['since not an object', '{"type":"subscribe","id":"1","channel":"c","since":5}'],
    [
      'since with negative offset',
      '{"type":"subscribe","id":"1","channel":"c","since":{"epoch":"e","offset":-1}}',
    ],
    [
      'since with fractional offset',
      '{"type":"subscribe","id":"1","channel":"c","since":{"epoch":"e","offset":1.5}}',
    ],
    ['since without epoch', '{"type":"subscribe","id":"1","channel":"c","since":{"offset":1}}'],
    ['publish without data', '{"type":"publish","channel":"c"}'],
    ['publish with numeric key', '{"type":"publish","channel":"c","data":1,"key":5}'],
    ['request without event', '{"type":"request","id":"1"}'],
    ['request with bad event name', '{"type":"request","id":"1","event":"a b"}'],
    ['auth without token', '{"type":"auth","id":"1"}'],
    ['unsubscribe with object channel', '{"type":"unsubscribe","channel":{}}'],
    ['ping with array id', '{"type":"ping","id":["1"]}'],
  ]
  it.each(bad)('%s', (_name, input) => rejects(input, ErrorCode.INVALID_FRAME, 'client'))

  // A channel that is a string but not a valid name is `invalid_channel`; one that is not a
  // string at all (or is missing) is `invalid_frame`, like any other field of the wrong type.
  const badChannels: Array<[string, string]> = [
    ['subscribe with a space in channel', '{"type":"subscribe","id":"1","channel":"a b"}'],
    ['subscribe with a pattern channel', '{"type":"subscribe","id":"1","channel":"chat:*"}'],
    ['subscribe with an empty channel', '{"type":"subscribe","id":"1","channel":""}'],
    [
      'subscribe with an over-long channel',
      encodeFrame({ type: 'subscribe', id: '1', channel: 'a'.repeat(DEFAULT_LIMITS.maxChannelLength + 1) }),
    ],
    ['unsubscribe with a bad channel', '{"type":"unsubscribe","channel":"a\\nb"}'],
    ['publish with a bad channel', '{"type":"publish","channel":"é","data":1}'],
  ]
  it.each(badChannels)('%s → invalid_channel', (_name, input) =>
    rejects(input, ErrorCode.INVALID_CHANNEL, 'client'),
  )
  it('a bad channel in a server frame is invalid_channel too', () => {
    rejects(
      '{"type":"message","channel":"a b","epoch":"e","offset":1,"data":1}',
      ErrorCode.INVALID_CHANNEL,
      'server',
    )
  })

  it('over-long strings', () => {
    const long = (n: number) => 'a'.repeat(n)
    rejects(encodeFrame({ type: 'ping', id: long(DEFAULT_LIMITS.maxIdLength + 1) }), ErrorCode.INVALID_FRAME)
    rejects(
      encodeFrame({ type: 'request', event: long(DEFAULT_LIMITS.maxEventLength + 1) }),
      ErrorCode.INVALID_FRAME,
    )
    rejects(
      encodeFrame({ type: 'auth', id: '1', token: long(DEFAULT_LIMITS.maxTokenLength + 1) }),
      ErrorCode.INVALID_FRAME,
    )
    rejects(
      encodeFrame({ type: 'publish', channel: 'c', data: 1, key: long(DEFAULT_LIMITS.maxKeyLength + 1) }),
      ErrorCode.INVALID_FRAME,
    )
    // At the limit they pass.
    expect(
      decodeClientFrame(encodeFrame({ type: 'ping', id: long(DEFAULT_LIMITS.maxIdLength) })),
    ).toBeTruthy()
  })

  it.each(['__proto__', 'constructor', 'prototype'])('the key %s anywhere in data', (key) => {
    rejects(`{"type":"publish","channel":"c","data":{"${key}":{"polluted":true}}}`, ErrorCode.INVALID_FRAME)
    rejects(`{"type":"publish","channel":"c","data":[{"a":{"${key}":1}}]}`, ErrorCode.INVALID_FRAME)
    rejects(`{"type":"request","event":"e","data":{"x":[[{"${key}":1}]]}}`, ErrorCode.INVALID_FRAME)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
  it('an escaped __proto__ key', () => {
    rejects(
      '{"type":"publish","channel":"c","data":{"\\u005f_proto__":{"polluted":true}}}',
      ErrorCode.INVALID_FRAME,
    )
  })
  it('nesting deeper than the limit', () => {
    const deep = `${'['.repeat(DEFAULT_LIMITS.maxDepth + 1)}${']'.repeat(DEFAULT_LIMITS.maxDepth + 1)}`
    rejects(`{"type":"publish","channel":"c","data":${deep}}`, ErrorCode.INVALID_FRAME)
    const ok = `${'['.repeat(DEFAULT_LIMITS.maxDepth)}${']'.repeat(DEFAULT_LIMITS.maxDepth)}`
    expect(decodeClientFrame(`{"type":"publish","channel":"c","data":${ok}}`)).toBeTruthy()
  })
  it('pathologically deep JSON is still a ProtocolError', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`
    const err = rejects(`{"type":"publish","channel":"c","data":${deep}}`, ErrorCode.INVALID_FRAME)
    expect(err.message).toBeTruthy()
  })
  it('reports the frame id when it could be read', () => {
    const err = rejects('{"type":"subscribe","id":"abc","channel":"a b"}', ErrorCode.INVALID_CHANNEL)
    expect(err.frameId).toBe('abc')
    expect(err.message).toContain('channel')
  })
  it('refresh needs a non-negative integer expiresIn and comes only from a server', () => {
    rejects('{"type":"refresh"}', ErrorCode.INVALID_FRAME, 'server')
    rejects('{"type":"refresh","expiresIn":-1}', ErrorCode.INVALID_FRAME, 'server')
    rejects('{"type":"refresh","expiresIn":"30000"}', ErrorCode.INVALID_FRAME, 'server')
    rejects('{"type":"refresh","expiresIn":1.5}', ErrorCode.INVALID_FRAME, 'server')
    rejects('{"type":"refresh","expiresIn":1}', ErrorCode.UNKNOWN_TYPE, 'client')
  })
  it('server-side reply frames need ok and a well-formed error', () => {
    rejects('{"type":"reply","id":"1"}', ErrorCode.INVALID_FRAME, 'server')
    rejects('{"type":"reply","id":"1","ok":false,"error":"x"}', ErrorCode.INVALID_FRAME, 'server')
    rejects(
      '{"type":"presence","channel":"c","action":"join","member":{}}',
      ErrorCode.INVALID_FRAME,
      'server',
    )
    for (const bad of [
      '"joins":{}',
      '"joins":[{"connections":1}]',
      '"leaves":[{"userId":1,"connections":0}]',
      '"updates":[{"userId":"u","connections":-1}]',
      '"counts":{"connections":1}',
      '"counts":[1,2]',
    ]) {
      rejects(`{"type":"presence","channel":"c",${bad}}`, ErrorCode.INVALID_FRAME, 'server')
    }
    rejects('{"type":"presence_update","channel":"c"}', ErrorCode.INVALID_FRAME, 'client')
    rejects('{"type":"presence_update","channel":"no spaces","info":1}', ErrorCode.INVALID_CHANNEL, 'client')
    rejects(
      '{"type":"hello","version":1,"connectionId":"c","heartbeat":1}',
      ErrorCode.INVALID_FRAME,
      'server',
    )
    const limits = '"maxPayload":1,"maxSubscriptions":1'
    for (const rate of ['1', '{"capacity":0,"refillPerSecond":1}', '{"capacity":5,"refillPerSecond":null}']) {
      rejects(
        `{"type":"hello","version":1,"connectionId":"c","heartbeat":1,"limits":{${limits},"rateLimit":${rate}}}`,
        ErrorCode.INVALID_FRAME,
        'server',
      )
    }
  })
})
