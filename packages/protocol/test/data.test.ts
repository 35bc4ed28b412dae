/**
 * Data beyond JSON: bytes round-trip through both codecs (as `$bin` base64 in JSON, as `bin` in
 * MessagePack), and every value neither codec can carry faithfully is refused at encode time
 * with `invalid_payload`, naming where it is (issue 14, item 4).
 */
import { describe, expect, it } from 'vitest'
import { BINARY_KEY, checkData, jsonCodec, ProtocolError, SwitchboardError } from '../src/index.js'
import { msgpackCodec } from '../src/msgpack-codec.js'

const codecs = [jsonCodec, msgpackCodec]
const publish = (data: unknown) => ({ type: 'publish', id: '1', channel: 'c:1', data }) as never

class Point {
  x = 1
}
const cyclic: Record<string, unknown> = { a: 1 }
cyclic.self = cyclic
/** [1, <hole>, 3] — written without a sparse literal. */
function holey(): unknown[] {
  const a: unknown[] = [1]
  a[2] = 3
  return a
}
const deep = (n: number): unknown => (n === 0 ? 1 : [deep(n - 1)])

describe.each(codecs)('$name codec', (codec) => {
  it.each([
    ['a Uint8Array', new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3])],
    ['an empty Uint8Array', new Uint8Array(0), new Uint8Array(0)],
    ['a Buffer', Buffer.from([0, 255, 7]), new Uint8Array([0, 255, 7])],
    ['an ArrayBuffer', new Uint8Array([9, 8]).buffer, new Uint8Array([9, 8])],
    ['a view into a larger buffer', new Uint8Array([1, 2, 3, 4]).subarray(1, 3), new Uint8Array([2, 3])],
    [
      'bytes nested in objects and arrays',
      { file: { name: 'a.bin', bytes: new Uint8Array([5]) }, parts: [new Uint8Array([6]), 'x'] },
      { file: { name: 'a.bin', bytes: new Uint8Array([5]) }, parts: [new Uint8Array([6]), 'x'] },
    ],
  ])('carries %s as the same bytes', (_, data, expected) => {
    const decoded = codec.decode(codec.encode(publish(data)), 'client') as { data: unknown }
    expect(decoded.data).toEqual(expected)
  })

  it.each([
    ['a BigInt', { n: 10n }, 'data.n'],
    ['a cycle', cyclic, 'data'],
    ['a function', { f: () => 1 }, 'data.f'],
    ['a symbol', [Symbol('s')], 'data[0]'],
    ['a Map', new Map([[1, 2]]), 'data'],
    ['a Set', { s: new Set([1]) }, 'data.s'],
    ['a Date', { at: new Date(0) }, 'data.at'],
    ['a class instance', { p: new Point() }, 'data.p'],
    ['another typed array', new Int16Array([1]), 'data'],
    ['undefined in an array', [1, undefined], 'data[1]'],
    ['a hole in an array', holey(), 'data[1]'],
    ['NaN', { n: Number.NaN }, 'data.n'],
    ['Infinity', [Number.POSITIVE_INFINITY], 'data[0]'],
    ['an object whose only key is $bin', { [BINARY_KEY]: 'AQID' }, 'data'],
    ['nesting deeper than 32', deep(40), 'data'],
  ])('refuses %s with invalid_payload naming where', (_, data, path) => {
    let error: unknown
    try {
      codec.encode(publish(data))
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(SwitchboardError)
    expect((error as SwitchboardError).code).toBe('invalid_payload')
    expect((error as SwitchboardError).message.startsWith(path)).toBe(true)
  })

  it('leaves out an object property that is undefined, as JSON does', () => {
    const decoded = codec.decode(codec.encode(publish({ a: 1, b: undefined })), 'client') as { data: unknown }
    expect(decoded.data).toEqual({ a: 1 })
  })
})

describe('the JSON form of bytes', () => {
  it('is an object of the single key $bin holding base64', () => {
    expect(jsonCodec.encode(publish(new Uint8Array([1, 2, 3])))).toContain('"data":{"$bin":"AQID"}')
  })

  it.each([
    ['not a string', '{"$bin":12}'],
    ['not base64', '{"$bin":"*!"}'],
  ])('is refused as invalid_frame when %s', (_, data) => {
    const text = `{"type":"publish","id":"1","channel":"c:1","data":${data}}`
    expect(() => jsonCodec.decode(text, 'client')).toThrow(ProtocolError)
  })

  it('is only the form when $bin is the single key', () => {
    const text = '{"type":"publish","id":"1","channel":"c:1","data":{"$bin":"AQID","x":1}}'
    expect((jsonCodec.decode(text, 'client') as { data: unknown }).data).toEqual({ $bin: 'AQID', x: 1 })
  })
})

describe('MessagePack decoding', () => {
  it('refuses an extension type and a timestamp as invalid_frame', () => {
    // fixext 1 of type 5, then a timestamp (ext -1, 4 bytes) as the data of a publish.
    const ext = Uint8Array.from([0xd4, 0x05, 0x00])
    const timestamp = Uint8Array.from([0xd6, 0xff, 0, 0, 0, 0])
    for (const data of [ext, timestamp]) {
      const head = msgpackCodec.encode(publish(null))
      // Replace the trailing nil (0xc0, the data) with the extension value.
      const bytes = Uint8Array.from([...head.subarray(0, head.length - 1), ...data])
      expect(() => msgpackCodec.decode(bytes, 'client')).toThrow(ProtocolError)
    }
  })

  it('refuses text and bytes that are not MessagePack', () => {
    expect(() => msgpackCodec.decode('{"type":"ping"}', 'client')).toThrow(ProtocolError)
    expect(() => msgpackCodec.decode(Uint8Array.from([0xc1]), 'client')).toThrow(ProtocolError)
  })
})

describe('checkData', () => {
  it('tells whether the value holds bytes', () => {
    expect(checkData({ a: [1, 'x', null, true] })).toBe(0)
    expect(checkData({ a: [new Uint8Array(1)] })).not.toBe(0)
  })
})
