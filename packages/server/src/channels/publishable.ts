/**
 * What may be published to a channel, on every path (a client's publish frame, `sb.publish`, the
 * HTTP API): the channel's schema first — its output, computed once, is what is published — then
 * what a codec can carry, then the channel's size bound (`maxDataBytes`). Every refusal is a
 * SwitchboardError `invalid_payload`, raised before the broker takes an offset.
 */
import { checkData, ErrorCode, type JsonValue, SwitchboardError } from '@switchboard/protocol'
import { validate } from '../schemas/validate.js'
import type { ChannelRules } from './channel-options.js'

/**
 * The value to publish. Synchronous for a channel without a schema, so that publishes made in one
 * turn reach the broker in that turn, in call order, with no extra step each.
 */
export function publishable(
  rules: ChannelRules,
  channel: string,
  data: unknown,
): JsonValue | Promise<JsonValue> {
  const { schema, maxDataBytes } = rules.get(channel)
  const check = (value: unknown) => checked(value, channel, maxDataBytes)
  if (!schema) return check(data)
  return validate(schema, data, `a publication to "${channel}"`).then(check)
}

function checked(value: unknown, channel: string, maxDataBytes: number | undefined): JsonValue {
  checkData(value)
  if (maxDataBytes !== undefined) {
    const size = dataSize(value)
    if (size > maxDataBytes) {
      throw new SwitchboardError(
        ErrorCode.INVALID_PAYLOAD,
        `data is ${size} bytes; "${channel}" takes at most ${maxDataBytes}`,
      )
    }
  }
  return value as JsonValue
}

/** The size `maxDataBytes` bounds: the JSON text, each bytes value counted as its own length. */
export function dataSize(value: unknown): number {
  // Each bytes value is written as the one-character `0`, then counted as its length instead.
  let views = 0
  let bytes = 0
  const text = JSON.stringify(value, function (this: unknown, key, v: unknown) {
    const raw = (this as Record<string, unknown>)[key]
    if (raw instanceof Uint8Array || raw instanceof ArrayBuffer) {
      views++
      bytes += raw.byteLength
      return 0
    }
    return v
  })
  return Buffer.byteLength(text) - views + bytes
}
