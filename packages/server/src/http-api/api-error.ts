/**
 * The API's errors: a protocol error code, its HTTP status, and the JSON body
 * `{ "error": { "code", "message", "details"? } }`. Bytes in any answer are written in the
 * protocol's JSON form (`{ "$bin": base64 }`).
 */
import type { ServerResponse } from 'node:http'
import {
  binaryReplacer,
  type ErrorBody,
  ErrorCode,
  type JsonValue,
  SwitchboardError,
} from '@switchboard/protocol'

/** The HTTP status for each error code the API answers with. */
const STATUS: Partial<Record<string, number>> = {
  [ErrorCode.INVALID_JSON]: 400,
  [ErrorCode.INVALID_FRAME]: 400,
  [ErrorCode.INVALID_CHANNEL]: 400,
  [ErrorCode.INVALID_PAYLOAD]: 400,
  [ErrorCode.UNAUTHORIZED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.UNKNOWN_EVENT]: 404,
  [ErrorCode.NOT_SUBSCRIBED]: 409,
  [ErrorCode.LIMIT_EXCEEDED]: 409,
  [ErrorCode.FRAME_TOO_LARGE]: 413,
  [ErrorCode.RATE_LIMITED]: 429,
  [ErrorCode.UNAVAILABLE]: 503,
  [ErrorCode.TIMEOUT]: 504,
}

/** An error the API answers with a status of its own choosing (405 for a wrong method). */
export class ApiError extends SwitchboardError {
  readonly status: number
  constructor(code: ErrorCode, message: string, details?: JsonValue, status?: number) {
    super(code, message, details)
    this.status = status ?? STATUS[code] ?? 500
  }
}

/** The status and body for anything thrown while answering: unknown errors are `internal`, 500. */
export function errorAnswer(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof ApiError) return { status: err.status, body: err.toBody() }
  if (err instanceof SwitchboardError) return { status: STATUS[err.code] ?? 500, body: err.toBody() }
  return { status: 500, body: { code: ErrorCode.INTERNAL, message: 'internal error' } }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const text = JSON.stringify(value, binaryReplacer)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  })
  res.end(text)
}

export function sendError(
  res: ServerResponse,
  status: number,
  body: ErrorBody,
  headers?: Record<string, string>,
) {
  sendJson(res, status, { error: body }, headers)
}
