/**
 * The server's connections: it opens each one over whatever transport admitted it (hello first,
 * then the heartbeat and the `connection` listeners), is the host every connection asks to act on
 * its frames, and does the bookkeeping when one closes (per-IP slot, heartbeat, token session,
 * channels, counters, the `disconnect` listeners). Each connection is registered with its user
 * in the user index once its user is known (users/user-index.ts); with a per-user limit, a
 * connection waits for that before its hello (or before the answer to its first token), and one
 * the limit refuses is closed with 4029 instead. It holds no public API of its own: the facade in
 * switchboard.ts exposes what applications may use.
 */

import { randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { RoutedEvent } from '@switchboard/broker'
import {
  CloseCode,
  ErrorCode,
  isValidEventName,
  type JsonValue,
  PROTOCOL_VERSION,
  type PresenceUpdateFrame,
  type PublishFrame,
  type PublishResult,
  type SubscribeFrame,
  type SubscribeResult,
} from '@switchboard/protocol'
import type { Logger } from '../api.js'
import type { Credentials, TokenSessions } from '../auth/auth-session.js'
import type { Subscriptions } from '../channels/subscriptions.js'
import { SwitchboardError } from '../errors.js'
import type { HandlerRegistry, HandlerResult } from '../requests/handlers.js'
import type { EventSchemas } from '../schemas/event-schemas.js'
import type { Transport } from '../transport/transport.js'
import { LIMIT_REASON, type UserIndex } from '../users/user-index.js'
import { ClientConnection, type ConnectionHost, type ConnectionLimits } from './connection.js'
import type { Heartbeat } from './heartbeat.js'

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

export type ConnectionListener = (conn: ClientConnection, req: IncomingMessage) => void
export type DisconnectListener = (conn: ClientConnection, info: { code: number; reason: string }) => void

/** What a handshake's authentication gave the new connection (`credentials` only with tokenAuth). */
export interface Authenticated {
  data: unknown
  credentials: Credentials<unknown> | undefined
}

export interface ConnectionRegistryOptions {
  limits: ConnectionLimits
  maxPayload: number
  /** With a broker shared by several nodes: starts every connection id (see `sb.sendTo`). */
  nodeId: string | undefined
  heartbeat: Heartbeat
  sessions: TokenSessions<ClientConnection> | undefined
  subscriptions: Subscriptions
  handlers: HandlerRegistry<ClientConnection>
  /** Server events' validators (`sb.event`), run by `conn.send`. */
  events: EventSchemas
  /** `onAuth`, for `auth` frames on a server without tokenAuth. */
  onAuth: ((conn: ClientConnection, token: string) => unknown) | undefined
  /** Runs for every new connection after its `connection` listeners (the proxy's `opened`). */
  opened?: ((conn: ClientConnection, req: IncomingMessage) => void) | undefined
  /** Gives back the connection's per-IP slot. */
  releaseIp: (ip: string) => void
  /** This node's part of the user index. */
  users: UserIndex
  /** The connection's user (its presence userId); `subject` is its token's, before its session has it. */
  userOf: (conn: ClientConnection, subject?: string) => string
  /** Counts a connection the per-user limit refused (`stats().handshakesRefused`). */
  refused: () => void
  log: Logger
}

export class ConnectionRegistry implements ConnectionHost {
  readonly connections = new Map<string, ClientConnection>()
  readonly limits: ConnectionLimits
  readonly listeners = {
    connection: new Set<ConnectionListener>(),
    disconnect: new Set<DisconnectListener>(),
  }
  /** Closes by code, for `stats()`. */
  readonly disconnects: Record<number, number> = {}
  /** Internal waiters on one connection's close (drain), kept apart from the application's listeners. */
  private readonly closeWaiters = new Map<ClientConnection, () => void>()
  /** Connections waiting for the per-user limit's answer: they may not act yet. */
  private readonly admitting = new Map<ClientConnection, Promise<boolean>>()
  /** The limit's answer for a pending connection's first token, which the `auth` reply waits for. */
  private readonly tokenAdmissions = new Map<ClientConnection, Promise<boolean>>()

  constructor(private readonly o: ConnectionRegistryOptions) {
    this.limits = o.limits
  }

  /** A connection over any transport, as an accepted handshake gets it: hello first, heartbeat, listeners. */
  open(transport: Transport, auth: Authenticated, ip: string, req: IncomingMessage): void {
    const { data, credentials } = auth
    const { sessions, heartbeat, users } = this.o
    // The registry is every connection's host: no per-connection closures, and nothing here (the
    // request above all) stays reachable from a long-lived connection.
    const random = randomId()
    const id = this.o.nodeId === undefined ? random : `${this.o.nodeId}.${random}`
    const conn = new ClientConnection(id, data, ip, transport, this)
    this.connections.set(conn.id, conn)
    heartbeat.add(conn)
    // With a per-user limit, a connection whose user is known now gets its hello only once the
    // limit let it in; refused, it is closed before it (the client sees the code, not a hello).
    if (users.gated && (!sessions || credentials)) {
      const admitted = this.admit(conn, this.o.userOf(conn, credentials?.subject))
      void admitted.then((ok) => {
        if (conn.state !== 'open') return
        if (ok) this.start(conn, auth, req)
        else {
          this.o.refused()
          conn.close(CloseCode.TOO_MANY_CONNECTIONS, LIMIT_REASON.refuse)
        }
      })
      return
    }
    this.start(conn, auth, req)
  }

  /** Hello, resume subscriptions of the URL, the token session, the `connection` listeners. */
  private start(conn: ClientConnection, auth: Authenticated, req: IncomingMessage): void {
    const { credentials } = auth
    const { sessions, heartbeat, users } = this.o
    conn.sendFrame({
      type: 'hello',
      version: PROTOCOL_VERSION,
      connectionId: conn.id,
      heartbeat: heartbeat.intervalMs,
      limits: {
        maxPayload: this.o.maxPayload,
        maxSubscriptions: this.limits.maxSubscriptions,
        // So a client can pace itself under it. JSON has no Infinity: only a finite limit is told.
        ...(Object.values(this.limits.rateLimit).every((n) => Number.isFinite(n) && n > 0)
          ? { rateLimit: { ...this.limits.rateLimit } }
          : {}),
      },
      // A connection that must still send its token is told so, so a client without one can
      // stop at once instead of looking connected until the auth timeout.
      ...(sessions && !credentials ? { auth: 'required' as const } : {}),
    })
    this.o.subscriptions.connected(conn, req.url)
    const announce = () => {
      for (const listener of this.listeners.connection) this.guard('connection', () => listener(conn, req))
    }
    const register = () => {
      if (users.userOf(conn) !== undefined) return announce()
      const user = this.o.userOf(conn)
      if (!users.gated) {
        void users.admit(conn, user)
        return announce()
      }
      // A pending connection's first token: its reply waits for the limit (see `auth`).
      const admitted = this.admit(conn, user)
      this.tokenAdmissions.set(conn, admitted)
      void admitted.then((ok) => ok && conn.state === 'open' && announce())
    }
    // With tokenAuth, a connection that has yet to send its token is announced once it has.
    if (sessions) sessions.start(conn, credentials, register)
    else register()
    this.o.opened?.(conn, req)
  }

  /** The per-user limit's answer for a connection; it may not act until it is in. */
  private admit(conn: ClientConnection, user: string): Promise<boolean> {
    const admitted = this.o.users.admit(conn, user).finally(() => this.admitting.delete(conn))
    this.admitting.set(conn, admitted)
    return admitted
  }

  /** Resolves once the connection has closed (at once if it has). */
  whenClosed(conn: ClientConnection): Promise<void> {
    if (conn.state === 'closed') return Promise.resolve()
    return new Promise((resolve) => this.closeWaiters.set(conn, resolve))
  }

  /** An event routed to this node by `sendTo` on another. */
  routedHere(connectionId: string, routed: RoutedEvent): boolean {
    const conn = this.connections.get(connectionId)
    if (!conn || !isValidEventName(routed.event)) return false
    // Validated (and transformed) once, on the node that sent it.
    return conn.sendEvent(routed.event, routed.data)
  }

  // ---- ConnectionHost --------------------------------------------------------------------------

  subscribe(conn: ClientConnection, frame: SubscribeFrame): Promise<SubscribeResult> {
    return this.o.subscriptions.subscribe(conn, frame)
  }

  updatePresence(conn: ClientConnection, frame: PresenceUpdateFrame): Promise<void> {
    return this.o.subscriptions.updatePresence(conn, frame)
  }

  unsubscribe(conn: ClientConnection, channel: string): Promise<void> {
    return this.o.subscriptions.unsubscribe(conn, channel)
  }

  publish(conn: ClientConnection, frame: PublishFrame): Promise<PublishResult> {
    return this.o.subscriptions.publish(conn, frame)
  }

  request(
    conn: ClientConnection,
    event: string,
    data: JsonValue | undefined,
  ): HandlerResult | Promise<HandlerResult> {
    return this.o.handlers.dispatch(conn, event, data)
  }

  async auth(conn: ClientConnection, token: string): Promise<undefined> {
    if (this.o.sessions) {
      await this.o.sessions.onToken(conn, token)
      // The first token of a pending connection, with a per-user limit: answered once it is in.
      const admitted = this.tokenAdmissions.get(conn)
      this.tokenAdmissions.delete(conn)
      if (admitted && !(await admitted)) {
        // Closed before the reply, so the client learns the close code (4029, terminal), not a
        // refused token (which it would report as 4001).
        this.o.refused()
        conn.close(CloseCode.TOO_MANY_CONNECTIONS, LIMIT_REASON.refuse)
        throw new SwitchboardError(ErrorCode.LIMIT_EXCEEDED, LIMIT_REASON.refuse)
      }
      return undefined
    }
    if (!this.o.onAuth) {
      throw new SwitchboardError(ErrorCode.UNAUTHORIZED, 'this server does not accept auth frames')
    }
    try {
      await this.o.onAuth(conn, token)
    } catch (err) {
      if (err instanceof SwitchboardError) throw err
      throw new SwitchboardError(ErrorCode.UNAUTHORIZED, 'token rejected')
    }
    return undefined
  }

  mayAct(conn: ClientConnection): boolean {
    if (this.admitting.has(conn)) return false
    return this.o.sessions === undefined || this.o.sessions.authenticated(conn)
  }

  activity(conn: ClientConnection): void {
    this.o.heartbeat.seen(conn)
  }

  closed(conn: ClientConnection, code: number, reason: string): void {
    this.o.releaseIp(conn.remoteAddress)
    this.o.heartbeat.delete(conn)
    this.o.sessions?.end(conn)
    this.o.users.release(conn)
    this.tokenAdmissions.delete(conn)
    this.connections.delete(conn.id)
    this.disconnects[code] = (this.disconnects[code] ?? 0) + 1
    this.o.subscriptions.leaveAll(conn)
    for (const listener of this.listeners.disconnect)
      this.guard('disconnect', () => listener(conn, { code, reason }))
    const waiter = this.closeWaiters.get(conn)
    if (waiter) {
      this.closeWaiters.delete(conn)
      waiter()
    }
  }

  eventData(event: string, data: unknown): unknown {
    return this.o.events.data(event, data)
  }

  unsendableReply(conn: ClientConnection, err: unknown): void {
    this.o.log.error(`a reply to ${conn.id} could not be sent:`, err)
  }

  /** Runs an application listener; its exception is logged, never allowed to break the server. */
  private guard(event: string, run: () => void): void {
    try {
      run()
    } catch (err) {
      this.o.log.error(`a "${event}" listener threw:`, err)
    }
  }
}
