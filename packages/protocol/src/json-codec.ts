/**
 * The JSON codec: frames as UTF-8 JSON text, bytes in `data` written as `{ "$bin": "<base64>" }`
 * (see data.ts). `encode` checks every field first and throws a SwitchboardError
 * `invalid_payload` for a value it cannot carry faithfully; `decode` turns anything that is not a
 * valid frame into a ProtocolError — and never throws anything else, whatever the input.
 */
import { ErrorCode } from './codes.js'
import { binaryReplacer, checkData, SERVER_DATA_EXTRA_DEPTH } from './data.js'
import type { ClientFrame, Frame, ServerFrame } from './frames.js'
import { CLIENT_FRAME_TYPES } from './frames.js'
import { DEFAULT_LIMITS } from './limits.js'
import { ProtocolError } from './protocol-error.js'
import { type Direction, toFrame } from './validate.js'

/** A codec: `encode` gives what one transport message carries (text for JSON, bytes for MessagePack). */
export interface Codec<Encoded extends string | Uint8Array = string | Uint8Array> {
  readonly name: string
  encode(frame: Frame): Encoded
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

/** Checks a frame's fields (see checkData); the flags of what it holds (HAS_BYTES, HAS_ARRAY_BUFFER). */
export function checkFrame(frame: Frame): number {
  const max = isClientFrame(frame)
    ? DEFAULT_LIMITS.maxDepth
    : DEFAULT_LIMITS.maxDepth + SERVER_DATA_EXTRA_DEPTH
  let flags = 0
  for (const key in frame) {
    const value = (frame as unknown as Record<string, unknown>)[key]
    if (value !== undefined) flags |= checkData(value, key, max)
  }
  return flags
}

const CLIENT_TYPES: ReadonlySet<string> = new Set(CLIENT_FRAME_TYPES)
const isClientFrame = (frame: Frame): boolean => CLIENT_TYPES.has(frame.type)

/** The JSON text of a frame `checkFrame` already passed, given its flags. */
export function jsonText(frame: Frame, flags: number): string {
  return flags ? JSON.stringify(frame, binaryReplacer) : JSON.stringify(frame)
}

export const jsonCodec: Codec<string> = {
  name: 'json',
  encode: (frame) => jsonText(frame, checkFrame(frame)),
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
