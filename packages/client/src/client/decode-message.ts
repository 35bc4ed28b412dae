/**
 * One transport message, decoded with the protocol's codec: a server frame (so `hello`, and every
 * other frame, is known by its decoded `type`, never by the shape of its text), or the error that
 * says why it is not one, for the client to report.
 */
import { decodeServerFrame, ErrorCode, ProtocolError, type ServerFrame } from '@switchboard/protocol'
import { SwitchboardError } from '../util/errors.js'

export function decodeMessage(data: unknown): ServerFrame | SwitchboardError {
  if (typeof data !== 'string') {
    return new SwitchboardError(ErrorCode.INVALID_FRAME, 'binary frames are not part of v1')
  }
  try {
    return decodeServerFrame(data)
  } catch (err) {
    // The codec throws nothing but ProtocolError; the fallback only keeps the types honest.
    const code = err instanceof ProtocolError ? err.code : ErrorCode.INVALID_FRAME
    return new SwitchboardError(code, err instanceof Error ? err.message : 'bad frame')
  }
}
