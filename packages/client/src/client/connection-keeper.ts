/**
 * The life of one transport connection above its socket, from open to close: the handshake
 * (`hello`, then an `auth` frame with a fresh token from `getToken` before anything else), token
 * refresh (another `auth` whenever the server sends `refresh`), and liveness — the handshake
 * deadline and the heartbeat. Servers send WebSocket pings, which browsers cannot see; so a `ping`
 * frame goes out every interval, and any frame at all from the server counts as a sign of life.
 * Auth steps are asynchronous, so each checks that the connection it began on is still the
 * current one before it acts.
 */
import { ErrorCode, encodeFrame, type HelloFrame } from '@switchboard/protocol'
import { SwitchboardError } from '../util/errors.js'
import type { ConnectionStateReason, SwitchboardClientOptions } from './client-types.js'
import type { RequestTable } from './request-table.js'

/** What the keeper needs from its client. */
export interface KeeperHost {
  readonly requests: RequestTable
  /** Reports an `error` event. */
  error(error: SwitchboardError): void
  /** Drops the transport and reconnects with backoff. */
  drop(reason: ConnectionStateReason): void
  /** Authentication failed for good: report it and close without reconnecting. */
  authFailed(error: SwitchboardError): void
  /** The handshake is done. */
  ready(hello: HelloFrame): void
}

export interface KeeperOptions {
  getToken: SwitchboardClientOptions['getToken']
  /** Silence allowed beyond the heartbeat interval, in ms. */
  heartbeatMargin: number
  /** From the socket's open to the end of the handshake (the first `auth` included), in ms. */
  connectTimeout: number
}

export class ConnectionKeeper {
  readonly #host: KeeperHost
  readonly #options: KeeperOptions
  /** Counts transport connections, so async steps of an old one (getToken) are ignored. */
  #connection = 0
  #lastSeen = 0
  #handshakeTimer: ReturnType<typeof setTimeout> | undefined
  /** The token last sent, and the one a refresh got back unchanged from `getToken` (asked once). */
  #token: string | undefined
  #stale: string | undefined
  #pingTimer: ReturnType<typeof setInterval> | undefined
  #livenessTimer: ReturnType<typeof setTimeout> | undefined

  constructor(host: KeeperHost, options: KeeperOptions) {
    this.#host = host
    this.#options = options
  }

  /**
   * The socket opened `elapsed` ms after it was created: opening and the handshake together must
   * be done within `connectTimeout`, so the handshake gets what is left of it.
   */
  opened(elapsed: number): void {
    this.#connection++
    this.#lastSeen = Date.now()
    this.#handshakeTimer = setTimeout(
      () => this.#host.drop('handshake_timeout'),
      Math.max(0, this.#options.connectTimeout - elapsed),
    )
  }

  /** Something came from the server. */
  seen(): void {
    this.#lastSeen = Date.now()
  }

  /** The connection ended: what is still under way for it is moot, its timers stop. */
  closed(): void {
    this.#connection++
    this.#clearHandshake()
    this.#stopHeartbeat()
  }

  /** `hello` came: start the heartbeat, authenticate when there is a token, then be ready. */
  async hello(hello: HelloFrame): Promise<void> {
    const host = this.#host
    const connection = this.#connection
    host.requests.limit(hello.limits.rateLimit)
    this.#startHeartbeat(hello.heartbeat)
    const { getToken } = this.#options
    let token: string | null | undefined
    if (getToken) {
      try {
        token = await getToken()
      } catch (err) {
        if (connection !== this.#connection) return
        host.error(new SwitchboardError(ErrorCode.UNAUTHORIZED, `getToken failed: ${String(err)}`))
        host.drop('token_failed')
        return
      }
      if (connection !== this.#connection) return
    }
    if (token !== null && token !== undefined) {
      if (!(await this.#authenticate(token, connection))) return
    } else if (hello.auth === 'required') {
      // The server wants a token and we have none: fail now, not at its auth timeout.
      host.authFailed(
        new SwitchboardError(ErrorCode.UNAUTHORIZED, 'the server requires a token: set getToken'),
      )
      return
    }
    if (connection !== this.#connection) return
    this.#ready(hello)
  }

  #ready(hello: HelloFrame): void {
    this.#clearHandshake()
    this.#host.ready(hello)
  }

  /**
   * The server's token for this connection is about to expire: send a fresh one from `getToken`.
   * A failure is reported as an `error` event; the server then closes with 4001 at expiry.
   */
  async refresh(): Promise<void> {
    const host = this.#host
    const connection = this.#connection
    // The server asks again, sooner each time, while it has no fresh token: getToken is asked
    // once per token; the failure was surfaced then, and the server closes at expiry.
    if (this.#token !== undefined && this.#stale === this.#token) return
    try {
      const token = await this.#options.getToken?.()
      if (connection !== this.#connection) return
      if (token === null || token === undefined) throw new Error('getToken gave no token')
      if (token === this.#token) {
        this.#stale = token
        throw new Error('getToken returned the token that is expiring; the server closes at its expiry')
      }
      // A refresh's `auth` is a request like any other: it gets the request timeout.
      await this.#sendAuth(token, undefined)
    } catch (err) {
      if (connection !== this.#connection || (err as SwitchboardError).code === ErrorCode.DISCONNECTED) return
      host.error(
        err instanceof SwitchboardError
          ? err
          : new SwitchboardError(ErrorCode.UNAUTHORIZED, `token refresh failed: ${String(err)}`),
      )
    }
  }

  /** True once the server accepted the token; on a failure, drops or closes as it deserves. */
  async #authenticate(token: string, connection: number): Promise<boolean> {
    const host = this.#host
    try {
      await this.#sendAuth(token, this.#options.connectTimeout)
      return true
    } catch (err) {
      if (connection !== this.#connection) return false
      const error = err as SwitchboardError
      if (error.code === ErrorCode.TIMEOUT) {
        host.drop('handshake_timeout')
      } else if (error.code !== ErrorCode.DISCONNECTED) {
        host.authFailed(error)
      }
      return false
    }
  }

  /** Sends an `auth` frame at once (the handshake is not queued) and waits for its reply. */
  #sendAuth(token: string, timeout: number | undefined): Promise<unknown> {
    const { requests } = this.#host
    const frame = { type: 'auth', id: requests.nextId(), token } as const
    this.#token = token
    const request = requests.track(frame, timeout, undefined, false)
    requests.write(encodeFrame(frame), request)
    return request.promise
  }

  /**
   * Liveness is judged from the answers to the pings this client actually sent: dead only when
   * the latest ping has had no answer (nothing at all from the server) for `heartbeatMargin`
   * since it really left. Not from the time since the last message: a hidden browser tab's
   * timers wake only every few seconds, so the pings go out late, and a connection whose server
   * answers every one of them must not look silent because the timer that measures it ran late.
   */
  #startHeartbeat(interval: number): void {
    this.#stopHeartbeat()
    if (interval <= 0) return
    const margin = this.#options.heartbeatMargin
    const { requests } = this.#host
    const ping = encodeFrame({ type: 'ping' })
    let sentAt = 0
    const check = (): void => {
      if (this.#lastSeen < sentAt && Date.now() - sentAt >= margin) this.#host.drop('heartbeat_timeout')
    }
    this.#pingTimer = setInterval(() => {
      check()
      if (this.#pingTimer === undefined) return
      // A ping does not wait behind paced frames: its answer is how liveness is judged.
      requests.write(ping, undefined, false)
      sentAt = Date.now()
      clearTimeout(this.#livenessTimer)
      this.#livenessTimer = setTimeout(check, margin)
    }, interval)
  }

  #stopHeartbeat(): void {
    clearInterval(this.#pingTimer)
    clearTimeout(this.#livenessTimer)
    this.#pingTimer = undefined
    this.#livenessTimer = undefined
  }

  #clearHandshake(): void {
    clearTimeout(this.#handshakeTimer)
    this.#handshakeTimer = undefined
  }
}
