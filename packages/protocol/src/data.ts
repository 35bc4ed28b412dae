/**
 * What a frame's `data` may hold, and how bytes travel in JSON text. Data is JSON's values plus
 * bytes (`Uint8Array`, so Node's `Buffer` too, and `ArrayBuffer`) at any depth. The MessagePack
 * codec carries bytes as `bin`; the JSON codec (and so SSE and long-polling) writes them as an
 * object with the single key `$bin` holding standard base64, `{ "$bin": "AQID" }`, and reads that
 * form back as a `Uint8Array`. `checkData` refuses, with `invalid_payload`, every value neither
 * codec can carry faithfully, before anything is sent or published.
 */
import { ErrorCode } from './codes.js'
import { DEFAULT_LIMITS } from './limits.js'
import { SwitchboardError } from './switchboard-error.js'

/** Any value `data` can carry: JSON's values, and bytes at any depth (they arrive as `Uint8Array`). */
export type DataValue =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | ArrayBuffer
  | DataValue[]
  | { [key: string]: DataValue }

/**
 * Levels a server frame's data may have beyond `maxDepth`: a reply wraps what was published (the
 * `$history` reply holds each message's data three levels down), so data accepted at `maxDepth`
 * must still fit when it is read back.
 */
export const SERVER_DATA_EXTRA_DEPTH = 4

/** The key of the JSON form of bytes: `{ "$bin": "<base64>" }`. An object of that one key is reserved. */
export const BINARY_KEY = '$bin'

/** Flags `checkData` returns: the value holds a `Uint8Array`, an `ArrayBuffer`. */
export const HAS_BYTES = 1
export const HAS_ARRAY_BUFFER = 2

/**
 * Checks that `value` can be sent as data: finite numbers, strings, booleans, null, plain objects
 * and arrays, `Uint8Array`/`Buffer`/`ArrayBuffer`, at most `maxDepth` levels deep (so a cycle is
 * refused too). An object property that is `undefined` is left out, as JSON does. Returns flags:
 * HAS_BYTES when the value holds a `Uint8Array`, HAS_ARRAY_BUFFER when it holds an `ArrayBuffer`
 * (0 for plain JSON). Throws a SwitchboardError `invalid_payload` naming the path and the kind
 * of the first value refused: a BigInt, a symbol, a function, `undefined` in an array or as the
 * whole value, a non-finite number, a `Map`, `Set`, `Date` or other class instance, another typed
 * array, an object whose only key is `$bin`.
 */
export function checkData(value: unknown, what = 'data', maxDepth: number = DEFAULT_LIMITS.maxDepth): number {
  return walk(value, what, 0, maxDepth)
}

function refuse(path: string, why: string): never {
  throw new SwitchboardError(ErrorCode.INVALID_PAYLOAD, `${path} cannot be sent: ${why}`)
}

function walk(v: unknown, path: string, depth: number, max: number): number {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return 0
    case 'number':
      if (!Number.isFinite(v)) refuse(path, `${v} is not a finite number`)
      return 0
    case 'object':
      break
    default:
      refuse(path, typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`)
  }
  if (v === null) return 0
  if (v instanceof Uint8Array) return HAS_BYTES
  if (v instanceof ArrayBuffer) return HAS_ARRAY_BUFFER
  if (depth >= max) refuse(path, `nested deeper than ${max} (or cyclic)`)
  let flags = 0
  if (Array.isArray(v)) {
    // A hole reads as undefined and is refused like one.
    for (let i = 0; i < v.length; i++) flags |= walk(v[i], `${path}[${i}]`, depth + 1, max)
    return flags
  }
  const proto = Object.getPrototypeOf(v)
  if (proto !== Object.prototype && proto !== null) {
    refuse(
      path,
      `a ${(v as object).constructor?.name ?? 'class'} instance (send plain objects, arrays and Uint8Array)`,
    )
  }
  const keys = Object.keys(v)
  if (keys.length === 1 && keys[0] === BINARY_KEY)
    refuse(path, `an object whose only key is "${BINARY_KEY}" is reserved`)
  for (const key of keys) {
    const item = (v as Record<string, unknown>)[key]
    if (item !== undefined) flags |= walk(item, `${path}.${key}`, depth + 1, max)
  }
  return flags
}

/** A copy of checked data with every `ArrayBuffer` replaced by a `Uint8Array` over it. */
export function withByteViews<T>(value: T): T {
  if (value instanceof ArrayBuffer) return new Uint8Array(value) as T
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return value
  if (Array.isArray(value)) return value.map(withByteViews) as T
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) out[key] = withByteViews(item)
  return out as T
}

/** Node's Buffer when there is one: its base64 is many times faster than `btoa` over char codes. */
interface NodeBytes {
  readonly buffer: ArrayBufferLike
  readonly byteOffset: number
  readonly byteLength: number
  toString(encoding: 'base64'): string
}
const NodeBuffer = (
  globalThis as {
    Buffer?: {
      from(data: ArrayBufferLike, offset: number, length: number): NodeBytes
      from(text: string, encoding: 'base64'): NodeBytes
    }
  }
).Buffer
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Standard base64 of bytes (browsers and Node alike). */
export function toBase64(bytes: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
  let text = ''
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  return btoa(text)
}

/** Bytes (a plain Uint8Array) of standard base64; throws a TypeError for text that is not base64. */
export function fromBase64(text: string): Uint8Array {
  if (!BASE64.test(text)) throw new TypeError('not base64')
  if (NodeBuffer) {
    const buffer = NodeBuffer.from(text, 'base64')
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength).slice()
  }
  const raw = atob(text)
  const out = new Uint8Array(raw.length)
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i)
  return out
}

/**
 * The JSON.stringify replacer that writes bytes in the `$bin` form. It reads the holder's own
 * value (`this[key]`), so a Buffer is seen before its `toJSON` runs.
 */
export function binaryReplacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key]
  if (raw instanceof Uint8Array) return { [BINARY_KEY]: toBase64(raw) }
  if (raw instanceof ArrayBuffer) return { [BINARY_KEY]: toBase64(new Uint8Array(raw)) }
  return value
}
