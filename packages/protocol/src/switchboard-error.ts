/**
 * The error that crosses the wire: a stable `code` from the error table (or an application's own
 * code), a message, and optional JSON details. A server handler throws it to choose the reply;
 * the client rejects with it when a reply fails or a request times out. One class on both sides,
 * so `err.code` means the same thing everywhere.
 */
import type { ErrorBody, JsonValue } from './frames.js'

export class SwitchboardError extends Error {
  override readonly name = 'SwitchboardError'
  /** An error code from the protocol table (`forbidden`, `timeout`…) or an application code. */
  readonly code: string
  readonly details: JsonValue | undefined

  constructor(code: string, message: string, details?: JsonValue) {
    super(message)
    this.code = code
    this.details = details
  }

  /** The error as it travels in a failed reply or an `error` frame. */
  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message }
    if (this.details !== undefined) body.details = this.details
    return body
  }
}
