/**
 * The error a handler or hook throws to choose what the client is told. Anything else thrown by
 * application code becomes `internal` with a generic message: an exception's text can hold
 * secrets (SQL, paths, tokens), so it is logged on the server and never sent.
 */
import { type ErrorBody, ErrorCode, SwitchboardError } from '@switchboard/protocol'

export { SwitchboardError }

/** The body sent to the client for an error thrown by application code. */
export function errorBody(err: unknown): ErrorBody {
  if (err instanceof SwitchboardError) return err.toBody()
  return { code: ErrorCode.INTERNAL, message: 'internal error' }
}

/** Whether the error is one the application chose (and so is not worth logging as a failure). */
export function isExpected(err: unknown): err is SwitchboardError {
  return err instanceof SwitchboardError
}
