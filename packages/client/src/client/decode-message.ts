/**
 * One transport message, decoded with the protocol's codecs — text as JSON, a binary message
 * (an ArrayBuffer: the client sets `binaryType`) with the client's binary codec: a server frame
 * (so `hello`, and every other frame, is known by its decoded `type`), or the error that says
 * why it is not one, for the client to report.
 */
import { decodeServerFrame, ErrorCode, ProtocolError, type ServerFrame } from '@switchboard/protocol'
import { SwitchboardError } from '../util/errors.js'
import type { ClientCodec } from './client-types.js'

export function decodeMessage(data: unknown, codec: ClientCodec | undefined): ServerFrame | SwitchboardError {
  try {
    if (typeof data === 'string') return decodeServerFrame(data)
    if (codec && data instanceof ArrayBuffer) return codec.decode(new Uint8Array(data))
    return new SwitchboardError(
      ErrorCode.INVALID_FRAME,
      'a binary message on a connection without a binary codec',
    )
  } catch (err) {
    // The codec throws nothing but ProtocolError; the fallback only keeps the types honest.
    const code = err instanceof ProtocolError ? err.code : ErrorCode.INVALID_FRAME
    return new SwitchboardError(code, err instanceof Error ? err.message : 'bad frame')
  }
}
