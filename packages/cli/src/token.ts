/**
 * `switchboard token`: signs an HS256 JWT for development — the kind a server configured with
 * `jwtAuth({ secret })` accepts — and prints it. A convenience for trying auth locally, not a
 * token service: in production, tokens come from the application's own login.
 */
import { parseDuration } from '@switchboard/server'
import { SignJWT } from 'jose'
import { parseArgs, UsageError } from './args.js'

export const TOKEN_USAGE = `Usage: switchboard token --secret S --sub alice [--ttl 1h] [--claim k=v]... [--iss I] [--aud A]

  --secret  the HS256 secret the server verifies with (default: $JWT_SECRET)
  --sub     the subject: the user id the server sees (conn.data.userId)
  --ttl     lifetime: 30s, 15m, 1h, 7d… (default 1h)
  --claim   an extra claim, repeatable; the value is JSON when it parses (42, true, ["a"]), else text
  --iss     the "iss" claim; --aud the "aud" claim (when the server requires them)`

export interface TokenConfig {
  secret: string
  sub: string
  /** Lifetime in seconds. */
  ttl: number
  claims: Record<string, unknown>
  iss: string | undefined
  aud: string | undefined
}

/** Claims set by their own flags, which --claim may not override. */
const RESERVED = new Set(['sub', 'exp', 'iat', 'nbf', 'iss', 'aud'])
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype'])

function claimOf(spec: string): [string, unknown] {
  const eq = spec.indexOf('=')
  if (eq <= 0) throw new UsageError(`--claim needs key=value, got "${spec}"`)
  const key = spec.slice(0, eq)
  if (RESERVED.has(key)) {
    const instead = ['sub', 'iss', 'aud'].includes(key) ? `--${key}` : '--ttl'
    throw new UsageError(`--claim ${key}: set it with ${instead}`)
  }
  if (FORBIDDEN.has(key)) throw new UsageError(`--claim ${key}: not a claim name`)
  const raw = spec.slice(eq + 1)
  try {
    return [key, JSON.parse(raw)]
  } catch {
    return [key, raw]
  }
}

/** Reads the flags (and JWT_SECRET); throws UsageError on anything missing or malformed. */
export function tokenConfig(argv: readonly string[], env: Record<string, string | undefined>): TokenConfig {
  // --claim repeats, which the shared parser does not do: take those out first.
  const claims: Record<string, unknown> = {}
  const rest: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--claim') {
      const spec = argv[++i]
      if (spec === undefined) throw new UsageError('--claim needs a value')
      const [k, v] = claimOf(spec)
      claims[k] = v
    } else if (arg.startsWith('--claim=')) {
      const [k, v] = claimOf(arg.slice('--claim='.length))
      claims[k] = v
    } else {
      rest.push(arg)
    }
  }
  const { options, positionals, command } = parseArgs(rest, ['secret', 'sub', 'ttl', 'iss', 'aud'])
  if (command !== undefined || positionals.length > 0) {
    throw new UsageError(`unexpected argument "${command ?? positionals[0]}"`)
  }
  const text = (name: string): string | undefined => {
    const v = options[name]
    return typeof v === 'string' ? v : undefined
  }
  const secret = text('secret') ?? env.JWT_SECRET
  if (!secret) throw new UsageError('--secret (or JWT_SECRET) is required')
  const sub = text('sub')
  if (!sub) throw new UsageError('--sub is required')
  let ttlMs: number
  try {
    ttlMs = parseDuration(text('ttl') ?? '1h')
  } catch (err) {
    throw new UsageError(`--ttl: ${(err as Error).message}`)
  }
  if (ttlMs < 1000) throw new UsageError('--ttl must be at least 1s')
  return { secret, sub, ttl: Math.round(ttlMs / 1000), claims, iss: text('iss'), aud: text('aud') }
}

/** Signs the token: HS256, `iat` now, `exp` after `ttl`. */
export function signToken(config: TokenConfig, now: number = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000)
  const jwt = new SignJWT({ ...config.claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(config.sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + config.ttl)
  if (config.iss !== undefined) jwt.setIssuer(config.iss)
  if (config.aud !== undefined) jwt.setAudience(config.aud)
  return jwt.sign(new TextEncoder().encode(config.secret))
}
