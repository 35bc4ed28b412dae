/**
 * `createSwitchboard()`: the server's options, its HTTP and WebSocket front door, the channel and
 * request operations connections ask for, and its lifecycle — listen, accept, drain, close.
 * Connections, transports, the broker and the handshake checks each live in their own module;
 * this one wires them together and holds the public API.
 */
import { randomBytes } from 'node:crypto'
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import type { StandardSchemaV1 } from '@standard-schema/spec'
import type { Broker, RoutedEvent } from '@switchboard/broker'
import { MemoryBroker } from '@switchboard/broker'
import type { EventMap, StreamPosition, UntypedEventMap } from '@switchboard/protocol'
import {
  CloseCode,
  DEFAULT_LIMITS,
  ErrorCode,
  isValidChannel,
  isValidEventName,
  type JsonValue,
  PROTOCOL_VERSION,
  type PresenceMember,
  type PublishFrame,
  type PublishResult,
  SUBPROTOCOL,
  type SubscribeFrame,
  type SubscribeResult,
} from '@switchboard/protocol'
import { WebSocketServer } from 'ws'
import type {
  CloseOptions,
  Logger,
  PublishOptionsFor,
  ServerAddress,
  Switchboard,
  SwitchboardOptions,
  SwitchboardStats,
} from './api.js'
import { type Credentials, TokenSessions } from './auth/auth-session.js'
import { ChannelHub } from './channels/channel-hub.js'
import { ChannelRules } from './channels/channel-options.js'
import {
  ClientConnection,
  type Connection,
  type ConnectionData,
  type ConnectionHost,
  type ConnectionLimits,
} from './connection/connection.js'
import { Heartbeat } from './connection/heartbeat.js'
import { SwitchboardError } from './errors.js'
import { type Admission, HttpTransports, type Refusal } from './http/http-transports.js'
import { checkHandshake, IpCounter, refuse } from './http/upgrade.js'
import { builtinRequests } from './requests/builtin-requests.js'
import { type AnyHandler, HandlerRegistry, type HandlerResult } from './requests/handlers.js'
import type { Transport } from './transport/transport.js'
import { WsTransport, type WsTransportOptions } from './transport/ws-transport.js'

/** Connection ids come from a pooled random buffer: one CSPRNG call per 455 ids, not one each. */
let idPool = Buffer.alloc(0)
let idAt = 0
function randomId(): string {
  if (idAt + 9 > idPool.length) {
    idPool = randomBytes(9 * 455)
    idAt = 0
  }
  idAt += 9
  return idPool.toString('base64url', idAt - 9, idAt)
}

/** A handshake's authentication result (`credentials` only with tokenAuth). */
interface Authenticated {
  ok: true
  data: unknown
  credentials: Credentials<unknown> | undefined
}

type ConnectionListener = (conn: ClientConnection, req: IncomingMessage) => void
type DisconnectListener = (conn: ClientConnection, info: { code: number; reason: string }) => void

const consoleLogger: Logger = {
  info: (m) => console.log(m),
  warn: (m) => console.warn(m),
  error: (m, err) => console.error(m, err ?? ''),
}
const silentLogger: Logger = { info() {}, warn() {}, error() {} }

function defaultPort(): number {
  const fromEnv = Number(process.env.PORT)
  return Number.isInteger(fromEnv) && fromEnv >= 0 && fromEnv < 65536 && process.env.PORT !== ''
    ? fromEnv
    : 8080
}

function pathnameOf(url: string | undefined): string {
  const q = url?.indexOf('?') ?? -1
  return url === undefined ? '/' : q === -1 ? url : url.slice(0, q)
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n')
}

class SwitchboardServer implements ConnectionHost {
  readonly server: Server | HttpsServer
  readonly broker: Broker
  readonly ready: Promise<ServerAddress>
  readonly limits: ConnectionLimits
  readonly connections = new Map<string, ClientConnection>()
  private readonly owned: boolean
  private readonly ownsBroker: boolean
  private readonly path: string
  private readonly rules: ChannelRules
  private readonly hub: ChannelHub
  private readonly handlers: HandlerRegistry<ClientConnection>
  private readonly heartbeat: Heartbeat
  private readonly wss: WebSocketServer
  /** One options object for every WebSocket transport (the HTTP ones share its bounds). */
  private readonly wsOptions: WsTransportOptions
  /** Largest incoming message, in bytes. */
  private readonly maxPayload: number
  /** The SSE and long-poll endpoints (unless both are turned off). */
  private readonly http: HttpTransports | undefined
  private readonly ips: IpCounter
  private readonly allowedOrigins: ReadonlySet<string> | undefined
  private readonly log: Logger
  /** Token lifecycles, when `tokenAuth` is set. */
  private readonly sessions: TokenSessions<ClientConnection> | undefined
  private readonly listeners = {
    connection: new Set<ConnectionListener>(),
    disconnect: new Set<DisconnectListener>(),
  }
  private readonly counters = { handshakesRefused: 0, disconnects: {} as Record<number, number> }
  private closing: Promise<void> | undefined
  /** On an app's server: its own request listeners, which ours calls for every other request. */
  private appRequestListeners: RequestListener[] | undefined

  constructor(private readonly options: SwitchboardOptions<EventMap, unknown>) {
    this.log = options.logger === false ? silentLogger : (options.logger ?? consoleLogger)
    this.path = options.path ?? '/ws'
    if (options.tokenAuth && (options.authenticate || options.onAuth)) {
      throw new TypeError('tokenAuth replaces authenticate and onAuth: set one or the other')
    }
    this.sessions = options.tokenAuth
      ? new TokenSessions(options.tokenAuth, (m, err) => this.log.error(m, err))
      : undefined
    this.rules = new ChannelRules(options.channels)
    this.ownsBroker = options.broker === undefined
    this.broker = options.broker ?? new MemoryBroker({ history: (ch) => this.rules.get(ch).history })
    this.hub = new ChannelHub(this.broker)
    this.broker.onRoute((id, routed) => this.routedHere(id, routed))
    this.handlers = new HandlerRegistry((err, event) => this.log.error(`handler "${event}" failed:`, err))
    const builtins = builtinRequests<ClientConnection>({
      broker: this.broker,
      rules: this.rules,
      maySubscribe: async (conn, channel) =>
        (await this.options.authorize?.subscribe?.(conn, channel)) ?? true,
    })
    for (const [event, handler] of Object.entries(builtins)) this.handlers.register(event, undefined, handler)
    this.heartbeat = new Heartbeat(options.heartbeat ?? DEFAULT_LIMITS.heartbeat)
    this.ips = new IpCounter(options.maxConnectionsPerIp ?? Number.POSITIVE_INFINITY)
    this.allowedOrigins = options.allowedOrigins ? new Set(options.allowedOrigins) : undefined
    this.limits = {
      maxSubscriptions: options.maxSubscriptions ?? DEFAULT_LIMITS.maxSubscriptions,
      maxPendingRequests: options.maxPendingRequests ?? DEFAULT_LIMITS.maxPendingRequests,
      rateLimit: {
        capacity: options.rateLimit?.capacity ?? 200,
        refillPerSecond: options.rateLimit?.refillPerSecond ?? 100,
      },
      maxProtocolErrors: options.maxProtocolErrors ?? 10,
    }
    this.maxPayload = options.maxPayload ?? DEFAULT_LIMITS.maxPayload
    this.wsOptions = {
      maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024,
      closeTimeoutMs: options.closeTimeout ?? 5000,
    }
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: this.maxPayload,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    })
    this.owned = options.server === undefined
    const transports = options.transports ?? {}
    this.http =
      transports.sse !== false || transports.longPolling !== false
        ? new HttpTransports(
            { admit: (req) => this.admit(req), refused: () => this.counters.handshakesRefused++ },
            {
              path: this.path,
              sse: transports.sse !== false,
              longPolling: transports.longPolling !== false,
              allowedOrigins: this.allowedOrigins,
              maxPayload: this.maxPayload,
              ...this.wsOptions,
              heartbeatMs: this.heartbeat.intervalMs,
            },
          )
        : undefined
    this.server = options.server ?? createServer((req, res) => this.onRequest(req, res))
    this.server.on('upgrade', this.onUpgrade)
    if (!this.owned && this.http) {
      // The SSE and long-poll requests must reach us before the app's handler (an Express app
      // would answer them 404): the server's request listeners as they are now are replaced by
      // one that takes ours and passes everything else on. `close` puts them back.
      this.appRequestListeners = this.server.listeners('request') as RequestListener[]
      this.server.removeAllListeners('request')
      this.server.on('request', this.onAppRequest)
    }
    if (this.owned) {
      // A handshake trickled in one byte at a time must not hold a socket for minutes.
      this.server.headersTimeout = 10_000
      this.server.requestTimeout = 30_000
      this.server.listen(options.port ?? defaultPort(), options.host)
    }
    this.ready = this.whenListening()
  }

  // ---- public API ----------------------------------------------------------------------------

  on(event: 'connection' | 'disconnect', listener: ConnectionListener | DisconnectListener): void {
    if (event === 'connection') this.listeners.connection.add(listener as ConnectionListener)
    else this.listeners.disconnect.add(listener as DisconnectListener)
  }

  off(event: 'connection' | 'disconnect', listener: ConnectionListener | DisconnectListener): void {
    if (event === 'connection') this.listeners.connection.delete(listener as ConnectionListener)
    else this.listeners.disconnect.delete(listener as DisconnectListener)
  }

  handle(event: string, schemaOrHandler: unknown, maybeHandler?: unknown): void {
    const [schema, handler] =
      maybeHandler === undefined
        ? [undefined, schemaOrHandler as AnyHandler<ClientConnection>]
        : [schemaOrHandler as StandardSchemaV1, maybeHandler as AnyHandler<ClientConnection>]
    if (typeof handler !== 'function')
      throw new TypeError('handle(event, schema?, handler): handler is missing')
    if (event.startsWith('$')) throw new TypeError(`handle("${event}"): names starting with $ are reserved`)
    if (schema !== undefined && typeof schema['~standard']?.validate !== 'function') {
      throw new TypeError('handle(event, schema, handler): schema is not a Standard Schema validator')
    }
    this.handlers.register(event, schema, handler)
  }

  async publishFromServer(
    channel: string,
    data: unknown,
    options: PublishOptionsFor<EventMap, unknown> = {},
  ) {
    if (!isValidChannel(channel)) throw new TypeError(`invalid channel name "${channel}"`)
    const except = typeof options.except === 'string' ? options.except : options.except?.id
    return this.broker.publish(channel, data as JsonValue, { except, key: options.key })
  }

  /** `sb.sendTo`: a local connection directly, else through the broker to the node that has it. */
  async sendTo(connectionId: string, event: string, data: unknown): Promise<boolean> {
    const local = this.connections.get(connectionId)
    if (local) return local.send(event, data) // which checks the event name too
    if (!isValidEventName(event)) throw new TypeError(`invalid event name "${event}"`)
    const routed: RoutedEvent = data === undefined ? { event } : { event, data: data as JsonValue }
    return this.broker.route(connectionId, routed)
  }

  /** An event routed to this node by `sendTo` on another. */
  private routedHere(connectionId: string, routed: RoutedEvent): boolean {
    const conn = this.connections.get(connectionId)
    if (!conn || !isValidEventName(routed.event)) return false
    return conn.send(routed.event, routed.data)
  }

  async subscribeFromServer(conn: Connection<EventMap, unknown>, channel: string): Promise<SubscribeResult> {
    const own = this.connections.get(conn.id)
    if (!own) throw new Error('not a connection of this server')
    if (!isValidChannel(channel)) throw new TypeError(`invalid channel name "${channel}"`)
    return this.join(own, channel, undefined)
  }

  channelSize(channel: string): number {
    return this.hub.size(channel)
  }

  stats(): SwitchboardStats {
    return {
      connections: this.connections.size,
      channels: [...this.hub.names()].length,
      handshakesRefused: this.counters.handshakesRefused,
      disconnects: { ...this.counters.disconnects },
    }
  }

  close(options: CloseOptions = {}): Promise<void> {
    this.closing ??= this.shutdown(options)
    return this.closing
  }

  // ---- ConnectionHost --------------------------------------------------------------------------

  async subscribe(conn: ClientConnection, frame: SubscribeFrame): Promise<SubscribeResult> {
    const allowed = this.options.authorize?.subscribe
    if (allowed && !(await allowed(conn, frame.channel))) {
      throw new SwitchboardError(ErrorCode.FORBIDDEN, `may not subscribe to "${frame.channel}"`)
    }
    return this.join(conn, frame.channel, frame.since)
  }

  async unsubscribe(conn: ClientConnection, channel: string): Promise<void> {
    if (!conn.subscriptions.has(channel)) {
      throw new SwitchboardError(ErrorCode.NOT_SUBSCRIBED, `not subscribed to "${channel}"`)
    }
    await this.leave(conn, channel)
  }

  async publish(conn: ClientConnection, frame: PublishFrame): Promise<PublishResult> {
    const { channel, data } = frame
    if (!this.rules.get(channel).clientPublish) {
      throw new SwitchboardError(ErrorCode.FORBIDDEN, `clients may not publish to "${channel}"`)
    }
    const allowed = this.options.authorize?.publish
    if (allowed && !(await allowed(conn, channel, data))) {
      throw new SwitchboardError(ErrorCode.FORBIDDEN, `may not publish to "${channel}"`)
    }
    try {
      return await this.broker.publish(channel, data, frame.key === undefined ? {} : { key: frame.key })
    } catch (err) {
      this.log.error(`broker refused a publish to "${channel}":`, err)
      throw new SwitchboardError(ErrorCode.UNAVAILABLE, 'the message could not be published; it was not sent')
    }
  }

  request(
    conn: ClientConnection,
    event: string,
    data: JsonValue | undefined,
  ): HandlerResult | Promise<HandlerResult> {
    return this.handlers.dispatch(conn, event, data)
  }

  async auth(conn: ClientConnection, token: string): Promise<undefined> {
    if (this.sessions) return this.sessions.onToken(conn, token)
    if (!this.options.onAuth) {
      throw new SwitchboardError(ErrorCode.UNAUTHORIZED, 'this server does not accept auth frames')
    }
    try {
      await this.options.onAuth(conn, token)
    } catch (err) {
      if (err instanceof SwitchboardError) throw err
      throw new SwitchboardError(ErrorCode.UNAUTHORIZED, 'token rejected')
    }
    return undefined
  }

  mayAct(conn: ClientConnection): boolean {
    return this.sessions === undefined || this.sessions.authenticated(conn)
  }

  activity(conn: ClientConnection): void {
    this.heartbeat.seen(conn)
  }

  closed(conn: ClientConnection, code: number, reason: string): void {
    this.ips.release(conn.remoteAddress)
    this.heartbeat.delete(conn)
    this.sessions?.end(conn)
    this.connections.delete(conn.id)
    this.counters.disconnects[code] = (this.counters.disconnects[code] ?? 0) + 1
    for (const channel of [...conn.subscriptions]) {
      this.leave(conn, channel).catch((err) => this.log.error(`leaving "${channel}" failed:`, err))
    }
    for (const listener of this.listeners.disconnect)
      this.guard('disconnect', () => listener(conn, { code, reason }))
  }

  // ---- internals -------------------------------------------------------------------------------

  private async join(
    conn: ClientConnection,
    channel: string,
    since: SubscribeFrame['since'],
  ): Promise<SubscribeResult> {
    const options = this.rules.get(channel)
    const already = conn.subscriptions.has(channel)
    if (!already) {
      if (conn.subscriptions.size >= this.limits.maxSubscriptions) {
        throw new SwitchboardError(
          ErrorCode.LIMIT_EXCEEDED,
          `at most ${this.limits.maxSubscriptions} subscriptions per connection`,
        )
      }
      conn.markSubscribed(channel, true)
      try {
        // Held from the start and released against the position in the reply, so what reaches
        // the client is exactly the stream after that position, whatever arrived meanwhile.
        await this.hub.add(conn, channel, true)
      } catch (err) {
        conn.markSubscribed(channel, false)
        throw err
      }
    } else if (since) {
      this.hub.hold(conn, channel)
    }
    let result: SubscribeResult
    try {
      result = since ? await this.recover(conn, channel, since) : { ...(await this.broker.position(channel)) }
    } catch (err) {
      // A failed subscribe leaves no half-subscription behind, and no subscriber held.
      if (since) this.hub.release(conn, channel, since)
      if (!already) await this.leave(conn, channel)
      throw err
    }
    this.hub.release(conn, channel, result)
    if (options.presence) {
      if (!already) await this.broker.presence.add(channel, this.memberOf(conn))
      if (conn.state === 'closed') await this.broker.presence.remove(channel, conn.id)
      result.members = await this.broker.presence.list(channel)
    }
    return result
  }

  /**
   * Replays what the subscriber missed after `since`, straight into its send queue, while the hub
   * holds its live events. Recovered only if the broker still had every message after `since`;
   * otherwise nothing is replayed and the client is told so with the current position.
   */
  private async recover(
    conn: ClientConnection,
    channel: string,
    since: StreamPosition,
  ): Promise<SubscribeResult> {
    const history = await this.broker.history(channel, since)
    if (!history.complete) return { ...history.position, recovered: false }
    let last = since.offset
    for (const message of history.messages) {
      conn.sendFrame({
        type: 'message',
        channel,
        epoch: message.epoch,
        offset: message.offset,
        data: message.data,
      })
      last = message.offset
    }
    return { epoch: since.epoch, offset: Math.max(last, history.position.offset), recovered: true }
  }

  private async leave(conn: ClientConnection, channel: string): Promise<void> {
    conn.markSubscribed(channel, false)
    await this.hub.remove(conn, channel)
    if (this.rules.get(channel).presence) await this.broker.presence.remove(channel, conn.id)
  }

  private memberOf(conn: ClientConnection): PresenceMember {
    const who = this.options.presence?.(conn) ?? { userId: this.sessions?.subject(conn) ?? conn.id }
    const member: PresenceMember = { userId: who.userId, connectionId: conn.id }
    if (who.info !== undefined) member.info = who.info
    return member
  }

  /** Runs an application listener; its exception is logged, never allowed to break the server. */
  private guard(event: string, run: () => void): void {
    try {
      run()
    } catch (err) {
      this.log.error(`a "${event}" listener threw:`, err)
    }
  }

  /** On an app's server: SSE and long-poll requests first, then the app's own listeners, in order. */
  private readonly onAppRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (this.http?.handle(req, res)) return
    for (const listener of this.appRequestListeners ?? []) listener.call(this.server, req, res)
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (pathnameOf(req.url) === '/healthz') {
      const ok = this.closing === undefined
      res
        .writeHead(ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' })
        .end(ok ? 'ok\n' : 'draining\n')
      return
    }
    if (this.http?.handle(req, res)) return
    if (this.options.onRequest) this.options.onRequest(req, res)
    else notFound(res)
  }

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (pathnameOf(req.url) !== this.path) {
      // On a shared server another upgrade listener may own this path.
      if (this.owned || this.server.listenerCount('upgrade') <= 1) this.refuse(socket, 404, 'not found')
      return
    }
    // A reset during the handshake must not become an uncaught error.
    socket.on('error', () => socket.destroy())
    const check = checkHandshake(req, { allowedOrigins: this.allowedOrigins })
    if (!check.ok) {
      this.refuse(socket, check.status, check.message, check.headers)
      return
    }
    void this.accept(req, socket, head)
  }

  /** A well-formed upgrade: the checks every transport shares (`admit`), then the WebSocket. */
  private async accept(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const admission = await this.admit(req)
    if (!admission.ok) return refuse(socket, admission.status, admission.message)
    // ws writes the 101 response and calls back synchronously: corked, the hello leaves in the
    // same write as the response (one syscall per handshake, not two).
    socket.cork()
    try {
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const transport = new WsTransport(ws, socket, this.wsOptions)
        admission.open(transport)
        transport.flush()
      })
    } finally {
      socket.uncork()
    }
  }

  /** The handshake's authentication (`tokenAuth` or `authenticate`); on a refusal the IP is released. */
  private async authenticate(req: IncomingMessage, ip: string): Promise<Authenticated | Refusal> {
    let data: unknown = {}
    let credentials: Credentials<unknown> | undefined
    if (this.sessions) {
      try {
        credentials = await this.sessions.fromRequest(req)
        if (credentials) data = credentials.data
      } catch (err) {
        this.ips.release(ip)
        const unavailable = err instanceof SwitchboardError && err.code === ErrorCode.UNAVAILABLE
        return unavailable
          ? { ok: false, status: 503, message: 'try again later' }
          : { ok: false, status: 401, message: 'unauthorized' }
      }
    } else if (this.options.authenticate) {
      try {
        data = await this.options.authenticate(req)
      } catch (err) {
        this.ips.release(ip)
        if (!(err instanceof SwitchboardError)) this.log.warn(`authentication refused from ${ip}`)
        return { ok: false, status: 401, message: 'unauthorized' }
      }
    }
    return { ok: true, data, credentials }
  }

  /** A connection over any transport, as an accepted handshake gets it: hello first, heartbeat, listeners. */
  private openConnection(transport: Transport, auth: Authenticated, ip: string, req: IncomingMessage): void {
    const { data, credentials } = auth
    // The server itself is every connection's host: no per-connection closures, and nothing
    // here (the request above all) stays reachable from a long-lived connection.
    // With a shared broker the id names the node, so `sendTo` on another node can route to it.
    const random = randomId()
    const id = this.broker.nodeId === undefined ? random : `${this.broker.nodeId}.${random}`
    const conn = new ClientConnection(id, data, ip, transport, this)
    this.connections.set(conn.id, conn)
    this.heartbeat.add(conn)
    conn.sendFrame({
      type: 'hello',
      version: PROTOCOL_VERSION,
      connectionId: conn.id,
      heartbeat: this.heartbeat.intervalMs,
      limits: {
        maxPayload: this.maxPayload,
        maxSubscriptions: this.limits.maxSubscriptions,
      },
      // A connection that must still send its token is told so, so a client without one can
      // stop at once instead of looking connected until the auth timeout.
      ...(this.sessions && !credentials ? { auth: 'required' as const } : {}),
    })
    const announce = () => {
      for (const listener of this.listeners.connection) this.guard('connection', () => listener(conn, req))
    }
    // With tokenAuth, a connection that has yet to send its token is announced once it has.
    if (this.sessions) this.sessions.start(conn, credentials, announce)
    else announce()
  }

  /**
   * What every new connection must pass, whatever its transport (the WebSocket upgrade's own
   * checks and the Origin of an HTTP session are made before): draining, per-IP cap, auth.
   */
  private async admit(req: IncomingMessage): Promise<Admission> {
    if (this.closing) return this.refused(503, 'server is shutting down')
    const ip = req.socket.remoteAddress ?? 'unknown'
    if (!this.ips.acquire(ip)) return this.refused(429, 'too many connections from this address')
    const auth = await this.authenticate(req, ip)
    if (!auth.ok) return this.refused(auth.status, auth.message)
    if (this.closing || req.socket.destroyed) {
      this.ips.release(ip)
      return this.refused(503, 'server is shutting down')
    }
    return { ok: true, open: (transport) => this.openConnection(transport, auth, ip, req) }
  }

  private refused(status: number, message: string): Refusal {
    this.counters.handshakesRefused++
    return { ok: false, status, message }
  }

  private refuse(socket: Duplex, status: number, message: string, headers?: Record<string, string>): void {
    this.counters.handshakesRefused++
    refuse(socket, status, message, headers)
  }

  private whenListening(): Promise<ServerAddress> {
    const address = (): ServerAddress => {
      const info = this.server.address() as AddressInfo
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address
      const shown = info.address === '::' || info.address === '0.0.0.0' ? 'localhost' : host
      const scheme = 'cert' in this.server || 'key' in this.server ? 'wss' : 'ws'
      return { host: info.address, port: info.port, url: `${scheme}://${shown}:${info.port}${this.path}` }
    }
    if (this.server.listening) return Promise.resolve(address())
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err)
      this.server.once('error', onError)
      this.server.once('listening', () => {
        this.server.off('error', onError)
        resolve(address())
      })
    })
  }

  private async shutdown(options: CloseOptions): Promise<void> {
    const { timeout = 10_000, code = CloseCode.SERVICE_RESTART, reason = 'server restarting' } = options
    this.heartbeat.stop()
    // Stop accepting: a created server stops listening; new upgrades meanwhile get 503.
    const serverClosed = this.owned
      ? new Promise<void>((resolve) => this.server.close(() => resolve()))
      : Promise.resolve()
    const open = [...this.connections.values()]
    const allClosed = Promise.all(
      open.map(
        (conn) =>
          new Promise<void>((resolve) => {
            if (conn.state === 'closed') return resolve()
            const onDisconnect: DisconnectListener = (c) => {
              if (c === conn) {
                this.listeners.disconnect.delete(onDisconnect)
                resolve()
              }
            }
            this.listeners.disconnect.add(onDisconnect)
            conn.close(code, reason)
          }),
      ),
    )
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeout)
    })
    const late = await Promise.race([allClosed.then(() => false), timedOut])
    clearTimeout(timer)
    if (late) {
      for (const conn of this.connections.values()) conn.terminate(code, reason)
      await allClosed
    }
    this.server.off('upgrade', this.onUpgrade)
    if (this.appRequestListeners) {
      this.server.off('request', this.onAppRequest)
      for (const listener of this.appRequestListeners) this.server.on('request', listener)
    }
    this.wss.close()
    if (this.owned) {
      const s = this.server as Server
      s.closeAllConnections()
      await serverClosed
    }
    if (this.ownsBroker) await this.broker.close()
  }
}

/**
 * Creates a Switchboard server. Without `server` it creates an HTTP server and listens on
 * `port` (default `PORT` or 8080); `await sb.ready` for the address.
 */
export function createSwitchboard<M extends EventMap = UntypedEventMap, D = ConnectionData>(
  options: SwitchboardOptions<M, D> = {},
): Switchboard<M, D> {
  const impl = new SwitchboardServer(options as unknown as SwitchboardOptions<EventMap, unknown>)
  const sb: Switchboard<M, D> = {
    server: impl.server,
    broker: impl.broker,
    ready: impl.ready,
    connections: impl.connections as unknown as ReadonlyMap<string, Connection<M, D>>,
    on(event, listener) {
      impl.on(event, listener as unknown as ConnectionListener | DisconnectListener)
      return sb
    },
    off(event, listener) {
      impl.off(event, listener as unknown as ConnectionListener | DisconnectListener)
      return sb
    },
    handle(event: string, schemaOrHandler: unknown, handler?: unknown) {
      impl.handle(event, schemaOrHandler, handler)
      return sb
    },
    publish: (channel, data, options) =>
      impl.publishFromServer(channel, data, options as PublishOptionsFor<EventMap, unknown>),
    sendTo: (connectionId, event, data) => impl.sendTo(connectionId, event, data),
    subscribe: (conn, channel) => impl.subscribeFromServer(conn as Connection<EventMap, unknown>, channel),
    async unsubscribe(conn, channel) {
      const own = impl.connections.get(conn.id)
      if (own?.subscriptions.has(channel)) await impl.unsubscribe(own, channel)
    },
    channelSize: (channel) => impl.channelSize(channel),
    stats: () => impl.stats(),
    close: (options) => impl.close(options),
  }
  return sb
}
