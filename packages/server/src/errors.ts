/**
 * The error a handler or hook throws to choose what the client is told. Anything else thrown by
 * application code becomes `internal` with a generic message: an exception's text can hold
 * secrets (SQL, paths, tokens), so it is logged on the server and never sent.
 */
import { type ErrorBody, ErrorCode, type JsonValue } from '@switchboard/protocol'

export class SwitchboardError extends Error {
  override readonly name = 'SwitchboardError'
  /** An error code from the protocol table (`forbidden`, `invalid_payload`…) or an application code. */
  readonly code: string
  readonly details: JsonValue | undefined

  constructor(code: string, message: string, details?: JsonValue) {
    super(message)
    this.code = code
    this.details = details
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message }
    if (this.details !== undefined) body.details = this.details
    return body
  }
}

/** The body sent to the client for an error thrown by application code. */
export function errorBody(err: unknown): ErrorBody {
  if (err instanceof SwitchboardError) return err.toBody()
  return { code: ErrorCode.INTERNAL, message: 'internal error' }
}

/** Whether the error is one the application chose (and so is not worth logging as a failure). */
export function isExpected(err: unknown): err is SwitchboardError {
  return err instanceof SwitchboardError
}
