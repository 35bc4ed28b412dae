/**
 * The MessagePack codec, `@switchboard/protocol/msgpack`: the same frame objects as the JSON
 * codec, each encoded as one MessagePack map in one binary WebSocket message; bytes in `data`
 * travel as MessagePack `bin` and decode as `Uint8Array`. Negotiated with the subprotocol
 * `switchboard.v1.msgpack` (MSGPACK_SUBPROTOCOL). Apart from the main entry so that only those
 * who use it load `@msgpack/msgpack`.
 *
 * Decoding is bounded (string, binary, array and map lengths by the message's own size; depth
 * by the frame check's `maxDepth`) and accepts nothing but plain values: an extension type (a
 * timestamp too) is refused — `invalid_json` when it carries data, as no extension data is read.
 */
import { Decoder, Encoder, ExtensionCodec } from '@msgpack/msgpack'
import { ErrorCode } from './codes.js'
import { HAS_ARRAY_BUFFER, withByteViews } from './data.js'
import type { Frame } from './frames.js'
import { type Codec, checkFrame } from './json-codec.js'
import { ProtocolError } from './protocol-error.js'
import { toFrame } from './validate.js'

/** The subprotocol that selects this codec on a WebSocket. */
export const MSGPACK_SUBPROTOCOL = 'switchboard.v1.msgpack'

// No extension types at all, not even the built-in timestamp: a frame holds plain values only.
const noExtensions = new ExtensionCodec()
noExtensions.register({
  type: -1,
  encode: () => null,
  decode: () => {
    throw new ProtocolError(ErrorCode.INVALID_FRAME, 'MessagePack extension types are not part of v1')
  },
})

const encoder = new Encoder({ ignoreUndefined: true, extensionCodec: noExtensions })

function decoderFor(size: number): Decoder {
  return new Decoder({
    extensionCodec: noExtensions,
    maxStrLength: size,
    maxBinLength: size,
    maxArrayLength: size,
    maxMapLength: size,
    maxExtLength: 0,
  })
}

/** The MessagePack bytes of a frame `checkFrame` already passed, given its flags. */
export function msgpackBytes(frame: Frame, flags: number): Uint8Array {
  return encoder.encode(flags & HAS_ARRAY_BUFFER ? withByteViews(frame) : frame)
}

export const msgpackCodec: Codec<Uint8Array> = {
  name: 'msgpack',
  encode: (frame) => msgpackBytes(frame, checkFrame(frame)),
  decode(data, from) {
    if (typeof data === 'string')
      throw new ProtocolError(ErrorCode.INVALID_FRAME, 'expected a binary message')
    let value: unknown
    try {
      // A plain Uint8Array view: `bin` values decode as subarrays of it, so as Uint8Array, never
      // as Buffer (whose subarrays a Node caller would otherwise get).
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      value = decoderFor(bytes.byteLength).decode(bytes)
    } catch (err) {
      if (err instanceof ProtocolError) throw err
      throw new ProtocolError(ErrorCode.INVALID_JSON, 'message is not valid MessagePack')
    }
    try {
      return toFrame(value, from)
    } catch (err) {
      if (err instanceof ProtocolError) throw err
      throw new ProtocolError(ErrorCode.INVALID_FRAME, 'frame could not be read')
    }
  },
}
