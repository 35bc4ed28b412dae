/**
 * `switchboard serve`: a Switchboard server configured from a file, the environment and flags
 * (config/load-config.ts) — over http, or https/wss with `--tls-cert`/`--tls-key`; with the
 * in-memory broker, or with `--redis` the Redis broker so several nodes share channels, history
 * and presence — that drains on SIGTERM/SIGINT: new connections refused, every client closed
 * with 1012 so it reconnects elsewhere, then exit. A second signal exits at once.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { fileURLToPath } from 'node:url'
import { RedisBroker, type RedisBrokerOptions } from '@switchboard/redis'
import {
  ChannelRules,
  createSwitchboard,
  type Logger,
  type ServerAddress,
  type Switchboard,
  type UntypedEventMap,
} from '@switchboard/server'
import { createMetrics, type SwitchboardMetrics } from '@switchboard/server/metrics'
import { serveStatic } from '@switchboard/server/static'
import { appConfigHandler } from './app-config.js'
import { parseArgs, UsageError } from './args.js'
import type { ChannelConfig, RedisConfig } from './config/config.js'
import { type EffectiveConfig, inSchemaOrder, loadConfig } from './config/load-config.js'
import { redactConfig, redactUrlPassword } from './config/redact.js'
import { CONFIG_ENV, SETTINGS } from './config/settings.js'
import {
  channelOptions,
  type ServeOptions,
  type ServeUser,
  switchboardOptions,
} from './config/switchboard-options.js'
import { DASHBOARD_PATH, dashboardFiles } from './dashboard-files.js'
import { createTlsServer, firstPair, type TlsServer } from './tls-server.js'

export const SERVE_USAGE = `Usage: switchboard serve [--config FILE] [--print-config] [--port 8080] [--host 0.0.0.0]
                        [--path /ws] [--static DIR] [--drain-timeout 10000] [--tls-cert FILE --tls-key FILE]
                        [--redis redis://127.0.0.1:6379] [--jwt-secret SECRET] [--metrics] […]

  --config         read the configuration from FILE: JSON, or YAML for .yaml/.yml (default:
                   $SWITCHBOARD_CONFIG). Variables override the file, flags override both; a bad
                   file stops the server with exit code 2 and each error's JSON path
  --print-config   print the effective configuration as JSON, secrets redacted, and exit
  --port           port to listen on (default: $SWITCHBOARD_PORT, $PORT, else 8080; 0 picks a free port)
  --host           interface to listen on (default: all)
  --path           WebSocket endpoint (default: /ws)
  --static         serve the files of DIR at / (default: the chat app in apps/chat/dist, once
                   built by \`npm start\` or \`npm run build\`; without it / answers 404)
  --drain-timeout  milliseconds to let clients leave on shutdown before cutting them off
  --tls-cert, --tls-key
                   serve https and wss with this PEM certificate and key; a changed file is
                   loaded for new connections without dropping open ones
  --redis          share channels, history and presence with other nodes through this Redis
                   (default: $SWITCHBOARD_REDIS_URL, $REDIS_URL; without one, the in-memory broker)
  --redis-cluster  the same through a Redis Cluster: some of its nodes, host:port,host:port
  --redis-shards   the same through independent Redis instances, channels spread over them:
                   redis://a:6379,redis://b:6379 (every node lists the same)
  --jwt-secret     require a JWT signed with this HS256 secret (default: $SWITCHBOARD_JWT_SECRET,
                   $JWT_SECRET); its \`name\` claim, else \`sub\`, is the user, and a message's \`user\`
                   must be that name. Open the chat app as /?token=JWT. Without it, \`?name=\` names
                   a user, unverified. --jwt-public-key-file, --jwt-jwks-url, --jwt-algorithms,
                   --jwt-issuer, --jwt-audience verify other tokens
  --metrics        serve Prometheus metrics at /metrics (keep it off the public address)
  --dashboard      serve the operations dashboard at /dashboard on the API's port (needs the api
                   section and its keys; \`switchboard dashboard-link\` prints a link that logs in)

  Limits: --max-connections-per-ip, --allowed-origins (comma-separated), --max-payload,
  --max-subscriptions, --rate-limit-capacity, --heartbeat, … — every key, its variable and its
  flag: docs/configuration.md. The schema of the file: @switchboard/cli/schema.json.

  Channels (unless the file has \`channels\`): chat:* keep 500 messages for an hour, track presence
  and take client publishes; typing:* take client publishes; any other channel only takes the
  server's.`

/**
 * The channels `serve` configures for the chat app unless the configuration names its own: rooms
 * with history, presence and client publishing, and typing indicators that clients publish and
 * nobody needs to replay.
 */
export const SERVE_CHANNELS: Readonly<Record<string, ChannelConfig>> = {
  'chat:*': { history: { size: 500, ttl: '1h' }, presence: true, clientPublish: true },
  'typing:*': { clientPublish: true },
}

/** The built chat app, when this command runs from the repository (where `npm start` runs it). */
const CHAT_APP_DIR = fileURLToPath(new URL('../../../apps/chat/dist', import.meta.url))

/**
 * Who a connection is, in this dev server: the display name from the handshake's `?name=` query,
 * unverified (anyone may claim any name — put real authentication in front of a real deployment).
 * Without one, a guest name. With `?id=` (the chat app sends a random id kept per browser), the
 * user is that name in that browser: two browsers claiming one name are two users.
 */
export function displayNameOf(req: IncomingMessage): ServeUser {
  const query = new URL(req.url ?? '/', 'http://localhost').searchParams
  // Printable characters only, trimmed and bounded, so a name cannot forge lines or layouts.
  const name = (query.get('name') ?? '')
    .replace(/[\p{C}]/gu, '')
    .trim()
    .slice(0, 32)
  const browser = /^[A-Za-z0-9_-]{1,36}$/.exec(query.get('id') ?? '')?.[0]
  const user: ServeUser = { name: name || `guest-${randomBytes(2).toString('hex')}`, verified: false }
  if (browser !== undefined) user.id = `${user.name}#${browser}`
  return user
}

export interface ServeConfig {
  /** The effective configuration: the file, the environment and the flags, checked, defaults filled in. */
  config: EffectiveConfig & { channels: Record<string, ChannelConfig> }
  /** The configuration file read, if any. */
  file: string | undefined
  /** The channels are the chat app's (no layer set `channels`): the chat's publish rule applies. */
  chatChannels: boolean
  /** `--print-config`: print `config`, secrets redacted, instead of serving. */
  printConfig: boolean
}

/** Every flag of `serve`: those of the settings, and the two of the command itself. */
const VALUE_FLAGS = ['config', ...SETTINGS.filter((s) => s.flag && s.kind !== 'boolean').map((s) => s.flag!)]
const BARE_FLAGS = [
  'print-config',
  ...SETTINGS.filter((s) => s.flag && s.kind === 'boolean').map((s) => s.flag!),
]

/**
 * The configuration of `serve` from its flags, the environment and the configuration file they
 * name. Throws a UsageError for a bad flag, a ConfigError (a UsageError too) for a bad value.
 */
export function serveConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ServeConfig {
  const { options, positionals } = parseArgs(argv, VALUE_FLAGS, BARE_FLAGS)
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`)
  const named = options.config
  const file = typeof named === 'string' ? named : env[CONFIG_ENV] || undefined
  const { config: _config, 'print-config': print, ...flags } = options
  const loaded = loadConfig({ ...(file === undefined ? {} : { file }), env, flags })
  const chatChannels = loaded.channels === undefined
  const config = { ...loaded, channels: loaded.channels ?? structuredClone(SERVE_CHANNELS) }
  if (config.static === undefined && existsSync(CHAT_APP_DIR)) config.static = CHAT_APP_DIR
  return { config, file, chatChannels, printConfig: print === true }
}

/**
 * What `--print-config` prints: the effective configuration, secrets redacted, as JSON — after
 * the checks `serve` makes before listening (the TLS pair, the JWT key, the channels' schemas, the
 * hooks that need each other), so a configuration it prints is one `serve` starts with. Throws
 * their ConfigError otherwise.
 */
export function printableConfig(serveConfig: ServeConfig): string {
  const { config } = serveConfig
  if (config.tls) firstPair({ ...config.tls, reloadInterval: 0 })
  const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} }
  switchboardOptions(config, {
    logger: quiet,
    authenticate: displayNameOf,
    chatRules: serveConfig.chatChannels,
  })
  return JSON.stringify(inSchemaOrder(redactConfig(config)), null, 2)
}

function apiNotHere(res: ServerResponse): void {
  const error = {
    code: 'unknown_event',
    message: 'not found: the HTTP API listens on its own port (api.port)',
  }
  res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error }))
}

/** Where the Redis broker goes, for the log: its URL, or the cluster's or shards' (passwords redacted). */
function redisWhere(redis: RedisConfig): string {
  if (redis.cluster) return `the Redis Cluster at ${redis.cluster.map(redactUrlPassword).join(', ')}`
  if (redis.shards) return `the Redis shards ${redis.shards.map(redactUrlPassword).join(', ')}`
  return redactUrlPassword(redis.url ?? '')
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n')
}

/** Connects the Redis broker, or fails with a clear message if Redis does not answer in time. */
async function redisBroker(
  config: ServeConfig['config'],
  redis: RedisConfig,
  log: Logger,
): Promise<RedisBroker> {
  const rules = new ChannelRules(channelOptions(config))
  const options: RedisBrokerOptions = {
    history: (channel) => rules.get(channel).history,
    logger: log,
  }
  if (redis.cluster) options.cluster = { nodes: redis.cluster }
  else if (redis.shards) options.shards = redis.shards
  else options.url = redis.url
  if (redis.prefix !== undefined) options.prefix = redis.prefix
  if (redis.commandTimeout !== undefined) options.commandTimeoutMs = redis.commandTimeout
  const broker = new RedisBroker(options)
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`could not reach Redis at ${redisWhere(redis)} within 10 s`)),
      10_000,
    )
  })
  try {
    await Promise.race([broker.ready, timeout])
  } catch (err) {
    await broker.close()
    throw err
  } finally {
    clearTimeout(timer)
  }
  return broker
}

export interface RunningServer {
  sb: Switchboard<UntypedEventMap, ServeUser>
  address: ServerAddress
  /** Drains and stops (what SIGTERM does). */
  stop(): Promise<void>
}

/** Starts the server; with `handleSignals`, SIGTERM/SIGINT drain it and let the process exit. */
export async function serve(
  serveConfig: ServeConfig,
  log: Logger,
  handleSignals = false,
): Promise<RunningServer> {
  const { config } = serveConfig
  if (config.static === undefined) log.warn('the chat app is not built (npm run build:apps): / answers 404')
  const files = config.static ? serveStatic(config.static) : undefined
  const appFile = appConfigHandler(config)
  const dashboard = config.dashboard ? dashboardFiles() : undefined
  let metrics: SwitchboardMetrics | undefined
  let stopping: Promise<void> | undefined
  // With the API on a port of its own, a call sent to the main port is told so, not answered by
  // the static files (whose answer to a POST, 405, would hide the mistake).
  const apiElsewhere = config.api?.port !== undefined
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (metrics && req.url === '/metrics') metrics.handler(req, res)
    else if (apiElsewhere && req.url?.startsWith('/api/')) apiNotHere(res)
    else if (dashboard && !apiElsewhere && dashboard(req, res)) return
    else if (files && appFile(req, res)) return
    else if (files) files(req, res)
    else notFound(res)
  }
  // With TLS, serve makes the HTTPS server, so it answers what a created server would: /healthz
  // (503 while draining), then the application's requests.
  const tls = config.tls
    ? createTlsServer(
        { cert: config.tls.cert, key: config.tls.key, reloadInterval: config.tls.reloadInterval ?? 5000 },
        config,
        (req, res) => {
          if (req.url?.split('?')[0] === '/healthz') {
            const ok = stopping === undefined
            res
              .writeHead(ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' })
              .end(ok ? 'ok\n' : 'draining\n')
          } else onRequest(req, res)
        },
        log,
      )
    : undefined
  const broker = config.redis === undefined ? undefined : await redisBroker(config, config.redis, log)
  let sb: Switchboard<UntypedEventMap, ServeUser>
  try {
    sb = createSwitchboard<UntypedEventMap, ServeUser>(
      withDashboard(
        switchboardOptions(config, {
          logger: log,
          ...(broker ? { broker } : {}),
          ...(tls ? { server: tls.server } : {}),
          onRequest,
          authenticate: displayNameOf,
          chatRules: serveConfig.chatChannels,
        }),
        apiElsewhere ? dashboard : undefined,
      ),
    )
  } catch (err) {
    tls?.unwatch()
    await broker?.close()
    throw err
  }
  if (config.metrics) metrics = createMetrics(sb, { processMetrics: true })
  tls?.server.listen(config.port, config.host)
  const address = await sb.ready.catch(async (err: unknown) => {
    tls?.unwatch()
    await broker?.close()
    throw err
  })
  const app = `${address.url.replace(/^ws/, 'http').slice(0, -config.path.length)}/`
  const shared = config.redis === undefined ? '' : `, sharing channels through ${redisWhere(config.redis)}`
  const api = address.api ? `, HTTP API at ${address.api.url}/` : ''
  const board =
    dashboard && address.api ? `, dashboard at ${address.api.url.slice(0, -4)}${DASHBOARD_PATH}/` : ''
  log.info(`switchboard listening on ${address.url}${files ? ` (app at ${app})` : ''}${api}${board}${shared}`)
  const stop = () => {
    stopping ??= sb
      .close({ timeout: config.drainTimeout })
      .then(() => broker?.close())
      .then(() => tls && closeServer(tls))
      .then(() => log.info('switchboard stopped'))
    return stopping
  }
  if (handleSignals) {
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn(`${signal} again: exiting now`)
        process.exit(1)
      }
      log.info(`${signal}: draining ${sb.connections.size} connection(s)`)
      stop().then(
        () => {
          process.off('SIGTERM', onSignal)
          process.off('SIGINT', onSignal)
        },
        (err) => {
          log.error('shutdown failed:', err)
          process.exit(1)
        },
      )
    }
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
  }
  return { sb, address, stop }
}

/** On the API's own port, the dashboard's paths are answered by its files, the rest with 404. */
function withDashboard(
  options: ServeOptions,
  dashboard: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined,
): ServeOptions {
  if (!dashboard || !options.httpApi) return options
  return {
    ...options,
    httpApi: {
      ...options.httpApi,
      onRequest: (req, res) => {
        if (!dashboard(req, res)) notFound(res)
      },
    },
  }
}

/** Closes serve's own HTTPS server once Switchboard has drained it (sb.close leaves a given server open). */
function closeServer(tls: TlsServer): Promise<void> {
  tls.unwatch()
  return new Promise((resolve) => {
    tls.server.close(() => resolve())
    tls.server.closeAllConnections()
  })
}
