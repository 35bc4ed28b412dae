/**
 * Running an application's Standard Schema validators (zod, valibot, arktype…): the value they
 * give (after any transform) or a SwitchboardError `invalid_payload` carrying their issues as
 * `[{ message, path? }]`. Requests, channel publishes and server events all go through here.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec'
import { ErrorCode, type JsonValue } from '@switchboard/protocol'
import { SwitchboardError } from '../errors.js'

function pathKey(segment: PropertyKey | StandardSchemaV1.PathSegment): string | number {
  const key = typeof segment === 'object' ? segment.key : segment
  return typeof key === 'symbol' ? String(key) : key
}

/** The validator's issues in a JSON-safe shape: `[{ message, path? }]`. */
export function issuesToJson(issues: ReadonlyArray<StandardSchemaV1.Issue>): JsonValue {
  return issues.map((issue) => {
    const item: { message: string; path?: Array<string | number> } = { message: issue.message }
    if (issue.path && issue.path.length > 0) item.path = issue.path.map(pathKey)
    return item
  })
}

function outcome<T>(result: StandardSchemaV1.Result<T>, what: string): T {
  if (result.issues) {
    throw new SwitchboardError(
      ErrorCode.INVALID_PAYLOAD,
      `${what} failed validation`,
      issuesToJson(result.issues),
    )
  }
  return result.value
}

/** Validates, synchronously or not: the validated value, or a rejection with `invalid_payload`. */
export async function validate<T>(
  schema: StandardSchemaV1<unknown, T>,
  value: unknown,
  what: string,
): Promise<T> {
  return outcome(await schema['~standard'].validate(value), what)
}

/**
 * Validates where there is no waiting (`conn.send`): the validated value, or a thrown
 * `invalid_payload`; a TypeError for a validator that only answers asynchronously.
 */
export function validateNow<T>(schema: StandardSchemaV1<unknown, T>, value: unknown, what: string): T {
  const result = schema['~standard'].validate(value)
  if (result instanceof Promise) {
    void result.catch(() => {})
    throw new TypeError(`${what}: an event schema must validate synchronously`)
  }
  return outcome(result, what)
}
