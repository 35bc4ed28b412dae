/**
 * `jwtAuth(options)`: JWT authentication for `createSwitchboard({ ...jwtAuth({ secret }) })`.
 * Tokens are verified with jose's `jwtVerify` against a shared secret (HS256/384/512), a public
 * key (RS/PS/ES/EdDSA) or a remote JWKS, always with an explicit algorithm list, so `alg: none`,
 * unsigned tokens and HS/RS key confusion are refused before any claim is read. A token comes
 * from the `Authorization: Bearer` header, the `?token=` query, or the connection's first `auth`
 * frame; its claims become `conn.data`, its `sub` the connection's pinned subject, its `exp` the
 * moment the server asks for a refresh before and closes with 4001 at (see auth-session.ts); its
 * `jti` and `iat` are what a revocation (`sb.revoke`) is matched against.
 */
import { createPublicKey, KeyObject } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { ErrorCode } from '@switchboard/protocol'
import {
  type CryptoKey,
  createRemoteJWKSet,
  errors,
  type JWSAlgorithm,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose'
import { SwitchboardError } from '../errors.js'
import type { Credentials, TokenAuth } from './auth-session.js'

const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const
const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const
export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number]
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number]

/** Where a token may come from. `frame`: the socket opens without one, and the first `auth` frame brings it. */
export type TokenSource = 'header' | 'query' | 'frame'

/** The default `conn.data`: the verified payload, with `sub` as `userId`. */
export type JwtData = JWTPayload & { sub: string; userId: string }

/** Exactly one way to get the verification key, each with its algorithms. */
export type JwtKeyOptions =
  | {
      /** Shared secret for HS256/384/512 (at least 32 bytes for HS256 is wise). */
      secret: string | Uint8Array
      /** Default `['HS256']`. */
      algorithms?: readonly HmacAlgorithm[]
    }
  | {
      /** Public key: SPKI PEM text, a KeyObject or a CryptoKey. */
      publicKey: string | KeyObject | CryptoKey
      algorithms: readonly AsymmetricAlgorithm[]
    }
  | {
      /** URL of a JSON Web Key Set, fetched once and cached; keys are picked by `kid` and `alg`. */
      jwks: string | URL
      algorithms: readonly AsymmetricAlgorithm[]
      /** Milliseconds the fetched key set is used before it is fetched again. Default 600 000. */
      jwksCacheMaxAge?: number
      /** Milliseconds after a fetch during which an unknown `kid` does not cause another. Default 30 000. */
      jwksCooldown?: number
      /** Milliseconds a JWKS fetch may take. Default 5 000. */
      jwksTimeout?: number
    }

export type JwtAuthOptions<D> = JwtKeyOptions & {
  /** Required `iss` value(s). */
  issuer?: string | string[]
  /** Required `aud` value(s). */
  audience?: string | string[]
  /** Seconds of clock skew tolerated on `exp` and `nbf`. Default 0. */
  clockTolerance?: number
  /** Refuse tokens without `exp` (they would never expire while connected). Default true. */
  requireExp?: boolean
  /** The claims → `conn.data`. Default: the payload plus `userId: sub`. */
  claims?: (payload: JWTPayload & { sub: string }) => D
  /**
   * The claims → the connection's subject: who it is for a refreshed token (which must name the
   * same one), for `sb.revoke({ user })`, and for the user index when there is no `presence`
   * option. Default `sub`. Set it when the application calls its users by another claim (say,
   * `preferred_username`), so that revoking a user by the name it shows everywhere works. A
   * token whose subject comes out empty is refused.
   */
  subject?: (payload: JWTPayload & { sub: string }) => string
  /** Where tokens may be taken from (a header token wins over a query one). Default all three. */
  sources?: readonly TokenSource[]
  /** The query parameter of the `query` source. Default `token`. */
  queryParam?: string
  /** Milliseconds before `exp` the server sends `refresh` (at most half the token's life). Default 30 000. */
  refreshBefore?: number
  /** Milliseconds a connection without a token has to send its first `auth` frame. Default 10 000. */
  authTimeout?: number
}

const HMAC: ReadonlySet<string> = new Set(HMAC_ALGORITHMS)
const ASYMMETRIC: ReadonlySet<string> = new Set(ASYMMETRIC_ALGORITHMS)

type VerifyKey = Uint8Array | KeyObject | CryptoKey | JWTVerifyGetKey

function keyOf(options: JwtKeyOptions): { key: VerifyKey; algorithms: JWSAlgorithm[] } {
  if ('secret' in options) {
    const algorithms = [...(options.algorithms ?? ['HS256'])]
    if (algorithms.length === 0 || algorithms.some((a) => !HMAC.has(a))) {
      throw new TypeError('jwtAuth: a secret verifies HS256, HS384 or HS512 only')
    }
    const secret =
      typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret
    if (secret.length === 0) throw new TypeError('jwtAuth: the secret is empty')
    return { key: secret, algorithms }
  }
  const algorithms: string[] = [...options.algorithms]
  // An HMAC algorithm beside a public key is the HS/RS confusion attack waiting to happen.
  if (algorithms.length === 0 || algorithms.some((a) => HMAC.has(a) || !ASYMMETRIC.has(a))) {
    throw new TypeError('jwtAuth: a public key or JWKS needs asymmetric algorithms (RS*, PS*, ES*, EdDSA)')
  }
  if ('publicKey' in options) {
    // A private key's PEM parses as its public half: refuse it, so it never sits on a server.
    if (
      typeof options.publicKey === 'string' &&
      /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(options.publicKey)
    ) {
      throw new TypeError('jwtAuth: publicKey is a private key; give its public key (SPKI PEM)')
    }
    const key = typeof options.publicKey === 'string' ? createPublicKey(options.publicKey) : options.publicKey
    if (key.type !== 'public')
      throw new TypeError(`jwtAuth: publicKey is a ${key.type} key, not a public one`)
    if (key instanceof KeyObject) {
      const misfit = algorithms.find((a) => !keyFits(key, a))
      if (misfit !== undefined) {
        throw new TypeError(`jwtAuth: the public key is ${describeKey(key)}, which cannot verify ${misfit}`)
      }
    }
    return { key, algorithms }
  }
  const jwks = createRemoteJWKSet(new URL(options.jwks), {
    cacheMaxAge: options.jwksCacheMaxAge ?? 600_000,
    cooldownDuration: options.jwksCooldown ?? 30_000,
    timeoutDuration: options.jwksTimeout ?? 5_000,
  })
  return { key: jwks, algorithms }
}

/** The curve of each ES algorithm, as Node names it. */
const ES_CURVES: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' }

/** Whether a public key can verify tokens signed with `algorithm` (its type, and its curve for ES). */
function keyFits(key: KeyObject, algorithm: string): boolean {
  const type = key.asymmetricKeyType
  if (algorithm.startsWith('RS')) return type === 'rsa'
  if (algorithm.startsWith('PS')) return type === 'rsa' || type === 'rsa-pss'
  if (algorithm.startsWith('ES'))
    return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === ES_CURVES[algorithm]
  return type === 'ed25519' || type === 'ed448' // EdDSA, Ed25519
}

function describeKey(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve
  return `an ${key.asymmetricKeyType?.toUpperCase() ?? 'unknown'} key${curve ? ` (${curve})` : ''}`
}

/** Why jose refused a token, in words that never repeat any part of it. */
function refusal(err: unknown): Error {
  if (err instanceof errors.JWTExpired) return unauthorized('token expired')
  if (err instanceof errors.JWTClaimValidationFailed) {
    return unauthorized(`token claim "${err.claim}" ${err.reason === 'missing' ? 'missing' : 'rejected'}`)
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return unauthorized('token signature invalid')
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return unauthorized('token algorithm not allowed')
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return unauthorized('token signed by an unknown key')
  }
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid)
    return unauthorized('token malformed')
  // The key set could not be fetched or read: not the token's fault. Logged by the server.
  const what = err instanceof Error ? `${err.name}: ${err.message}` : 'unknown error'
  return new Error(`could not get the verification keys (${what})`)
}

function unauthorized(message: string): SwitchboardError {
  return new SwitchboardError(ErrorCode.UNAUTHORIZED, message)
}

function bearer(req: IncomingMessage): string | undefined {
  const value = req.headers.authorization
  if (value === undefined) return undefined
  const match = /^Bearer[ \t]+(\S*)[ \t]*$/i.exec(value)
  return match ? match[1] : undefined
}

function queryToken(req: IncomingMessage, name: string): string | undefined {
  const q = req.url?.indexOf('?') ?? -1
  if (q === -1) return undefined
  return new URLSearchParams(req.url!.slice(q + 1)).get(name) ?? undefined
}

function defaultClaims(payload: JWTPayload & { sub: string }): JwtData {
  return { ...payload, userId: payload.sub }
}

/**
 * JWT authentication: spread into `createSwitchboard({ ...jwtAuth({ secret }) })`. See
 * docs/security.md for where tokens go, refresh, and what a client without a token may do.
 */
export function jwtAuth<D = JwtData>(options: JwtAuthOptions<D>): { tokenAuth: TokenAuth<D> } {
  const { key, algorithms } = keyOf(options)
  const sources = new Set(options.sources ?? ['header', 'query', 'frame'])
  const queryParam = options.queryParam ?? 'token'
  const tolerance = options.clockTolerance ?? 0
  const mapClaims = options.claims ?? (defaultClaims as unknown as (p: JWTPayload & { sub: string }) => D)
  const required = options.requireExp === false ? ['sub'] : ['sub', 'exp']

  async function verify(token: string): Promise<Credentials<D>> {
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(token, key, {
        algorithms,
        issuer: options.issuer,
        audience: options.audience,
        clockTolerance: tolerance,
        requiredClaims: required,
      }))
    } catch (err) {
      throw refusal(err)
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') throw unauthorized('token claim "sub" missing')
    const withSub = payload as JWTPayload & { sub: string }
    const subject = options.subject ? options.subject(withSub) : withSub.sub
    if (typeof subject !== 'string' || subject === '') throw unauthorized('token names no subject')
    const credentials: Credentials<D> = { data: mapClaims(withSub), subject }
    if (typeof payload.exp === 'number') credentials.expiresAt = (payload.exp + tolerance) * 1000
    // What `sb.revoke` matches: the token's id, and when it was issued (seconds → ms).
    if (typeof payload.jti === 'string' && payload.jti !== '') credentials.tokenId = payload.jti
    if (typeof payload.iat === 'number') credentials.issuedAt = payload.iat * 1000
    return credentials
  }

  return {
    tokenAuth: {
      fromRequest(req) {
        const token =
          (sources.has('header') ? bearer(req) : undefined) ??
          (sources.has('query') ? queryToken(req, queryParam) : undefined)
        if (token !== undefined) return verify(token)
        if (sources.has('frame')) return undefined
        throw unauthorized('no token')
      },
      verify,
      refreshBefore: options.refreshBefore ?? 30_000,
      authTimeout: options.authTimeout ?? 10_000,
    },
  }
}
