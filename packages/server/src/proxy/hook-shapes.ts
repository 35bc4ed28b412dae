/**
 * What each hook answers, as JSON Schemas (the same ones docs/proxy.md describes) and the
 * TypeScript types they check. Every answer is an object with exactly one of `result` (allowed),
 * `error` (refused, with a protocol error code) or — connect and refresh only — `disconnect`
 * (close the connection with a code from the close-code table). Anything else is malformed, and
 * a malformed answer is a denial. Schemas are strict: an unknown field is malformed too, so a
 * typo in a backend (`"expires_at"`) is caught the first time, not ignored for good.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'

/** Close codes a backend may end a connection with: those the table has for a server's reasons. */
export const DISCONNECT_CODES = [1000, 1008, 1013, 4001, 4003] as const
export type DisconnectCode = (typeof DISCONNECT_CODES)[number]

/**
 * An rpc backend's error code: one of the table's (`forbidden`, `invalid_payload`…) or the
 * application's own, as a handler's SwitchboardError may carry: lower case, digits, `_.:-`.
 */
export const ERROR_CODE_PATTERN = '^[a-z][a-z0-9_.:-]{0,63}$'

export interface HookError<C extends string> {
  error: { code: C; message?: string; details?: unknown }
}
export interface HookDisconnect {
  disconnect: { code: DisconnectCode; reason?: string }
}

export type ConnectAnswer =
  | { result: { user: string; data?: Record<string, unknown>; channels?: string[]; expiresAt?: number } }
  | HookError<'unauthorized' | 'forbidden'>
  | HookDisconnect
export type RefreshAnswer =
  | { result: { expiresAt?: number; data?: Record<string, unknown> } }
  | HookError<'unauthorized' | 'forbidden'>
  | HookDisconnect
export type SubscribeAnswer = { result: { info?: unknown } } | HookError<'forbidden'>
export type PublishAnswer = { result: { data?: unknown } } | HookError<'forbidden'>
export type RpcAnswer = { result: { data?: unknown } } | HookError<string>

const message = { type: 'string', maxLength: 512 }
/** A WebSocket close reason is at most 123 bytes; 120 characters of ASCII leaves room. */
const reason = { type: 'string', maxLength: 120 }
const expiresAt = { type: 'number', exclusiveMinimum: 0 }
const object = { type: 'object' }

function only(key: string, value: object) {
  return { type: 'object', required: [key], additionalProperties: false, properties: { [key]: value } }
}
function result(properties: Record<string, object>, required: string[] = []) {
  return only('result', { type: 'object', required, additionalProperties: false, properties })
}
function error(code: object, details = false) {
  return only('error', {
    type: 'object',
    required: ['code'],
    additionalProperties: false,
    properties: { code, message, ...(details ? { details: {} } : {}) },
  })
}
const disconnect = only('disconnect', {
  type: 'object',
  required: ['code'],
  additionalProperties: false,
  properties: { code: { enum: DISCONNECT_CODES }, reason },
})

export const SCHEMAS = {
  connect: {
    oneOf: [
      result(
        {
          user: { type: 'string', maxLength: 256 },
          data: object,
          channels: { type: 'array', maxItems: 256, items: { type: 'string', minLength: 1, maxLength: 256 } },
          expiresAt,
        },
        ['user'],
      ),
      error({ enum: ['unauthorized', 'forbidden'] }),
      disconnect,
    ],
  },
  refresh: {
    oneOf: [result({ expiresAt, data: object }), error({ enum: ['unauthorized', 'forbidden'] }), disconnect],
  },
  subscribe: { oneOf: [result({ info: {} }), error({ const: 'forbidden' })] },
  publish: { oneOf: [result({ data: {} }), error({ const: 'forbidden' })] },
  rpc: { oneOf: [result({ data: {} }), error({ type: 'string', pattern: ERROR_CODE_PATTERN }, true)] },
} as const

export interface ShapeChecker<T> {
  check: (body: unknown) => body is T
  /** Why the last checked body was refused, for the log: paths and rules, never values. */
  describe: () => string
}

// Made on first use: a server without the proxy never compiles a schema.
let ajv: Ajv | undefined

function checker<T>(schema: object): ShapeChecker<T> {
  let validate: ValidateFunction<T> | undefined
  return {
    check: (body: unknown): body is T => {
      ajv ??= new Ajv({ strict: true, allErrors: false })
      validate ??= ajv.compile<T>(schema)
      return validate(body)
    },
    describe: () => `the response does not match the hook's shape (${explain(validate?.errors)})`,
  }
}

function explain(errors: ErrorObject[] | null | undefined): string {
  if (!errors?.length) return 'unknown reason'
  // With oneOf, the most telling error is the deepest one.
  const deepest = [...errors].sort((a, b) => b.instancePath.length - a.instancePath.length)[0]!
  const extra = (deepest.params as { additionalProperty?: unknown }).additionalProperty
  return `${deepest.instancePath || '/'} ${deepest.message ?? ''}${typeof extra === 'string' ? ` (${JSON.stringify(extra).slice(0, 60)})` : ''}`
}

export const SHAPES = {
  connect: checker<ConnectAnswer>(SCHEMAS.connect),
  refresh: checker<RefreshAnswer>(SCHEMAS.refresh),
  subscribe: checker<SubscribeAnswer>(SCHEMAS.subscribe),
  publish: checker<PublishAnswer>(SCHEMAS.publish),
  rpc: checker<RpcAnswer>(SCHEMAS.rpc),
}
