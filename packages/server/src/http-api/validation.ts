/**
 * Request validation with ajv against the method's JSON Schema (schemas.ts), every error at once.
 * A failure is an `ApiError` 400 whose message names what is wrong — each unknown field by name,
 * a missing one, a wrong type — with the issues as `details: [{ message, path }]`. A bad channel
 * name is `invalid_channel`; anything else about the shape is `invalid_frame`, as the protocol
 * answers a malformed frame.
 */
import { type ErrorCode as Code, ErrorCode } from '@switchboard/protocol'
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import { ApiError } from './api-error.js'
import { METHODS, type MethodName, type RequestOf } from './schemas.js'

// strictRequired off: `oneOf: [{ required: ['user'] }, …]` names properties defined beside it.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false })

const requests = new Map<MethodName, ValidateFunction>()

function validatorOf(method: MethodName): ValidateFunction {
  let validate = requests.get(method)
  if (!validate) {
    validate = ajv.compile(METHODS[method].request)
    requests.set(method, validate)
  }
  return validate
}

/** Compiles every method's validator now, so a bad schema fails at start, not on a call. */
export function compileAll(): void {
  for (const method of Object.keys(METHODS) as MethodName[]) validatorOf(method)
}

/** The path of an issue, as `details` carry it: `['channels', 2]`. */
function pathOf(error: ErrorObject): Array<string | number> {
  const path: Array<string | number> = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part))
  if (error.keyword === 'additionalProperties') path.push(String(error.params.additionalProperty))
  if (error.keyword === 'required') path.push(String(error.params.missingProperty))
  return path
}

function describe(error: ErrorObject): string {
  const where = error.instancePath === '' ? 'the body' : `"${pathOf(error).join('.')}"`
  switch (error.keyword) {
    case 'additionalProperties':
      return `unknown field "${pathOf(error).join('.')}"`
    case 'required':
      return `missing field "${pathOf(error).join('.')}"`
    case 'oneOf':
      return 'give exactly one of "user" and "connection"'
    default:
      return `${where} ${error.message ?? 'is invalid'}`
  }
}

/** The issues worth telling: `oneOf`'s branches say the same as its own summary, once. */
function issues(errors: readonly ErrorObject[]): ErrorObject[] {
  const oneOf = errors.filter((e) => e.keyword === 'oneOf').map((e) => e.schemaPath)
  return errors.filter(
    (e) =>
      e.keyword === 'oneOf' ||
      !oneOf.some((path) => e.schemaPath.startsWith(path.replace(/oneOf$/, 'oneOf/'))),
  )
}

/** An issue with a channel name itself (not a missing one, not the list's length or duplicates). */
const isChannelIssue = (error: ErrorObject) => {
  const path = pathOf(error)
  if (error.keyword === 'required') return false
  return (path[0] === 'channel' && path.length === 1) || (path[0] === 'channels' && path.length === 2)
}

/** The request body checked against the method's schema: typed, or an ApiError 400. */
export function checkRequest<N extends MethodName>(method: N, body: unknown): RequestOf<N> {
  const validate = validatorOf(method)
  if (validate(body)) return body as RequestOf<N>
  const found = issues(validate.errors ?? [])
  const code: Code = found.every(isChannelIssue) ? ErrorCode.INVALID_CHANNEL : ErrorCode.INVALID_FRAME
  const details = found.map((e) => ({ message: describe(e), path: pathOf(e) }))
  throw new ApiError(code, `${method}: ${details.map((d) => d.message).join('; ')}`, details)
}

/** A validator for any of the API's schemas (the tests check real answers with it). */
export function compileSchema(schema: object): ValidateFunction {
  return ajv.compile(schema)
}
