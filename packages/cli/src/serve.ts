/**
 * `switchboard serve`: a Switchboard server configured from flags and the environment — with the
 * in-memory broker, or with `--redis` the Redis broker so several nodes share channels, history
 * and presence — that drains on SIGTERM/SIGINT: new connections refused, every client closed
 * with 1012 so it reconnects elsewhere, then exit. A second signal exits at once.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { fileURLToPath } from 'node:url'
import { RedisBroker } from '@switchboard/redis'
import {
  type ChannelOptionsMap,
  ChannelRules,
  createSwitchboard,
  type Logger,
  type ServerAddress,
  type Switchboard,
  type UntypedEventMap,
} from '@switchboard/server'
import { jwtAuth } from '@switchboard/server/jwt'
import { createMetrics, type SwitchboardMetrics } from '@switchboard/server/metrics'
import { serveStatic } from '@switchboard/server/static'
import { parseArgs, parsePort, UsageError } from './args.js'

export const SERVE_USAGE = `Usage: switchboard serve [--port 8080] [--host 0.0.0.0] [--path /ws] [--static DIR] [--drain-timeout 10000]
                        [--redis redis://127.0.0.1:6379] [--jwt-secret SECRET] [--metrics]

  --port           port to listen on (default: $PORT, else 8080; 0 picks a free port)
  --host           interface to listen on (default: all)
  --path           WebSocket endpoint (default: /ws)
  --static         serve the files of DIR at / (default: the chat app in apps/chat/dist, once
                   built by \`npm start\` or \`npm run build\`; without it / answers 404)
  --drain-timeout  milliseconds to let clients leave on shutdown before cutting them off
  --redis          share channels, history and presence with other nodes through this Redis
                   (default: $REDIS_URL; without either, the in-memory broker: a single node)
  --jwt-secret     require a JWT signed with this HS256 secret (default: $JWT_SECRET); its \`name\`
                   claim, else \`sub\`, is the user, and a message's \`user\` must be that name. Open
                   the chat app as /?token=JWT. Without it, \`?name=\` names a user, unverified
  --metrics        serve Prometheus metrics at /metrics (keep it off the public address)

  Channels: chat:* keep 500 messages for an hour, track presence and take client publishes;
  typing:* take client publishes; any other channel only takes the server's.`

/**
 * The channels `serve` configures for the chat app: rooms with history, presence and client
 * publishing, and typing indicators that clients publish and nobody needs to replay.
 */
export const SERVE_CHANNELS: ChannelOptionsMap = {
  'chat:*': { history: { size: 500, ttl: '1h' }, presence: true, clientPublish: true },
  'typing:*': { clientPublish: true },
}

/** The `user` field of a chat message or typing notice. */
function userOf(data: unknown): unknown {
  return typeof data === 'object' && data !== null && !Array.isArray(data)
    ? (data as { user?: unknown }).user
    : undefined
}

/** The built chat app, when this command runs from the repository (where `npm start` runs it). */
const CHAT_APP_DIR = fileURLToPath(new URL('../../../apps/chat/dist', import.meta.url))

/**
 * Who a connection is, in this dev server: the display name from the handshake's `?name=` query,
 * unverified (anyone may claim any name — put real authentication in front of a real deployment).
 * Without one, a guest name.
 */
export function displayNameOf(req: IncomingMessage): { name: string } {
  const raw = new URL(req.url ?? '/', 'http://localhost').searchParams.get('name') ?? ''
  // Printable characters only, trimmed and bounded, so a name cannot forge lines or layouts.
  const name = raw
    .replace(/[\p{C}]/gu, '')
    .trim()
    .slice(0, 32)
  return { name: name || `guest-${randomBytes(2).toString('hex')}` }
}

export interface ServeConfig {
  port: number
  host: string | undefined
  path: string
  staticDir: string | undefined
  drainTimeout: number
  /** Redis URL for the Redis broker; undefined: the in-memory broker. */
  redis: string | undefined
  /** HS256 secret: connections must bring a JWT signed with it; undefined: the dev `?name=` identity. */
  jwtSecret: string | undefined
  /** Serve Prometheus metrics at /metrics. */
  metrics: boolean
}

export function serveConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ServeConfig {
  const { options, positionals } = parseArgs(
    argv,
    ['port', 'host', 'path', 'static', 'drain-timeout', 'redis', 'jwt-secret'],
    ['metrics'],
  )
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`)
  const str = (name: string): string | undefined => {
    const v = options[name]
    return typeof v === 'string' ? v : undefined
  }
  const portArg = str('port')
  const port =
    portArg !== undefined
      ? parsePort(portArg, '--port')
      : env.PORT !== undefined && env.PORT !== ''
        ? parsePort(env.PORT, 'PORT')
        : 8080
  const path = str('path') ?? '/ws'
  if (!path.startsWith('/')) throw new UsageError('--path must start with /')
  const drain = str('drain-timeout')
  const drainTimeout = drain === undefined ? 10_000 : Number(drain)
  if (!Number.isFinite(drainTimeout) || drainTimeout < 0)
    throw new UsageError('--drain-timeout must be milliseconds')
  const redis = str('redis') ?? (env.REDIS_URL || undefined)
  if (redis !== undefined && !/^rediss?:\/\/./.test(redis))
    throw new UsageError(`--redis must be a redis:// or rediss:// URL, got "${redis}"`)
  const jwtSecret = str('jwt-secret') ?? (env.JWT_SECRET || undefined)
  return {
    port,
    host: str('host'),
    path,
    staticDir: str('static'),
    drainTimeout,
    redis,
    jwtSecret,
    metrics: options.metrics === true,
  }
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n')
}

/** The URL without its password, for logs. */
function redacted(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return 'redis'
  }
}

/** Connects the Redis broker, or fails with a clear message if Redis does not answer in time. */
async function redisBroker(url: string, log: Logger): Promise<RedisBroker> {
  const rules = new ChannelRules(SERVE_CHANNELS)
  const broker = new RedisBroker({ url, history: (channel) => rules.get(channel).history, logger: log })
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`could not reach Redis at ${redacted(url)} within 10 s`)),
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
  sb: Switchboard
  address: ServerAddress
  /** Drains and stops (what SIGTERM does). */
  stop(): Promise<void>
}

/** Starts the server; with `handleSignals`, SIGTERM/SIGINT drain it and let the process exit. */
export async function serve(config: ServeConfig, log: Logger, handleSignals = false): Promise<RunningServer> {
  const staticDir = config.staticDir ?? (existsSync(CHAT_APP_DIR) ? CHAT_APP_DIR : undefined)
  if (staticDir === undefined) log.warn('the chat app is not built (npm run build:chat): / answers 404')
  const broker = config.redis === undefined ? undefined : await redisBroker(config.redis, log)
  const files = staticDir ? serveStatic(staticDir) : undefined
  let metrics: SwitchboardMetrics | undefined
  // With a JWT secret, who a connection is comes from its verified token (the `name` claim, else
  // `sub`); without one, from the unverified `?name=` of this dev server.
  const identity = config.jwtSecret
    ? jwtAuth({
        secret: config.jwtSecret,
        claims: (claims) => ({
          name: typeof claims.name === 'string' && claims.name ? claims.name : claims.sub,
        }),
      })
    : { authenticate: displayNameOf }
  const sb = createSwitchboard<UntypedEventMap, { name: string }>({
    broker,
    port: config.port,
    host: config.host,
    path: config.path,
    channels: SERVE_CHANNELS,
    ...identity,
    presence: (conn) => ({ userId: conn.data.name, info: { name: conn.data.name } }),
    // With verified identities, a message or typing notice speaks for its own user only. (With
    // the dev `?name=` anyone may claim any name anyway.)
    ...(config.jwtSecret
      ? { authorize: { publish: (conn, _channel, data) => userOf(data) === conn.data.name } }
      : {}),
    onRequest: (req, res) => {
      if (metrics && req.url === '/metrics') metrics.handler(req, res)
      else if (files) files(req, res)
      else notFound(res)
    },
    logger: log,
  })
  if (config.metrics) metrics = createMetrics(sb, { processMetrics: true })
  const address = await sb.ready.catch(async (err: unknown) => {
    await broker?.close()
    throw err
  })
  const app = `${address.url.replace(/^ws/, 'http').slice(0, -config.path.length)}/`
  const shared = config.redis === undefined ? '' : `, sharing channels through ${redacted(config.redis)}`
  log.info(`switchboard listening on ${address.url}${staticDir ? ` (app at ${app})` : ''}${shared}`)
  let stopping: Promise<void> | undefined
  const stop = () => {
    stopping ??= sb
      .close({ timeout: config.drainTimeout })
      .then(() => broker?.close())
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
