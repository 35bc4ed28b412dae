/**
 * What may be published to a channel, on every path (a client's publish frame, `sb.publish`):
 * the channel's schema first — its output, computed once, is what is published — then what a
 * codec can carry. Both refusals are SwitchboardErrors `invalid_payload`, raised before the broker
 * takes an offset.
 */
import { checkData, type JsonValue } from '@switchboard/protocol'
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
  const schema = rules.get(channel).schema
  if (!schema) return checked(data)
  return validate(schema, data, `a publication to "${channel}"`).then(checked)
}

function checked(value: unknown): JsonValue {
  checkData(value)
  return value as JsonValue
}
