/**
 * Admission: what every new connection must pass, whatever its transport: the Origin allowlist
 * (its `origins` policy, which the upgrade checks and the HTTP router apply first, since each
 * answers a foreign Origin in its own way), then not draining, a free per-IP slot, and
 * authentication (`tokenAuth` or `authenticate`).
 * A refusal is counted for `stats()`; an admitted handshake gets an `open` that makes its
 * connection over the transport it ends up on.
 */
import type { IncomingMessage } from 'node:http'
import { ErrorCode } from '@switchboard/protocol'
import type { Logger } from '../api.js'
import type { ClientConnection } from '../connection/connection.js'
import type { Authenticated } from '../connection/connection-registry.js'
import { SwitchboardError } from '../errors.js'
import type { Transport } from '../transport/transport.js'
import { CloseConnection, type Credentials, type TokenSessions } from './auth-session.js'
import { IpCounter } from './ip-counter.js'
import { OriginPolicy } from './origin-policy.js'

export interface Refusal {
  ok: false
  /** The HTTP status to answer with. */
  status: number
  message: string
}

/**
 * A handshake let in: `open` makes its connection (hello, heartbeat, listeners) over its
 * transport; `cancel`, when no connection results after all (the upgrade failed, the peer left),
 * gives back its per-IP slot and counts the refusal. One of the two must be called.
 */
export type Admission = { ok: true; open: (transport: Transport) => void; cancel: () => void } | Refusal

/** A handshake that is accepted only to be closed at once with `code` (see CloseConnection). */
interface Doomed {
  close: { code: number; reason: string }
}

export interface AdmissionOptions {
  maxConnectionsPerIp: number
  allowedOrigins: readonly string[] | undefined
  sessions: TokenSessions<ClientConnection> | undefined
  authenticate: ((req: IncomingMessage) => unknown) | undefined
  /** Whether the server is draining (new connections get 503). */
  draining: () => boolean
  /** Makes the admitted connection. */
  open: (transport: Transport, auth: Authenticated, ip: string, req: IncomingMessage) => void
  log: Logger
}

export class AdmissionControl {
  /** Handshakes refused, by any check of any transport. */
  refusedCount = 0
  /** The Origin rule; the upgrade checks and the HTTP sessions apply it before `admit`. */
  readonly origins: OriginPolicy
  private readonly ips: IpCounter

  constructor(private readonly o: AdmissionOptions) {
    this.ips = new IpCounter(o.maxConnectionsPerIp)
    this.origins = new OriginPolicy(o.allowedOrigins)
  }

  async admit(req: IncomingMessage): Promise<Admission> {
    if (this.o.draining()) return this.refused(503, 'server is shutting down')
    const ip = req.socket.remoteAddress ?? 'unknown'
    if (!this.ips.acquire(ip)) return this.refused(429, 'too many connections from this address')
    const auth = await this.authenticate(req, ip)
    if ('close' in auth) return this.doomed(ip, auth.close)
    if (!('data' in auth)) {
      this.ips.release(ip)
      return this.refused(auth.status, auth.message)
    }
    if (this.o.draining() || req.socket.destroyed) {
      this.ips.release(ip)
      return this.refused(503, 'server is shutting down')
    }
    return {
      ok: true,
      open: (transport) => this.o.open(transport, auth, ip, req),
      cancel: () => {
        this.ips.release(ip)
        this.refusedCount++
      },
    }
  }

  /**
   * Upgraded, then closed at once with a close code (counted as a refusal): the client learns the
   * code — 1013 to back off, 4001/4003 to stop — where an HTTP status would reach a browser as 1006.
   */
  private doomed(ip: string, close: Doomed['close']): Admission {
    const done = () => {
      this.ips.release(ip)
      this.refusedCount++
    }
    return {
      ok: true,
      open: (transport) => {
        transport.close(close.code, close.reason)
        done()
      },
      cancel: done,
    }
  }

  /** Gives back a closed connection's per-IP slot. */
  release(ip: string): void {
    this.ips.release(ip)
  }

  /** Counts a refusal, here or by the front door's own checks (a bad upgrade, a foreign Origin). */
  refused(status: number, message: string): Refusal {
    this.refusedCount++
    return { ok: false, status, message }
  }

  /** The handshake's authentication (`tokenAuth` or `authenticate`). */
  private async authenticate(req: IncomingMessage, ip: string): Promise<Authenticated | Refusal | Doomed> {
    const { sessions, authenticate } = this.o
    if (sessions) {
      let credentials: Credentials<unknown> | undefined
      try {
        credentials = await sessions.fromRequest(req)
      } catch (err) {
        if (err instanceof CloseConnection) return { close: { code: err.closeCode, reason: err.message } }
        const code = err instanceof SwitchboardError ? err.code : undefined
        if (code === ErrorCode.UNAVAILABLE) return { ok: false, status: 503, message: 'try again later' }
        if (code === ErrorCode.FORBIDDEN) return { ok: false, status: 403, message: 'forbidden' }
        return { ok: false, status: 401, message: 'unauthorized' }
      }
      return { data: credentials ? credentials.data : {}, credentials }
    }
    if (authenticate) {
      try {
        return { data: await authenticate(req), credentials: undefined }
      } catch (err) {
        if (!(err instanceof SwitchboardError)) this.o.log.warn(`authentication refused from ${ip}`)
        return { ok: false, status: 401, message: 'unauthorized' }
      }
    }
    return { data: {}, credentials: undefined }
  }
}
