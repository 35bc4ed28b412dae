/**
 * The signature of a webhook: `Switchboard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
 * `t + "." + body` with the receiver's secret. The timestamp inside the signed text lets a
 * receiver refuse a replayed request; `verifyWebhook` is the check a Node receiver runs (any
 * language can do the same with its HMAC library — docs/webhooks.md shows Python).
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export const SIGNATURE_HEADER = 'switchboard-signature'

/** The header value for `body` sent at `unixSeconds`. */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')
  return `t=${unixSeconds},v1=${mac}`
}

export interface VerifyOptions {
  /** How far the signed time may be from now, in seconds. Default 300. */
  toleranceSeconds?: number
  /** Now, in unix seconds (for tests). */
  now?: number
}

/**
 * Whether `header` (the `Switchboard-Signature` value) signs `body` — the raw request body, as
 * received, not re-serialized — with `secret`, within the time tolerance. Never throws.
 */
export function verifyWebhook(
  secret: string,
  body: string,
  header: string | undefined,
  options: VerifyOptions = {},
): boolean {
  if (!header) return false
  const parts = new Map(
    header.split(',').map((part) => {
      const eq = part.indexOf('=')
      return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()] as const
    }),
  )
  const t = Number(parts.get('t'))
  const given = parts.get('v1') ?? ''
  if (!Number.isSafeInteger(t) || !/^[0-9a-f]{64}$/.test(given)) return false
  const now = options.now ?? Math.floor(Date.now() / 1000)
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) return false
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest()
  return timingSafeEqual(expected, Buffer.from(given, 'hex'))
}
