/**
 * The shape of `switchboard serve`'s configuration: what the file holds after validation against
 * schema/switchboard.schema.json, with the environment and the flags laid over it. The schema is
 * the authority on what is accepted; these types say the same for the code (the loader's test
 * validates a file that sets every key and reads it back through these types).
 */

/** Milliseconds, or a string such as `'30s'`, `'10m'`, `'2h'`. */
export type Duration = number | string

/** A channel's presence in the file: as `ChannelOptions.presence` of @switchboard/server. */
export type PresenceConfig =
  | boolean
  | 'members'
  | 'counts'
  | { mode?: 'members' | 'counts'; window?: Duration; grace?: Duration; clientUpdate?: boolean }

export interface ChannelConfig {
  /** A size, or `{ size, ttl }`. */
  history?: number | { size: number; ttl?: Duration }
  presence?: PresenceConfig
  clientPublish?: boolean
  /** The largest publication, in bytes (its JSON text; bytes values count their length). */
  maxDataBytes?: number
  /** A JSON Schema (draft-07) every publication's data must pass. */
  schema?: JsonSchema
}

/** A JSON Schema document, as the file holds it (checked when the server starts). */
export type JsonSchema = boolean | { [keyword: string]: unknown }

export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const
export const ASYMMETRIC_ALGORITHMS = [
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
export type JwtAlgorithm = (typeof HMAC_ALGORITHMS)[number] | (typeof ASYMMETRIC_ALGORITHMS)[number]

export interface JwtConfig {
  secret?: string
  publicKey?: string
  publicKeyFile?: string
  jwksUrl?: string
  algorithms?: JwtAlgorithm[]
  issuer?: string | string[]
  audience?: string | string[]
  clockTolerance?: number
  requireExp?: boolean
  sources?: Array<'header' | 'query' | 'frame'>
  queryParam?: string
  refreshBefore?: number
  authTimeout?: number
  jwksCacheMaxAge?: number
  jwksCooldown?: number
  jwksTimeout?: number
  userClaim?: string
}

export interface TlsConfig {
  cert: string
  key: string
  reloadInterval?: number
}

/** Exactly one of `url` (one Redis), `cluster` (a Redis Cluster's nodes) and `shards` (independent Redis URLs). */
export interface RedisConfig {
  url?: string
  cluster?: string[]
  shards?: string[]
  prefix?: string
  commandTimeout?: number
}

/** The server HTTP API for backends: its own port, or /api/ on the main one. */
export interface ApiConfig {
  port?: number
  host?: string
  keys: Array<{ key: string; publishOnly?: boolean; readOnly?: boolean }>
  maxBodyBytes?: number
  commandTimeout?: number
}

/** One HTTP endpoint of the application that decides for the server. */
export interface HookConfig {
  url: string
  timeout?: number
  concurrency?: number
  maxQueue?: number
  maxResponseBytes?: number
  /** Sent with every call; may carry a secret (redacted by --print-config). */
  headers?: Record<string, string>
  forwardHeaders?: string[]
  forwardCookies?: string[]
}

/** A subscribe or publish hook: for every channel, or for these patterns. */
export interface ChannelHookConfig extends HookConfig {
  channels?: string[]
}

/** An rpc hook: for every request event without a handler, or for these patterns. */
export interface RpcHookConfig extends HookConfig {
  events?: string[]
}

export interface ProxyConfig {
  connect?: HookConfig
  refresh?: HookConfig
  subscribe?: ChannelHookConfig
  publish?: ChannelHookConfig
  rpc?: RpcHookConfig
}

export interface WebhookReceiverConfig {
  url: string
  secret: string
  events?: Array<
    | 'user.online'
    | 'user.offline'
    | 'channel.occupied'
    | 'channel.vacated'
    | 'connection.open'
    | 'connection.close'
  >
  timeout?: number
  headers?: Record<string, string>
  id?: string
}

export interface WebhooksConfig {
  receivers: WebhookReceiverConfig[]
  maxRetryWait?: number
  grace?: number
}

/** A configuration file, or any layer laid over one: every key optional. */
export interface SwitchboardConfig {
  $schema?: string
  port?: number
  host?: string
  path?: string
  static?: string
  drainTimeout?: number
  tls?: TlsConfig
  transports?: { sse?: boolean; longPolling?: boolean }
  channels?: Record<string, ChannelConfig>
  allowedOrigins?: string[]
  maxConnectionsPerIp?: number
  maxConnectionsPerUser?: number
  maxConnectionsPerUserPolicy?: 'refuse' | 'closeOldest'
  rateLimit?: { capacity?: number; refillPerSecond?: number }
  maxPayload?: number
  maxBufferedBytes?: number
  maxSubscriptions?: number
  maxPendingRequests?: number
  maxProtocolErrors?: number
  heartbeat?: number
  closeTimeout?: number
  headersTimeout?: number
  requestTimeout?: number
  jwt?: JwtConfig
  redis?: RedisConfig
  metrics?: boolean
  /** The operations dashboard at /dashboard on the API's port. */
  dashboard?: boolean
  api?: ApiConfig
  webhooks?: WebhooksConfig
  proxy?: ProxyConfig
}
