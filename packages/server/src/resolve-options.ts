/**
 * The options of `createSwitchboard` that need more than a default: the logger, the port from
 * `PORT`, the per-user connection limit and the revocation ttl, each checked here with a
 * TypeError that names the option.
 */
import type { Logger } from './api.js'
import type { UserLimit } from './users/user-index.js'

export const consoleLogger: Logger = {
  info: (m) => console.log(m),
  warn: (m) => console.warn(m),
  error: (m, err) => console.error(m, err ?? ''),
}
export const silentLogger: Logger = { info() {}, warn() {}, error() {} }

/** The port of a created server without `port`: `PORT` from the environment, else 8080. */
export function defaultPort(): number {
  const fromEnv = Number(process.env.PORT)
  return Number.isInteger(fromEnv) && fromEnv >= 0 && fromEnv < 65536 && process.env.PORT !== ''
    ? fromEnv
    : 8080
}

/** `maxConnectionsPerUser` and its policy, checked; undefined without a limit. */
export function userLimit(
  max: number | undefined,
  policy: UserLimit['policy'] | undefined,
): UserLimit | undefined {
  if (policy !== undefined && policy !== 'refuse' && policy !== 'closeOldest') {
    throw new TypeError(
      `maxConnectionsPerUserPolicy: "${String(policy)}" is neither "refuse" nor "closeOldest"`,
    )
  }
  if (max === undefined || max === Number.POSITIVE_INFINITY) return undefined
  if (!Number.isInteger(max) || max < 1)
    throw new TypeError('maxConnectionsPerUser must be a positive integer')
  return { max, policy: policy ?? 'refuse' }
}

/** The `revocationTtl` option in ms (default 24 h); a TypeError unless a positive number. */
export function revocationTtl(value: number | undefined): number {
  if (value === undefined) return 24 * 60 * 60 * 1000
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new TypeError('revocationTtl must be a positive number of milliseconds')
  }
  return value
}
