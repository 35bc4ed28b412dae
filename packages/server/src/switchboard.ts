/**
 * `createSwitchboard()`: resolves the options, puts the server's parts together — the broker and
 * the channel hub, subscriptions, request handlers, the connection registry, admission, the HTTP
 * front door, drain — and returns the public `Switchboard` object. Each part lives in its own
 * module; this one only wires them and holds the facade.
 */

import type { StandardSchemaV1 } from '@standard-schema/spec'
import { type Broker, MemoryBroker } from '@switchboard/broker'
import {
  checkData,
  DEFAULT_LIMITS,
  type EventMap,
  isValidChannel,
  isValidEventName,
  type JsonValue,
  type PresenceMember,
  type UntypedEventMap,
} from '@switchboard/protocol'
import type { PublishOptionsFor, Switchboard, SwitchboardOptions } from './api.js'
import { AdmissionControl } from './auth/admission.js'
import { type TokenAuth, TokenSessions } from './auth/auth-session.js'
import { Revocations } from './auth/revocations.js'
import { guardBroker } from './channels/broker-guard.js'
import { ChannelHub } from './channels/channel-hub.js'
import { ChannelRules, withChannelSchemas } from './channels/channel-options.js'
import { publishable } from './channels/publishable.js'
import { Subscriptions } from './channels/subscriptions.js'
import type { ClientConnection, ConnectionData } from './connection/connection.js'
import {
  type ConnectionListener,
  ConnectionRegistry,
  type DisconnectListener,
} from './connection/connection-registry.js'
import { Heartbeat } from './connection/heartbeat.js'
import { FrontDoor } from './http/front-door.js'
import { HttpTransports } from './http/http-transports.js'
import { whenReady } from './http/server-address.js'
import { ApiListener } from './http-api/api-listener.js'
import { HttpApi } from './http-api/http-api.js'
import { nodeCommandHandler } from './http-api/node-commands.js'
import { SERVER_VERSION } from './http-api/version.js'
import { drain } from './lifecycle/drain.js'
import { type AppProxy, createProxy } from './proxy/proxy.js'
import { builtinRequests } from './requests/builtin-requests.js'
import { handlerArgs } from './requests/handler-args.js'
import { HandlerRegistry } from './requests/handlers.js'
import { consoleLogger, defaultPort, revocationTtl, silentLogger, userLimit } from './resolve-options.js'
import { EventSchemas } from './schemas/event-schemas.js'
import { countPublishes } from './stats/count-publishes.js'
import { EventLoopDelay, NodeCounters, RateClock } from './stats/node-stats.js'
import { isStatsCommand, statsCommandHandler } from './stats/stats-commands.js'
import { StatsGatherer } from './stats/stats-gatherer.js'
import { switchboardStats } from './stats/switchboard-stats.js'
import { disconnectCode, disconnectEverywhere, isSendableCloseCode } from './users/disconnect.js'
import { UserIndex } from './users/user-index.js'
import { lifecycleWebhooks } from './webhooks/lifecycle-events.js'

/**
 * Creates a Switchboard server. Without `server` it creates an HTTP server and listens on
 * `port` (default `PORT` or 8080); `await sb.ready` for the address.
 */
export function createSwitchboard<M extends EventMap = UntypedEventMap, D = ConnectionData>(
  options: SwitchboardOptions<M, D> = {},
): Switchboard<M, D> {
  const o = options as unknown as SwitchboardOptions<EventMap, unknown>
  const log = o.logger === false ? silentLogger : (o.logger ?? consoleLogger)
  if (o.tokenAuth && (o.authenticate || o.onAuth)) {
    throw new TypeError('tokenAuth replaces authenticate and onAuth: set one or the other')
  }
  const path = o.path ?? '/ws'
  const maxPayload = o.maxPayload ?? DEFAULT_LIMITS.maxPayload
  const wsOptions = {
    maxBufferedBytes: o.maxBufferedBytes ?? 1024 * 1024,
    closeTimeoutMs: o.closeTimeout ?? 5000,
  }
  let closing: Promise<void> | undefined
  const draining = () => closing !== undefined

  if (o.proxy?.connect && (o.tokenAuth || o.authenticate || o.onAuth)) {
    throw new TypeError('proxy.connect replaces tokenAuth, authenticate and onAuth: set one or the other')
  }
  const proxy: AppProxy | undefined =
    o.proxy && createProxy(o.proxy, { log, userOf: (conn): string | undefined => sessions?.subject(conn) })
  const tokenAuth: TokenAuth<unknown> | undefined = o.tokenAuth ?? proxy?.tokenAuth
  const rules = new ChannelRules(withChannelSchemas(o.channels, o.schemas?.channels))
  const events = new EventSchemas(o.schemas?.events)
  const requestSchemas = o.schemas?.requests ?? {}
  const broker: Broker = o.broker ?? new MemoryBroker({ history: (channel) => rules.get(channel).history })
  // What the dashboard and the metrics read: counters bumped where things happen, nothing more.
  const counters = new NodeCounters()
  const rateClock = new RateClock()
  rateClock.start()
  const eventLoop = new EventLoopDelay()
  const startedAt = Date.now()
  // Every part below gets the guarded broker: a broker failure is `unavailable` (or `timeout`), logged.
  const guarded = countPublishes(
    guardBroker(broker, log, { onFailure: () => void counters.brokerFailures++ }),
    counters,
  )
  const revocations = new Revocations({
    broker: guarded,
    ttlMs: revocationTtl(o.revocationTtl),
    // Called only after createSwitchboard returned (on a revocation, or once the list is loaded).
    closeCovered: (covers) => sessions?.closeRevoked(covers),
  })
  const sessions: TokenSessions<ClientConnection> | undefined = tokenAuth
    ? new TokenSessions<ClientConnection>(tokenAuth, (m, err) => log.error(m, err), revocations)
    : undefined
  const hub = new ChannelHub(guarded, counters, rateClock, (channel) => rules.get(channel).presence)
  const memberOf = (conn: ClientConnection): PresenceMember => {
    const who = o.presence?.(conn) ?? { userId: sessions?.subject(conn) ?? conn.id }
    const member: PresenceMember = { userId: who.userId, connectionId: conn.id }
    if (who.info !== undefined) member.info = who.info
    return member
  }
  /** The connection's user, as presence and the user index know it (`subject`: its token's, early). */
  const userOf = (conn: ClientConnection, subject?: string): string => {
    try {
      const who = o.presence?.(conn)
      if (who) return who.userId
    } catch (err) {
      log.error('presence(conn) threw; the connection is indexed under its token subject or id:', err)
    }
    return subject ?? sessions?.subject(conn) ?? conn.id
  }
  const commandTimeoutMs = o.httpApi?.commandTimeout ?? 5000
  const users: UserIndex = new UserIndex({
    broker: guarded,
    limit: userLimit(o.maxConnectionsPerUser, o.maxConnectionsPerUserPolicy),
    connection: (id): ClientConnection | undefined => registry.connections.get(id),
    closeRemote: (ids, code, reason) =>
      disconnectEverywhere(guarded, { connections: ids }, code, reason, commandTimeoutMs),
  })
  const limits = {
    maxSubscriptions: o.maxSubscriptions ?? DEFAULT_LIMITS.maxSubscriptions,
    maxPendingRequests: o.maxPendingRequests ?? DEFAULT_LIMITS.maxPendingRequests,
    rateLimit: {
      capacity: o.rateLimit?.capacity ?? 200,
      refillPerSecond: o.rateLimit?.refillPerSecond ?? 100,
    },
    maxProtocolErrors: o.maxProtocolErrors ?? 10,
  }
  const subscriptions = new Subscriptions({
    broker: guarded,
    hub,
    rules,
    maxSubscriptions: limits.maxSubscriptions,
    authorize: o.authorize,
    proxy: proxy?.channels,
    memberOf,
    onRecovery: (recovered) => void (recovered ? counters.recovered++ : counters.notRecovered++),
    log,
  })
  const handlers = new HandlerRegistry<ClientConnection>(
    (err, event) => log.error(`handler "${event}" failed:`, err),
    proxy?.rpc,
  )
  const builtins = builtinRequests<ClientConnection>({
    broker: guarded,
    rules,
    maySubscribe: (conn, channel) => subscriptions.maySubscribe(conn, channel),
  })
  for (const [event, handler] of Object.entries(builtins)) handlers.register(event, undefined, handler)
  const heartbeat = new Heartbeat(o.heartbeat ?? DEFAULT_LIMITS.heartbeat)
  // Connections and admission refer to each other (a closed connection frees its per-IP slot).
  const admission: AdmissionControl = new AdmissionControl({
    maxConnectionsPerIp: o.maxConnectionsPerIp ?? Number.POSITIVE_INFINITY,
    allowedOrigins: o.allowedOrigins,
    sessions,
    authenticate: o.authenticate,
    draining,
    open: (transport, auth, ip, req) => registry.open(transport, auth, ip, req),
    log,
  })
  const registry = new ConnectionRegistry({
    limits,
    maxPayload,
    nodeId: broker.nodeId,
    heartbeat,
    sessions,
    subscriptions,
    handlers,
    events,
    onAuth: o.onAuth,
    opened:
      proxy && ((conn, req) => proxy.opened(conn, req, (channel) => subscriptions.serverJoin(conn, channel))),
    releaseIp: (ip) => admission.release(ip),
    users,
    userOf,
    refused: () => {
      admission.refusedCount++
    },
    log,
  })
  broker.onRoute((id, routed) => registry.routedHere(id, routed))
  // Every node answers the cluster's commands (the HTTP API's subscribe, disconnect…), whether or
  // not it serves the API itself.
  const nodeCommands = nodeCommandHandler({
    nodeId: broker.nodeId,
    version: SERVER_VERSION,
    connections: registry.connections,
    userOf: (conn) => users.userOf(conn),
    connectionsOf: (user) => users.connectionsOf(user),
    join: (conn, channel) => subscriptions.serverJoin(conn, channel),
    leave: (conn, channel) => subscriptions.serverLeave(conn, channel),
    channels: () => hub.names(),
    size: (channel) => hub.size(channel),
    rate: (channel) => hub.rate(channel),
  })
  // The dashboard's commands (stats, connections) beside them.
  const statsCommands = statsCommandHandler({
    nodeId: broker.nodeId,
    port: () => listeningPort,
    startedAt,
    counters,
    eventLoop,
    connections: registry.connections,
    userOf: (conn) => users.userOf(conn),
    handshakesRefused: () => admission.refusedCount,
    disconnects: () => registry.disconnects,
    channels: () => {
      let n = 0
      for (const channel of hub.names()) if (hub.size(channel) > 0) n++
      return n
    },
  })
  broker.onControl((command) => (isStatsCommand(command.type) ? statsCommands : nodeCommands)(command))
  let listeningPort: number | undefined
  const stats = new StatsGatherer(guarded)
  const webhooks =
    o.webhooks &&
    lifecycleWebhooks(o.webhooks, {
      broker,
      registry,
      users,
      hub,
      userOf: (conn) => users.userOf(conn) ?? userOf(conn),
      log,
    })
  const transports = o.transports ?? {}
  const http =
    transports.sse !== false || transports.longPolling !== false
      ? new HttpTransports(admission, {
          path,
          sse: transports.sse !== false,
          longPolling: transports.longPolling !== false,
          origins: admission.origins,
          maxPayload,
          ...wsOptions,
          heartbeatMs: heartbeat.intervalMs,
        })
      : undefined
  const httpApi = o.httpApi
    ? new HttpApi(
        o.httpApi,
        {
          publish: (channel, data, key) =>
            // The API is untyped: its channels and data are checked at run time, as `sb.publish` does.
            (sb as unknown as Switchboard).publish(
              channel,
              data as JsonValue,
              key === undefined ? {} : { key },
            ),
          revoke: (request) => revocations.revoke(request),
          broker: guarded,
          rules,
          version: SERVER_VERSION,
          commandTimeoutMs,
        },
        log,
        { stats, watch: (channel, watcher) => hub.watch(channel, watcher) },
      )
    : undefined
  const apiListener =
    httpApi && o.httpApi?.port !== undefined
      ? new ApiListener(httpApi, {
          port: o.httpApi.port,
          host: o.httpApi.host ?? o.host,
          headersTimeout: o.headersTimeout ?? 10_000,
          requestTimeout: o.requestTimeout ?? 30_000,
          onRequest: o.httpApi.onRequest,
        })
      : undefined
  const frontDoor = new FrontDoor({
    server: o.server,
    port: o.port ?? defaultPort(),
    host: o.host,
    headersTimeout: o.headersTimeout ?? 10_000,
    requestTimeout: o.requestTimeout ?? 30_000,
    path,
    maxPayload,
    http,
    admission,
    wsOptions,
    onRequest: o.onRequest,
    api: httpApi && !apiListener ? (req, res) => httpApi.handle(req, res) : undefined,
    draining,
  })
  const connections = registry.connections

  /** The local connection behind a `Connection` the application holds; a TypeError if it is not one. */
  const local = (conn: { id: string }): ClientConnection => {
    const own = connections.get(conn.id)
    if (!own) throw new TypeError(`connection "${conn.id}" is not open on this server`)
    return own
  }

  const ready = whenReady(frontDoor.ready, httpApi && (apiListener?.ready ?? true))
  ready.then(
    (address) => {
      listeningPort = address.port
    },
    () => {},
  )
  const sb: Switchboard<EventMap, unknown> = {
    server: frontDoor.server,
    broker,
    ready,
    connections,
    on(event, listener) {
      const set = registry.listeners[event] as Set<ConnectionListener | DisconnectListener>
      const added = listener as ConnectionListener | DisconnectListener
      set.add(added)
      return () => void set.delete(added)
    },
    off(event, listener) {
      ;(registry.listeners[event] as Set<unknown>).delete(listener)
      return sb
    },
    event(name: string, schema: StandardSchemaV1) {
      events.set(name, schema)
      return sb
    },
    handle(event: string, schemaOrHandler: unknown, maybeHandler?: unknown) {
      const { schema, handler } = handlerArgs(event, schemaOrHandler, maybeHandler)
      // Without a schema of its own, the handler gets the one `schemas.requests` gives its event.
      handlers.register(event, schema ?? requestSchemas[event]?.data, handler, requestSchemas[event]?.reply)
      return sb
    },
    async publish(channel, data, options: PublishOptionsFor<EventMap, unknown> = {}) {
      if (!isValidChannel(channel)) throw new TypeError(`invalid channel name "${channel}"`)
      // Refused before the broker takes an offset: no history ever holds what cannot be sent.
      const checked = publishable(rules, channel, data)
      const value = checked instanceof Promise ? await checked : checked
      const except = typeof options.except === 'string' ? options.except : options.except?.id
      return guarded.publish(channel, value, { except, key: options.key })
    },
    async sendTo(connectionId, event, data) {
      // A local connection directly (which checks the event name too), else through the broker
      // to the node that has it.
      const conn = connections.get(connectionId)
      if (conn) return conn.send(event, data)
      if (!isValidEventName(event)) throw new TypeError(`invalid event name "${event}"`)
      const value = events.data(event, data)
      if (value !== undefined) checkData(value)
      return broker.route(connectionId, value === undefined ? { event } : { event, data: value as JsonValue })
    },
    async subscribe(conn, channel) {
      const own = local(conn)
      if (!isValidChannel(channel)) throw new TypeError(`invalid channel name "${channel}"`)
      return subscriptions.serverJoin(own, channel)
    },
    async unsubscribe(conn, channel) {
      await subscriptions.serverLeave(local(conn), channel)
    },
    async disconnectUser(user, disconnectOptions = {}) {
      const code = disconnectCode(disconnectOptions)
      const reason = disconnectOptions.reason ?? ''
      if (!isSendableCloseCode(code))
        throw new TypeError(`disconnectUser: ${code} is not a close code to send`)
      if (Buffer.byteLength(reason) > 123)
        throw new TypeError('disconnectUser: reason over 123 bytes of UTF-8')
      return (await disconnectEverywhere(guarded, { user }, code, reason, commandTimeoutMs)).disconnected
    },
    revoke: (request) => revocations.revoke(request),
    channelSize: (channel) => hub.size(channel),
    stats: () =>
      switchboardStats({
        connections: connections.size,
        channels: [...hub.names()].length,
        handshakesRefused: admission.refusedCount,
        disconnects: registry.disconnects,
        apiRequests: httpApi?.counts,
        counters,
        eventLoop,
      }),
    close(closeOptions) {
      for (const part of [revocations, stats, rateClock, eventLoop]) part.stop()
      closing ??= drain(
        { heartbeat, frontDoor, registry, ownBroker: o.broker === undefined ? broker : undefined },
        closeOptions,
      )
        .then(() => webhooks?.stop())
        .then(() => apiListener?.close())
      return closing
    },
  }
  return sb as unknown as Switchboard<M, D>
}
