/**
 * Structural validation of a parsed JSON value into a frame. Every frame that leaves this module
 * is a fresh object holding only the fields the protocol defines, with their types checked,
 * their strings bounded, and no `__proto__`, `constructor` or `prototype` key anywhere inside.
 */
import { ErrorCode } from './codes.js'
import { BINARY_KEY, type DataValue, fromBase64, SERVER_DATA_EXTRA_DEPTH } from './data.js'
import type {
  ClientFrame,
  ErrorBody,
  ErrorFrame,
  EventFrame,
  Frame,
  HelloFrame,
  PingFrame,
  PongFrame,
  PresenceCounts,
  PresenceFrame,
  PresenceUpdateFrame,
  PresenceUser,
  PublishFrame,
  ReplyOkFrame,
  RequestFrame,
  ServerFrame,
  StreamPosition,
  SubscribedFrame,
  SubscribeFrame,
  UnsubscribeFrame,
} from './frames.js'
import { DEFAULT_LIMITS, isValidChannel, isValidEventName } from './limits.js'
import { ProtocolError } from './protocol-error.js'

export type Direction = 'client' | 'server'

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

type Obj = Record<string, unknown>

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Reading the fields of one frame, with the frame id remembered for error reports. */
class FieldReader {
  readonly frameId: string | undefined
  /** How deep `data` may nest: `maxDepth` in client frames, a little more in server frames (see data.ts). */
  maxDepth: number = DEFAULT_LIMITS.maxDepth
  constructor(
    private readonly raw: Obj,
    private readonly type: string,
  ) {
    const id = raw.id
    this.frameId = typeof id === 'string' && id.length <= DEFAULT_LIMITS.maxIdLength ? id : undefined
  }

  fail(message: string, code: ErrorCode = ErrorCode.INVALID_FRAME): never {
    throw new ProtocolError(code, `${this.type}: ${message}`, this.frameId)
  }

  has(field: string): boolean {
    return this.raw[field] !== undefined
  }

  string(field: string, maxLength: number, minLength = 1): string {
    const v = this.raw[field]
    if (typeof v !== 'string') this.fail(`"${field}" must be a string`)
    if (v.length < minLength) this.fail(`"${field}" must not be empty`)
    if (v.length > maxLength) this.fail(`"${field}" is longer than ${maxLength} characters`)
    return v
  }

  optString(field: string, maxLength: number): string | undefined {
    return this.has(field) ? this.string(field, maxLength) : undefined
  }

  id(): string {
    return this.string('id', DEFAULT_LIMITS.maxIdLength)
  }

  optId(): string | undefined {
    return this.optString('id', DEFAULT_LIMITS.maxIdLength)
  }

  /** A channel field that is not a string is `invalid_frame`; a string that is no channel name, `invalid_channel`. */
  channel(): string {
    const name = this.raw.channel
    if (typeof name !== 'string') this.fail('"channel" must be a string')
    if (!isValidChannel(name)) {
      this.fail(
        `"channel" must be 1–${DEFAULT_LIMITS.maxChannelLength} characters from A-Z a-z 0-9 _ - : . @ / = +`,
        ErrorCode.INVALID_CHANNEL,
      )
    }
    return name
  }

  event(): string {
    const name = this.string('event', DEFAULT_LIMITS.maxEventLength)
    if (!isValidEventName(name)) this.fail(`"event" has characters outside A-Z a-z 0-9 _ - : . /`)
    return name
  }

  offset(field: string, v: unknown = this.raw[field]): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      this.fail(`"${field}" must be a non-negative integer`)
    }
    return v
  }

  /** A finite number above 0 (not necessarily an integer: a rate may be 0.5 a second). */
  positive(field: string, v: unknown): number {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      this.fail(`"${field}" must be a number above 0`)
    return v
  }

  int(field: string): number {
    return this.offset(field)
  }

  data(field: string): DataValue {
    const v = this.raw[field]
    if (v === undefined) this.fail(`"${field}" is required`)
    return this.json(v, field)
  }

  optData(field: string): DataValue | undefined {
    const v = this.raw[field]
    return v === undefined ? undefined : this.json(v, field)
  }

  /**
   * Walks a decoded value iteratively: bounded depth, no prototype keys, and bytes — a
   * `Uint8Array` from MessagePack, or the JSON form `{ "$bin": "<base64>" }`, which becomes one.
   * Anything else that is not a plain object or array (a MessagePack extension) is refused.
   */
  json(value: unknown, field: string): DataValue {
    const root = { value }
    const stack: Array<[Obj, string, number]> = [[root, 'value', 1]]
    while (stack.length > 0) {
      const [holder, at, depth] = stack.pop()!
      const v = holder[at]
      if (typeof v === 'number' && !Number.isFinite(v)) {
        // MessagePack can carry NaN and Infinity; no data may hold them (JSON cannot).
        this.fail(`"${field}" holds ${v}, not a finite number`, ErrorCode.INVALID_PAYLOAD)
      }
      if (typeof v !== 'object' || v === null || v instanceof Uint8Array) continue
      if (depth > this.maxDepth) this.fail(`"${field}" is nested deeper than ${this.maxDepth}`)
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) stack.push([v as unknown as Obj, String(i), depth + 1])
        continue
      }
      const proto = Object.getPrototypeOf(v)
      if (proto !== Object.prototype && proto !== null) this.fail(`"${field}" holds a value of no plain type`)
      const keys = Object.keys(v)
      if (keys.length === 1 && keys[0] === BINARY_KEY) {
        const text = (v as Obj)[BINARY_KEY]
        if (typeof text !== 'string')
          this.fail(`"${field}" has a "${BINARY_KEY}" that is not a base64 string`)
        try {
          holder[at] = fromBase64(text)
        } catch {
          this.fail(`"${field}" has a "${BINARY_KEY}" that is not valid base64`)
        }
        continue
      }
      for (const key of keys) {
        if (FORBIDDEN_KEYS.has(key)) this.fail(`"${field}" contains the forbidden key "${key}"`)
        stack.push([v as Obj, key, depth + 1])
      }
    }
    return root.value as DataValue
  }

  since(): StreamPosition | undefined {
    const v = this.raw.since
    if (v === undefined) return undefined
    if (!isObject(v)) this.fail('"since" must be an object { epoch, offset }')
    const epoch = v.epoch
    if (typeof epoch !== 'string' || epoch.length === 0 || epoch.length > DEFAULT_LIMITS.maxIdLength) {
      this.fail('"since.epoch" must be a non-empty string')
    }
    return { epoch, offset: this.offset('since.offset', v.offset) }
  }

  user(v: unknown, field: string): PresenceUser {
    if (!isObject(v)) this.fail(`"${field}" must hold users`)
    const u = new FieldReader(v, this.type)
    // Servers before user presence sent per-connection members, without `connections`: one each.
    const user: PresenceUser = {
      userId: u.string('userId', DEFAULT_LIMITS.maxKeyLength),
      connections: u.has('connections') ? u.int('connections') : 1,
    }
    const info = u.optData('info')
    if (info !== undefined) user.info = info
    return user
  }

  users(field: string): PresenceUser[] | undefined {
    const v = this.raw[field]
    if (v === undefined || Array.isArray(v)) return v?.map((u) => this.user(u, field))
    this.fail(`"${field}" must hold users`)
  }

  counts(): PresenceCounts | undefined {
    const v = this.raw.counts
    if (v === undefined) return undefined
    if (!isObject(v)) this.fail('"counts" must be { connections, users }')
    return {
      connections: this.offset('counts.connections', v.connections),
      users: this.offset('counts.users', v.users),
    }
  }

  errorBody(v: unknown): ErrorBody {
    if (!isObject(v)) this.fail('"error" must be an object { code, message }')
    const e = new FieldReader(v, this.type)
    const body: ErrorBody = { code: e.string('code', 64), message: e.string('message', 4096, 0) }
    const details = e.optData('details')
    if (details !== undefined) body.details = details
    return body
  }
}

/** Deletes the keys whose value is undefined, so absent optional fields stay absent on the wire. */
function compact<T extends object>(frame: T): T {
  for (const key of Object.keys(frame) as Array<keyof T>) if (frame[key] === undefined) delete frame[key]
  return frame
}

function clientFrame(r: FieldReader, type: string): ClientFrame | undefined {
  switch (type) {
    case 'subscribe':
      return compact<SubscribeFrame>({ type, id: r.id(), channel: r.channel(), since: r.since() })
    case 'unsubscribe':
      return compact<UnsubscribeFrame>({ type, id: r.optId(), channel: r.channel() })
    case 'publish':
      return compact<PublishFrame>({
        type,
        id: r.optId(),
        channel: r.channel(),
        data: r.data('data'),
        key: r.optString('key', DEFAULT_LIMITS.maxKeyLength),
      })
    case 'request':
      return compact<RequestFrame>({ type, id: r.optId(), event: r.event(), data: r.optData('data') })
    case 'auth':
      return { type, id: r.id(), token: r.string('token', DEFAULT_LIMITS.maxTokenLength) }
    case 'ping':
      return compact<PingFrame>({ type, id: r.optId() })
    case 'presence_update':
      return compact<PresenceUpdateFrame>({ type, id: r.optId(), channel: r.channel(), info: r.data('info') })
    default:
      return undefined
  }
}

/**
 * A `presence` frame. Servers before coalescing sent one change, `{ action: "join" | "leave",
 * member }` (a connection), read here as a one-entry `joins` or `leaves`.
 */
function presenceFrame(r: FieldReader, raw: Obj): PresenceFrame {
  const frame = compact<PresenceFrame>({
    type: 'presence',
    channel: r.channel(),
    joins: r.users('joins'),
    leaves: r.users('leaves'),
    updates: r.users('updates'),
    counts: r.counts(),
  })
  const { action } = raw
  if (action === 'join') frame.joins = [r.user(raw.member, 'member')]
  if (action === 'leave') frame.leaves = [{ ...r.user(raw.member, 'member'), connections: 0 }]
  return frame
}

function serverFrame(r: FieldReader, raw: Obj, type: string): ServerFrame | undefined {
  switch (type) {
    case 'hello': {
      const limits = raw.limits
      if (!isObject(limits)) r.fail('"limits" must be an object')
      const hello: HelloFrame = {
        type,
        version: r.int('version'),
        connectionId: r.string('connectionId', DEFAULT_LIMITS.maxIdLength),
        heartbeat: r.int('heartbeat'),
        limits: {
          maxPayload: r.offset('limits.maxPayload', limits.maxPayload),
          maxSubscriptions: r.offset('limits.maxSubscriptions', limits.maxSubscriptions),
        },
      }
      const rate = limits.rateLimit
      if (rate !== undefined) {
        if (!isObject(rate)) r.fail('"limits.rateLimit" must be an object')
        hello.limits.rateLimit = {
          capacity: r.positive('limits.rateLimit.capacity', rate.capacity),
          refillPerSecond: r.positive('limits.rateLimit.refillPerSecond', rate.refillPerSecond),
        }
      }
      // Other values are left to later versions: a client ignores what it does not know.
      if (raw.auth === 'required') hello.auth = 'required'
      return hello
    }
    case 'message':
      return {
        type,
        channel: r.channel(),
        epoch: r.string('epoch', DEFAULT_LIMITS.maxIdLength),
        offset: r.offset('offset'),
        data: r.data('data'),
      }
    case 'subscribed': {
      const frame: SubscribedFrame = {
        type,
        channel: r.channel(),
        epoch: r.string('epoch', DEFAULT_LIMITS.maxIdLength),
        offset: r.offset('offset'),
      }
      if (r.has('recovered')) frame.recovered = raw.recovered === true
      if (Array.isArray(raw.members)) frame.members = raw.members.map((m) => r.user(m, 'members'))
      const counts = r.counts()
      if (counts) frame.counts = counts
      return frame
    }
    case 'unsubscribed':
      return { type, channel: r.channel() }
    case 'event':
      return compact<EventFrame>({ type, event: r.event(), data: r.optData('data') })
    case 'reply': {
      const id = r.id()
      if (raw.ok === true) return compact<ReplyOkFrame>({ type, id, ok: true, data: r.optData('data') })
      if (raw.ok === false) return { type, id, ok: false, error: r.errorBody(raw.error) }
      return r.fail('"ok" must be true or false')
    }
    case 'presence':
      return presenceFrame(r, raw)
    case 'error':
      return compact<ErrorFrame>({
        type,
        code: r.string('code', 64),
        message: r.string('message', 4096, 0),
        id: r.optId(),
        channel: r.has('channel') ? r.channel() : undefined,
        details: r.optData('details'),
      })
    case 'pong':
      return compact<PongFrame>({ type, id: r.optId() })
    case 'refresh':
      return { type, expiresIn: r.int('expiresIn') }
    default:
      return undefined
  }
}

function serverSide(reader: FieldReader, value: Obj, type: string, from: Direction | undefined) {
  if (from === 'client') return undefined
  reader.maxDepth = DEFAULT_LIMITS.maxDepth + SERVER_DATA_EXTRA_DEPTH
  return serverFrame(reader, value, type)
}

/** Turns a parsed JSON value into a frame, or throws ProtocolError. `from` limits the direction. */
export function toFrame(value: unknown, from?: Direction): Frame {
  if (!isObject(value)) throw new ProtocolError(ErrorCode.INVALID_JSON, 'a frame must be a JSON object')
  const type = value.type
  if (typeof type !== 'string')
    throw new ProtocolError(ErrorCode.INVALID_FRAME, 'a frame needs a string "type"')
  const reader = new FieldReader(value, type.slice(0, 32))
  const frame =
    (from !== 'server' ? clientFrame(reader, type) : undefined) ?? serverSide(reader, value, type, from)
  if (frame) return frame
  const expected = from ? ` from a ${from}` : ''
  return reader.fail(`unknown frame type${expected}`, ErrorCode.UNKNOWN_TYPE)
}
