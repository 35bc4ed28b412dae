/**
 * Data between the server and a backend is JSON, with bytes in the JSON codec's form,
 * `{ "$bin": "<base64>" }`, both ways: what a hook is sent is written with the codec's replacer,
 * and data a backend answers with (replaced publish data, an rpc reply, presence info) has its
 * `$bin` objects read back as bytes here, so every codec's clients see the same bytes.
 */
import { BINARY_KEY, fromBase64, type JsonValue } from '@switchboard/protocol'
import { SwitchboardError } from '../errors.js'

/** Parsed JSON with `$bin` objects turned into `Uint8Array`s; a bad `$bin` is `invalid_payload`. */
export function fromHookData(value: unknown): JsonValue {
  if (Array.isArray(value)) return value.map(fromHookData) as JsonValue
  if (typeof value !== 'object' || value === null) return value as JsonValue
  const keys = Object.keys(value)
  const record = value as Record<string, unknown>
  if (keys.length === 1 && keys[0] === BINARY_KEY) {
    const text = record[BINARY_KEY]
    try {
      if (typeof text === 'string') return fromBase64(text) as unknown as JsonValue
    } catch {}
    throw new SwitchboardError('invalid_payload', `a "${BINARY_KEY}" that is not valid base64`)
  }
  const out: Record<string, JsonValue> = {}
  for (const key of keys) out[key] = fromHookData(record[key])
  return out
}
