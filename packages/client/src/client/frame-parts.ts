/**
 * Small parts of the frames a client makes: a `data` field only when there is data (JSON has no
 * `undefined`), and the random prefix of the idempotency keys it generates for publishes.
 */
import type { JsonValue } from '@switchboard/protocol'

export function wireData(data: unknown): { data?: JsonValue } {
  return data === undefined ? {} : { data: data as JsonValue }
}

export function randomPrefix(): string {
  const bytes = new Uint8Array(6)
  globalThis.crypto.getRandomValues(bytes)
  let out = ''
  for (const b of bytes) out += b.toString(36).padStart(2, '0')
  return `${out}-`
}
