/**
 * `switchboard revoke --jti ID | --user USER [--issued-before TIME]`: revokes a token, or a
 * user's tokens issued before a time, through a server's HTTP API (`POST /api/revoke`,
 * docs/http-api.md), on every node, and prints when the revocation will be forgotten. The key
 * comes from `SWITCHBOARD_API_KEY` or `--key`, as for `publish`, and is never printed.
 */
import { apiBase, callApi } from './api-call.js'
import { parseArgs, UsageError } from './args.js'

export const REVOKE_USAGE = `Usage: switchboard revoke (--jti ID | --user USER [--issued-before TIME]) [--api URL] [--key K]

  --jti            revoke the one token whose jti claim this is
  --user           revoke the user's tokens (their subject: a JWT's sub) issued before --issued-before
  --issued-before  seconds since the epoch (as a JWT's iat) or an ISO 8601 time
                   (2026-01-02T10:00:00Z); default now: every token the user holds
  --api            the server, as for publish (default: $SWITCHBOARD_API, else http://localhost:8080)
  --key            an API key of the server, not a publish-only one (default: $SWITCHBOARD_API_KEY)
Prints {"expiresAt":…}: when the revocation is forgotten, in seconds since the epoch. Exit code 1
when the server refuses (its error is printed), 2 for a usage error.`

export interface RevokeConfig {
  /** The API's base URL, ending in `/api`. */
  api: string
  key: string
  /** The request: `{ jti }` or `{ user, issuedBefore? }` (seconds since the epoch). */
  body: { jti: string } | { user: string; issuedBefore?: number }
}

/** `--issued-before`: seconds since the epoch, or an ISO 8601 time (→ seconds). */
function issuedBefore(text: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text)
  const ms = /^\d{4}-\d\d-\d\d/.test(text) ? Date.parse(text) : Number.NaN
  if (Number.isNaN(ms)) {
    throw new UsageError(`--issued-before must be seconds since the epoch or an ISO 8601 time, got "${text}"`)
  }
  return ms / 1000
}

export function revokeConfig(argv: readonly string[], env: Record<string, string | undefined>): RevokeConfig {
  const { command, positionals, options } = parseArgs(argv, ['jti', 'user', 'issued-before', 'api', 'key'])
  if (command !== undefined || positionals.length > 0) {
    throw new UsageError(`revoke takes options only, got "${command ?? positionals[0]}"`)
  }
  const text = (name: string): string | undefined => {
    const v = options[name]
    return typeof v === 'string' ? v : undefined
  }
  const jti = text('jti')
  const user = text('user')
  const before = text('issued-before')
  if ((jti === undefined) === (user === undefined)) throw new UsageError('give either --jti or --user')
  if (jti !== undefined && before !== undefined) throw new UsageError('--issued-before goes with --user')
  const key = text('key') ?? env.SWITCHBOARD_API_KEY
  if (!key) throw new UsageError('--key (or SWITCHBOARD_API_KEY) is required')
  const body: RevokeConfig['body'] =
    jti !== undefined
      ? { jti }
      : { user: user!, ...(before === undefined ? {} : { issuedBefore: issuedBefore(before) }) }
  return { api: apiBase(text('api') ?? env.SWITCHBOARD_API ?? 'http://localhost:8080'), key, body }
}

/** Revokes; resolves with the server's answer, rejects with an ApiCallError when it refuses. */
export async function revoke(config: RevokeConfig): Promise<{ expiresAt: number }> {
  return (await callApi(config.api, config.key, 'revoke', config.body)) as { expiresAt: number }
}
