/**
 * The one error the codec throws. It carries an error code from the table, so the server can put
 * it in an `error` frame without guessing, and the id of the offending frame when it could be read.
 */
import type { ErrorCode } from './codes.js'

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError'
  readonly code: ErrorCode
  /** The offending frame's `id`, when the frame was readable enough to have one. */
  readonly frameId: string | undefined

  constructor(code: ErrorCode, message: string, frameId?: string) {
    super(message)
    this.code = code
    this.frameId = frameId
  }
}
