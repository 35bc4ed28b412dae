/**
 * The configuration with its secrets taken out, for `--print-config` and for logs: the JWT
 * secret, every API key, every webhook secret, every header value sent to the application's
 * hooks and webhook receivers (they are how a receiver knows the caller: a shared secret, a
 * signature), and the password of any URL.
 */
import type { SwitchboardConfig } from './config.js'

export const REDACTED = '<redacted>'

/**
 * The URL with its password and its query's values replaced (a query may carry a credential,
 * `?token=…`); one that does not parse is hidden whole (it may hold one).
 */
export function redactUrlPassword(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    for (const name of new Set(u.searchParams.keys())) u.searchParams.set(name, '***')
    return u.toString()
  } catch {
    return REDACTED
  }
}

export function redactConfig<C extends SwitchboardConfig>(config: C): C {
  const out = structuredClone(config)
  if (out.jwt) {
    if (out.jwt.secret !== undefined) out.jwt.secret = REDACTED
    if (out.jwt.jwksUrl !== undefined) out.jwt.jwksUrl = redactUrlPassword(out.jwt.jwksUrl)
  }
  if (out.redis?.url !== undefined) out.redis.url = redactUrlPassword(out.redis.url)
  if (out.redis?.cluster) out.redis.cluster = out.redis.cluster.map(redactUrlPassword)
  if (out.redis?.shards) out.redis.shards = out.redis.shards.map(redactUrlPassword)
  if (out.api) for (const entry of out.api.keys) entry.key = REDACTED
  for (const receiver of out.webhooks?.receivers ?? []) {
    receiver.url = redactUrlPassword(receiver.url)
    receiver.secret = REDACTED
    for (const name of Object.keys(receiver.headers ?? {})) receiver.headers![name] = REDACTED
  }
  for (const hook of Object.values(out.proxy ?? {})) {
    if (!hook) continue
    hook.url = redactUrlPassword(hook.url)
    for (const name of Object.keys(hook.headers ?? {})) hook.headers![name] = REDACTED
  }
  return out
}
