/**
 * The one error type the client rejects with. `code` is a stable string from the protocol's
 * error table — a server code from a failed reply (`invalid_payload`, `forbidden`…) or one of the
 * client-side codes `timeout`, `disconnected`, `cancelled`, `limit_exceeded`.
 */
import type { JsonValue } from '@switchboard/protocol'

export class SwitchboardError extends Error {
  override readonly name = 'SwitchboardError'
  readonly code: string
  readonly details: JsonValue | undefined

  constructor(code: string, message: string, details?: JsonValue) {
    super(message)
    this.code = code
    this.details = details
  }
}
