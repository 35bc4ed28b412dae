/**
 * The seam between the configuration and the server: `switchboardOptions(config, parts)` turns
 * the effective configuration into the options of `createSwitchboard`, one section of the file
 * per function below. The parts that need I/O first — the broker (Redis must be reached), the
 * HTTPS server, the HTTP handler for static files and metrics — are built by `serve` and passed
 * in.
 */
import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type {
  Broker,
  ChannelOptions,
  ChannelOptionsMap,
  Logger,
  ProxyHook,
  ProxyHooks,
  ProxyOptions,
  SwitchboardOptions,
  UntypedEventMap,
} from '@switchboard/server'
import {
  type AsymmetricAlgorithm,
  type HmacAlgorithm,
  type JwtKeyOptions,
  jwtAuth,
} from '@switchboard/server/jwt'
import {
  type ApiConfig,
  ASYMMETRIC_ALGORITHMS,
  HMAC_ALGORITHMS,
  type HookConfig,
  type JsonSchema,
  type JwtConfig,
  type ProxyConfig,
  type WebhooksConfig,
} from './config.js'
import { jsonSchemaValidator } from './json-schema-validator.js'
import { ConfigError, type EffectiveConfig } from './load-config.js'

/** Who a connection of `switchboard serve` is: a display name (verified with JWT, else claimed). */
export interface ServeUser {
  /** The display name: a chat message's `user`. */
  name: string
  /** True when a token vouches for the name; the dev login's `?name=` is only claimed. */
  verified: boolean
  /**
   * The presence user, when it is not the name: the dev login's name with the browser's id
   * (`Ada#k3f9`), so one name claimed in two browsers is two users.
   */
  id?: string
}

export type ServeOptions = SwitchboardOptions<UntypedEventMap, ServeUser>

/** What `serve` builds before the options: each is optional. */
export interface ServeParts {
  logger: Logger
  broker?: Broker
  /** An HTTPS server that `serve` listens on (with `tls`); createSwitchboard attaches to it. */
  server?: HttpsServer
  onRequest?: (req: IncomingMessage, res: ServerResponse) => void
  /** The identity of a connection when there is no `jwt` section (the dev `?name=`). */
  authenticate: (req: IncomingMessage) => ServeUser
  /**
   * With the chat app's own channels (no `channels` key): with verified identities, a chat message
   * or typing notice may only speak for its own user (`data.user` is the token's name).
   */
  chatRules: boolean
}

export function switchboardOptions(config: EffectiveConfig, parts: ServeParts): ServeOptions {
  return {
    ...listenOptions(config, parts),
    ...limitOptions(config),
    channels: channelOptions(config),
    ...identityOptions(config, parts),
    ...apiOptions(config.api),
    ...proxyOptions(config.proxy),
    ...webhookOptions(config.webhooks),
    // The user is the name the dev login or the JWT gave; with the connect hook, the server's own
    // rule applies: the user the application's backend answered.
    ...(config.proxy?.connect
      ? {}
      : {
          presence: (conn) => ({
            userId: conn.data.id ?? conn.data.name,
            info: { name: conn.data.name, verified: conn.data.verified },
          }),
        }),
    logger: parts.logger,
  }
}

function listenOptions(config: EffectiveConfig, parts: ServeParts): ServeOptions {
  const options: ServeOptions = {
    path: config.path,
    transports: {
      sse: config.transports.sse !== false,
      longPolling: config.transports.longPolling !== false,
    },
    headersTimeout: config.headersTimeout,
    requestTimeout: config.requestTimeout,
  }
  // On an HTTPS server of serve's own, serve listens (and answers plain requests) itself.
  if (parts.server) options.server = parts.server
  else Object.assign(options, { port: config.port, host: config.host, onRequest: parts.onRequest })
  if (parts.broker) options.broker = parts.broker
  return options
}

function limitOptions(config: EffectiveConfig): ServeOptions {
  const options: ServeOptions = {
    heartbeat: config.heartbeat,
    maxPayload: config.maxPayload,
    maxBufferedBytes: config.maxBufferedBytes,
    maxSubscriptions: config.maxSubscriptions,
    maxPendingRequests: config.maxPendingRequests,
    maxProtocolErrors: config.maxProtocolErrors,
    rateLimit: config.rateLimit,
    closeTimeout: config.closeTimeout,
  }
  if (config.maxConnectionsPerIp !== undefined) options.maxConnectionsPerIp = config.maxConnectionsPerIp
  if (config.maxConnectionsPerUser !== undefined) options.maxConnectionsPerUser = config.maxConnectionsPerUser
  if (config.maxConnectionsPerUserPolicy !== undefined) {
    options.maxConnectionsPerUserPolicy = config.maxConnectionsPerUserPolicy
  }
  if (config.allowedOrigins !== undefined) options.allowedOrigins = config.allowedOrigins
  return options
}

/**
 * The channel options of the file: the same keys as createSwitchboard's, with `schema` a JSON
 * Schema compiled into a validator. Throws a ConfigError naming the pattern of a schema that does
 * not compile.
 */
export function channelOptions(config: EffectiveConfig): ChannelOptionsMap {
  const map: ChannelOptionsMap = {}
  for (const [pattern, c] of Object.entries(config.channels ?? {})) {
    map[pattern] = {
      ...(c.history === undefined ? {} : { history: c.history }),
      presence: c.presence ?? false,
      clientPublish: c.clientPublish ?? false,
      ...(c.maxDataBytes === undefined ? {} : { maxDataBytes: c.maxDataBytes }),
      ...(c.schema === undefined ? {} : { schema: compiled(pattern, c.schema) }),
    }
  }
  return map
}

function compiled(pattern: string, schema: JsonSchema): NonNullable<ChannelOptions['schema']> {
  try {
    return jsonSchemaValidator(schema)
  } catch (err) {
    const path = `/channels/${pattern.replace(/~/g, '~0').replace(/\//g, '~1')}/schema`
    throw new ConfigError('channels', [
      { path, message: `not a valid JSON Schema: ${err instanceof Error ? err.message : String(err)}` },
    ])
  }
}

/** The `user` field of a chat message or typing notice. */
function userOf(data: unknown): unknown {
  return typeof data === 'object' && data !== null && !Array.isArray(data)
    ? (data as { user?: unknown }).user
    : undefined
}

function identityOptions(config: EffectiveConfig, parts: ServeParts): ServeOptions {
  // The application's connect hook decides who connects: it replaces the JWT and the dev names.
  if (config.proxy?.connect) {
    if (config.jwt) {
      throw new ConfigError('jwt', [
        { path: '/jwt', message: 'the proxy connect hook decides who connects: set jwt or proxy.connect' },
      ])
    }
    return {}
  }
  if (!config.jwt) return { authenticate: parts.authenticate }
  const options: ServeOptions = { ...jwtOptions(config.jwt) }
  if (parts.chatRules)
    options.authorize = { publish: (conn, _channel, data) => userOf(data) === conn.data.name }
  return options
}

const isHmac = (a: string): a is HmacAlgorithm => (HMAC_ALGORITHMS as readonly string[]).includes(a)
const isAsymmetric = (a: string): a is AsymmetricAlgorithm =>
  (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(a)

/** The key options of jwtAuth; the loader has checked that exactly one key is set, with fitting algorithms. */
function jwtKey(jwt: JwtConfig): JwtKeyOptions {
  if (jwt.secret !== undefined) {
    const algorithms = jwt.algorithms?.filter(isHmac)
    return algorithms ? { secret: jwt.secret, algorithms } : { secret: jwt.secret }
  }
  const algorithms = (jwt.algorithms ?? []).filter(isAsymmetric)
  if (jwt.jwksUrl !== undefined) {
    const key: JwtKeyOptions = { jwks: jwt.jwksUrl, algorithms }
    if (jwt.jwksCacheMaxAge !== undefined) key.jwksCacheMaxAge = jwt.jwksCacheMaxAge
    if (jwt.jwksCooldown !== undefined) key.jwksCooldown = jwt.jwksCooldown
    if (jwt.jwksTimeout !== undefined) key.jwksTimeout = jwt.jwksTimeout
    return key
  }
  if (jwt.publicKeyFile !== undefined) {
    try {
      return { publicKey: readFileSync(jwt.publicKeyFile, 'utf8'), algorithms }
    } catch (err) {
      const reason = err instanceof Error && 'code' in err ? String(err.code) : String(err)
      throw new ConfigError('jwt', [
        { path: '/jwt/publicKeyFile', message: `cannot read the file (${reason})` },
      ])
    }
  }
  return { publicKey: jwt.publicKey ?? '', algorithms }
}

/** The user a token names: its `claim` (a non-empty string), else its `sub`. */
function nameOf(claims: Record<string, unknown> & { sub: string }, claim: string): string {
  const name = claims[claim]
  return typeof name === 'string' && name !== '' ? name : claims.sub
}

function jwtOptions(jwt: JwtConfig): ServeOptions {
  const claim = jwt.userClaim ?? 'name'
  const key = jwtKey(jwt)
  try {
    return jwtAuth<ServeUser>({
      ...key,
      issuer: jwt.issuer,
      audience: jwt.audience,
      clockTolerance: jwt.clockTolerance,
      requireExp: jwt.requireExp,
      sources: jwt.sources,
      queryParam: jwt.queryParam,
      refreshBefore: jwt.refreshBefore,
      authTimeout: jwt.authTimeout,
      // The user's display name: the configured claim, else the subject. It is the user
      // everywhere — presence, the user index, and `revoke({ user })` — so it is the subject too.
      claims: (claims) => ({ name: nameOf(claims, claim), verified: true }),
      subject: (claims) => nameOf(claims, claim),
    })
  } catch (err) {
    // A public key that does not parse, or is a private one.
    const path = jwt.publicKeyFile !== undefined ? '/jwt/publicKeyFile' : '/jwt'
    throw new ConfigError('jwt', [{ path, message: err instanceof Error ? err.message : String(err) }])
  }
}

/** The server HTTP API (`api`): its keys, and its own port when one is given. */
function apiOptions(api: ApiConfig | undefined): ServeOptions {
  if (api === undefined) return {}
  const keys = api.keys.map(({ key, publishOnly, readOnly }) => ({
    key,
    ...(publishOnly ? { publishOnly } : {}),
    ...(readOnly ? { readOnly } : {}),
  }))
  const { port, host, maxBodyBytes, commandTimeout } = api
  return {
    httpApi: {
      keys,
      ...(port === undefined ? {} : { port }),
      ...(host === undefined ? {} : { host }),
      ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }),
      ...(commandTimeout === undefined ? {} : { commandTimeout }),
    },
  }
}

/** The lifecycle webhooks (`webhooks`): the receivers as they are, the longest retry wait, the grace window. */
function webhookOptions(webhooks: WebhooksConfig | undefined): ServeOptions {
  if (webhooks === undefined) return {}
  const { receivers, maxRetryWait, grace } = webhooks
  return {
    webhooks: {
      receivers,
      ...(maxRetryWait === undefined ? {} : { maxRetryMs: maxRetryWait }),
      ...(grace === undefined ? {} : { graceMs: grace }),
    },
  }
}

/**
 * The proxy hooks (`proxy`): each hook of the file as the server's `proxy` option. A hook that
 * lists `channels` (subscribe, publish) or `events` (rpc) decides for those patterns only.
 */
function proxyOptions(proxy: ProxyConfig | undefined): ServeOptions {
  if (proxy === undefined) return {}
  if (proxy.refresh && !proxy.connect) {
    throw new ConfigError('proxy', [
      {
        path: '/proxy/refresh',
        message: 'needs proxy.connect: refresh decides connections that hook let in',
      },
    ])
  }
  const options: ProxyOptions = {}
  if (proxy.connect) options.connect = hookOf(proxy.connect)
  if (proxy.refresh) options.refresh = hookOf(proxy.refresh)
  if (proxy.subscribe) options.subscribe = hooksOf(proxy.subscribe, proxy.subscribe.channels)
  if (proxy.publish) options.publish = hooksOf(proxy.publish, proxy.publish.channels)
  if (proxy.rpc) options.rpc = hooksOf(proxy.rpc, proxy.rpc.events)
  return { proxy: options }
}

function hookOf(hook: HookConfig): ProxyHook {
  const out: ProxyHook = { url: hook.url }
  if (hook.timeout !== undefined) out.timeout = hook.timeout
  if (hook.concurrency !== undefined) out.maxConcurrency = hook.concurrency
  if (hook.maxQueue !== undefined) out.maxQueue = hook.maxQueue
  if (hook.maxResponseBytes !== undefined) out.maxResponseBytes = hook.maxResponseBytes
  if (hook.headers !== undefined) out.headers = hook.headers
  if (hook.forwardHeaders !== undefined) out.forwardHeaders = hook.forwardHeaders
  if (hook.forwardCookies !== undefined) out.forwardCookies = hook.forwardCookies
  return out
}

/** One hook for everything, or the same hook for each listed pattern. */
function hooksOf(hook: HookConfig, patterns: readonly string[] | undefined): ProxyHooks {
  const one = hookOf(hook)
  return patterns === undefined ? one : Object.fromEntries(patterns.map((pattern) => [pattern, one]))
}
