/**
 * `@switchboard/client/msgpack`: the MessagePack codec for `new SwitchboardClient(url, { codec:
 * msgpack })`. The client offers `switchboard.v1.msgpack` before `switchboard.v1`; on a
 * connection that gets it every frame is one binary message, and bytes in data travel as
 * MessagePack `bin`. A separate entry, so that only those who use it bundle `@msgpack/msgpack`.
 */
import type { ServerFrame } from '@switchboard/protocol'
import { MSGPACK_SUBPROTOCOL, msgpackCodec } from '@switchboard/protocol/msgpack'
import type { ClientCodec } from './client/client-types.js'

export const msgpack: ClientCodec = {
  subprotocol: MSGPACK_SUBPROTOCOL,
  encode: (frame) => msgpackCodec.encode(frame),
  decode: (data) => msgpackCodec.decode(data, 'server') as ServerFrame,
}
