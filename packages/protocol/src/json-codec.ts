/**
 * The JSON codec: frames as UTF-8 JSON text. `decode` turns anything that is not a valid frame
 * into a ProtocolError — and never throws anything else, whatever the input.
 */
import { ErrorCode } from './codes.js'
import type { ClientFrame, Frame, ServerFrame } from './frames.js'
import { ProtocolError } from './protocol-error.js'
import { type Direction, toFrame } from './validate.js'

export interface Codec {
  readonly name: string
  encode(frame: Frame): string
  /** Parses and validates one frame; `from` rejects frames of the other direction as unknown_type. */
  decode(data: string | Uint8Array, from?: Direction): Frame
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function parse(data: string | Uint8Array): unknown {
  let text: string
  try {
    text = typeof data === 'string' ? data : utf8.decode(data)
  } catch {
    throw new ProtocolError(ErrorCode.INVALID_JSON, 'frame is not valid UTF-8')
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new ProtocolError(ErrorCode.INVALID_JSON, 'frame is not valid JSON')
  }
}

export const jsonCodec: Codec = {
  name: 'json',
  encode: (frame) => JSON.stringify(frame),
  decode(data, from) {
    try {
      return toFrame(parse(data), from)
    } catch (err) {
      if (err instanceof ProtocolError) throw err
      // Defensive: a RangeError from something pathological must still surface as a protocol error.
      throw new ProtocolError(ErrorCode.INVALID_FRAME, 'frame could not be read')
    }
  },
}

/** Decodes a frame a client sent (the server's side of the wire). */
export function decodeClientFrame(data: string | Uint8Array): ClientFrame {
  return jsonCodec.decode(data, 'client') as ClientFrame
}

/** Decodes a frame a server sent (the client's side of the wire). */
export function decodeServerFrame(data: string | Uint8Array): ServerFrame {
  return jsonCodec.decode(data, 'server') as ServerFrame
}

export const encodeFrame = jsonCodec.encode
