// Property tests (fast-check): decode(encode(f)) equals f for generated frames, bytes included, with
// the JSON and the MessagePack codec; decode of any string (or bytes) returns a valid frame or
// throws ProtocolError, and never touches Object.prototype.
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type ClientFrame,
  DEFAULT_LIMITS,
  encodeFrame,
  type JsonValue,
  jsonCodec,
  ProtocolError,
  type ServerFrame,
} from '../src/index.js'
import { msgpackCodec } from '../src/msgpack-codec.js'

const nameChar = fc.constantFrom(
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-:.'.split(''),
)
const channel = fc.string({ unit: nameChar, minLength: 1, maxLength: DEFAULT_LIMITS.maxChannelLength })
const event = fc.string({ unit: nameChar, minLength: 1, maxLength: DEFAULT_LIMITS.maxEventLength })
const id = fc.string({ minLength: 1, maxLength: DEFAULT_LIMITS.maxIdLength })
const offset = fc.nat()
const safeKey = fc
  .string({ maxLength: 12 })
  .filter((k) => !['__proto__', 'constructor', 'prototype', '$bin'].includes(k))
const json: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
    fc.string(),
    fc.uint8Array({ maxLength: 16 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(safeKey, tie('value'), { maxKeys: 4 }),
  ),
})).value
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined })

/** Builds an object without the keys whose value is undefined (absent fields stay absent). */
function clean<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
}

const clientFrame: fc.Arbitrary<ClientFrame> = fc.oneof(
  fc
    .record({ id, channel, since: opt(fc.record({ epoch: id, offset })) })
    .map((f) => clean({ type: 'subscribe' as const, ...f })),
  fc.record({ id: opt(id), channel }).map((f) => clean({ type: 'unsubscribe' as const, ...f })),
  fc
    .record({ id: opt(id), channel, data: json, key: opt(fc.string({ minLength: 1, maxLength: 32 })) })
    .map((f) => clean({ type: 'publish' as const, ...f })),
  fc.record({ id: opt(id), event, data: opt(json) }).map((f) => clean({ type: 'request' as const, ...f })),
  fc
    .record({ id, token: fc.string({ minLength: 1, maxLength: 200 }) })
    .map((f) => ({ type: 'auth' as const, ...f })),
  fc.record({ id: opt(id) }).map((f) => clean({ type: 'ping' as const, ...f })),
  fc
    .record({ id: opt(id), channel, info: json })
    .map((f) => clean({ type: 'presence_update' as const, ...f })),
)

const serverFrame: fc.Arbitrary<ServerFrame> = fc.oneof(
  fc.record({ channel, epoch: id, offset, data: json }).map((f) => ({ type: 'message' as const, ...f })),
  fc.record({ event, data: opt(json) }).map((f) => clean({ type: 'event' as const, ...f })),
  fc.record({ id, data: opt(json) }).map((f) => clean({ type: 'reply' as const, ok: true as const, ...f })),
  fc
    .record({
      id,
      error: fc.record({ code: fc.constantFrom('forbidden', 'internal'), message: fc.string() }),
    })
    .map((f) => ({ type: 'reply' as const, ok: false as const, ...f })),
  fc
    .record({
      channel,
      joins: opt(fc.array(fc.record({ userId: id, connections: offset, info: opt(json) }).map(clean))),
      leaves: opt(fc.array(fc.record({ userId: id, connections: offset }))),
      counts: opt(fc.record({ connections: offset, users: offset })),
    })
    .map((f) => clean({ type: 'presence' as const, ...f })),
  fc
    .record({ code: fc.constantFrom('invalid_json', 'rate_limited'), message: fc.string(), id: opt(id) })
    .map((f) => clean({ type: 'error' as const, ...f })),
  fc.record({ id: opt(id) }).map((f) => clean({ type: 'pong' as const, ...f })),
  fc.record({ expiresIn: offset }).map((f) => ({ type: 'refresh' as const, ...f })),
  fc
    .record({ channel, epoch: id, offset, recovered: opt(fc.boolean()) })
    .map((f) => clean({ type: 'subscribed' as const, ...f })),
  fc.record({ channel }).map((f) => ({ type: 'unsubscribed' as const, ...f })),
)

function assertPristinePrototype(): void {
  for (const key of ['polluted', 'isAdmin', 'x']) {
    expect((Object.prototype as Record<string, unknown>)[key]).toBeUndefined()
  }
}

afterEach(assertPristinePrototype)

describe('properties', () => {
  it('decode(encode(f)) equals f for client frames', () => {
    fc.assert(
      fc.property(clientFrame, (f) => {
        expect(jsonCodec.decode(encodeFrame(f), 'client')).toEqual(f)
      }),
    )
  })
  it('decode(encode(f)) equals f for server frames', () => {
    fc.assert(
      fc.property(serverFrame, (f) => {
        expect(jsonCodec.decode(encodeFrame(f), 'server')).toEqual(f)
      }),
    )
  })
  it('decode(encode(f)) equals f with the MessagePack codec, both directions', () => {
    fc.assert(
      fc.property(clientFrame, (f) => {
        expect(msgpackCodec.decode(msgpackCodec.encode(f), 'client')).toEqual(f)
      }),
    )
    fc.assert(
      fc.property(serverFrame, (f) => {
        expect(msgpackCodec.decode(msgpackCodec.encode(f), 'server')).toEqual(f)
      }),
    )
  })
  it('MessagePack decode of arbitrary bytes returns a frame or throws ProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          expect(typeof msgpackCodec.decode(bytes).type).toBe('string')
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err
        }
        assertPristinePrototype()
      }),
      { numRuns: 2000 },
    )
  })

  const decodesOrThrowsProtocolError = (input: string) => {
    try {
      const frame = jsonCodec.decode(input)
      expect(typeof frame.type).toBe('string')
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err
    }
    assertPristinePrototype()
  }

  it('decode of an arbitrary string returns a frame or throws ProtocolError', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), decodesOrThrowsProtocolError), {
      numRuns: 2000,
    })
  })

  it('decode of arbitrary JSON objects — including hostile keys — never throws anything else', () => {
    const hostileKey = fc.constantFrom(
      '__proto__',
      'constructor',
      'prototype',
      'type',
      'id',
      'channel',
      'data',
      'since',
    )
    const hostileObject = fc.dictionary(
      fc.oneof(hostileKey, fc.string({ maxLength: 6 })),
      fc.jsonValue({ maxDepth: 3 }),
      {
        maxKeys: 6,
      },
    )
    const withType = fc.tuple(
      fc.constantFrom(
        'subscribe',
        'unsubscribe',
        'publish',
        'request',
        'auth',
        'ping',
        'hello',
        'message',
        'reply',
        'error',
      ),
      hostileObject,
    )
    fc.assert(
      fc.property(withType, ([type, body]) => {
        // Build the text by hand so a literal "__proto__" key reaches the wire.
        const text = `{"type":${JSON.stringify(type)},${Object.entries(body)
          .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
          .join(',')}${Object.keys(body).length ? ',' : ''}"__proto__":{"polluted":true}}`
        decodesOrThrowsProtocolError(text)
      }),
      { numRuns: 1000 },
    )
  })

  it('decode of arbitrary bytes returns a frame or throws ProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          jsonCodec.decode(bytes)
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err
        }
      }),
      { numRuns: 1000 },
    )
  })
})
