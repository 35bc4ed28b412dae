/**
 * The settings that the environment and the flags can set, in one table: the key each one sets in
 * the configuration, its `SWITCHBOARD_*` variable (and the older names still read), its flag, and
 * how its text is read. Everything else is set in the file only. docs/configuration.md lists the
 * same table; its test keeps the two in step.
 */

/** How a variable's or flag's text becomes a value. `keys`: a comma-separated list of API keys. */
export type SettingKind = 'string' | 'integer' | 'number' | 'boolean' | 'list' | 'keys'

export interface Setting {
  /** The key it sets, as a path into the configuration. */
  key: readonly string[]
  env: string
  /** Older variables read when `env` is unset (`PORT`, `REDIS_URL`, `JWT_SECRET`). */
  legacyEnv?: readonly string[]
  /**
   * Its flag, without the dashes. A boolean's flag takes no value and turns it on; `--no-<flag>`
   * or `--<flag>=false` turns it off.
   */
  flag?: string
  kind: SettingKind
}

const s = (key: string, env: string, kind: SettingKind, flag?: string, legacyEnv?: string[]): Setting => ({
  key: key.split('.'),
  env: `SWITCHBOARD_${env}`,
  kind,
  ...(flag === undefined ? {} : { flag }),
  ...(legacyEnv === undefined ? {} : { legacyEnv }),
})

export const SETTINGS: readonly Setting[] = [
  s('port', 'PORT', 'integer', 'port', ['PORT']),
  s('host', 'HOST', 'string', 'host'),
  s('path', 'PATH', 'string', 'path'),
  s('static', 'STATIC', 'string', 'static'),
  s('drainTimeout', 'DRAIN_TIMEOUT', 'integer', 'drain-timeout'),
  s('tls.cert', 'TLS_CERT', 'string', 'tls-cert'),
  s('tls.key', 'TLS_KEY', 'string', 'tls-key'),
  s('tls.reloadInterval', 'TLS_RELOAD_INTERVAL', 'integer', 'tls-reload-interval'),
  s('transports.sse', 'SSE', 'boolean', 'sse'),
  s('transports.longPolling', 'LONG_POLLING', 'boolean', 'long-polling'),
  s('allowedOrigins', 'ALLOWED_ORIGINS', 'list', 'allowed-origins'),
  s('maxConnectionsPerIp', 'MAX_CONNECTIONS_PER_IP', 'integer', 'max-connections-per-ip'),
  s('maxConnectionsPerUser', 'MAX_CONNECTIONS_PER_USER', 'integer', 'max-connections-per-user'),
  s(
    'maxConnectionsPerUserPolicy',
    'MAX_CONNECTIONS_PER_USER_POLICY',
    'string',
    'max-connections-per-user-policy',
  ),
  s('rateLimit.capacity', 'RATE_LIMIT_CAPACITY', 'integer', 'rate-limit-capacity'),
  s('rateLimit.refillPerSecond', 'RATE_LIMIT_REFILL_PER_SECOND', 'number', 'rate-limit-refill-per-second'),
  s('maxPayload', 'MAX_PAYLOAD', 'integer', 'max-payload'),
  s('maxBufferedBytes', 'MAX_BUFFERED_BYTES', 'integer', 'max-buffered-bytes'),
  s('maxSubscriptions', 'MAX_SUBSCRIPTIONS', 'integer', 'max-subscriptions'),
  s('maxPendingRequests', 'MAX_PENDING_REQUESTS', 'integer', 'max-pending-requests'),
  s('maxProtocolErrors', 'MAX_PROTOCOL_ERRORS', 'integer', 'max-protocol-errors'),
  s('heartbeat', 'HEARTBEAT', 'integer', 'heartbeat'),
  s('closeTimeout', 'CLOSE_TIMEOUT', 'integer', 'close-timeout'),
  s('headersTimeout', 'HEADERS_TIMEOUT', 'integer', 'headers-timeout'),
  s('requestTimeout', 'REQUEST_TIMEOUT', 'integer', 'request-timeout'),
  s('jwt.secret', 'JWT_SECRET', 'string', 'jwt-secret', ['JWT_SECRET']),
  s('jwt.publicKey', 'JWT_PUBLIC_KEY', 'string', 'jwt-public-key'),
  s('jwt.publicKeyFile', 'JWT_PUBLIC_KEY_FILE', 'string', 'jwt-public-key-file'),
  s('jwt.jwksUrl', 'JWT_JWKS_URL', 'string', 'jwt-jwks-url'),
  s('jwt.algorithms', 'JWT_ALGORITHMS', 'list', 'jwt-algorithms'),
  s('jwt.issuer', 'JWT_ISSUER', 'string', 'jwt-issuer'),
  s('jwt.audience', 'JWT_AUDIENCE', 'string', 'jwt-audience'),
  s('redis.url', 'REDIS_URL', 'string', 'redis', ['REDIS_URL']),
  s('redis.prefix', 'REDIS_PREFIX', 'string', 'redis-prefix'),
  s('redis.cluster', 'REDIS_CLUSTER', 'list', 'redis-cluster'),
  s('redis.shards', 'REDIS_SHARDS', 'list', 'redis-shards'),
  s('metrics', 'METRICS', 'boolean', 'metrics'),
  s('dashboard', 'DASHBOARD', 'boolean', 'dashboard'),
  s('api.port', 'API_PORT', 'integer', 'api-port'),
  s('api.keys', 'API_KEYS', 'keys'),
]

/** The variable that names the configuration file when `--config` does not. */
export const CONFIG_ENV = 'SWITCHBOARD_CONFIG'
