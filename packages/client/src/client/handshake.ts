/**
 * The handshake after `hello`, and token refresh: a fresh token from `getToken` on every connect,
 * sent in an `auth` frame before anything else, and again whenever the server sends `refresh`
 * because the token is about to expire. Each step is asynchronous, so each checks that the
 * connection it began on is still the current one before it acts.
 */
import { type ClientFrame, ErrorCode, type HelloFrame } from '@switchboard/protocol'
import { SwitchboardError } from '../util/errors.js'
import type { ConnectionStateReason, SwitchboardClientOptions } from './client-types.js'
import type { RequestTable } from './request-table.js'

/** What the handshake needs from its client. */
export interface HandshakeHost {
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

export interface HandshakeOptions {
  getToken: SwitchboardClientOptions['getToken']
  /** The first `auth` is part of connecting: it gets the connect timeout. */
  connectTimeout: number
  /** A refresh's `auth` is a request like any other. */
  requestTimeout: number
}

export class Handshake {
  readonly #host: HandshakeHost
  readonly #options: HandshakeOptions
  /** Counts transport connections, so async steps of an old one (getToken) are ignored. */
  #connection = 0

  constructor(host: HandshakeHost, options: HandshakeOptions) {
    this.#host = host
    this.#options = options
  }

  /** A transport connection opened or ended: what is still under way for the last one is moot. */
  reset(): void {
    this.#connection++
  }

  /** `hello` came: authenticate when there is a token, then the connection is ready. */
  async hello(hello: HelloFrame): Promise<void> {
    const host = this.#host
    const connection = this.#connection
    const { getToken } = this.#options
    if (getToken) {
      let token: string | null | undefined
      try {
        token = await getToken()
      } catch (err) {
        if (connection !== this.#connection) return
        host.error(new SwitchboardError(ErrorCode.UNAUTHORIZED, `getToken failed: ${String(err)}`))
        host.drop('token_failed')
        return
      }
      if (connection !== this.#connection) return
      if (token !== null && token !== undefined) {
        if (!(await this.#authenticate(token, connection))) return
        if (connection !== this.#connection) return
        host.ready(hello)
        return
      }
    }
    if (hello.auth === 'required') {
      // The server wants a token and we have none: fail now, not at its auth timeout.
      host.authFailed(
        new SwitchboardError(ErrorCode.UNAUTHORIZED, 'the server requires a token: set getToken'),
      )
      return
    }
    if (connection !== this.#connection) return
    host.ready(hello)
  }

  /**
   * The server's token for this connection is about to expire: send a fresh one from `getToken`.
   * A failure is reported as an `error` event; the server then closes with 4001 at expiry.
   */
  async refresh(): Promise<void> {
    const host = this.#host
    const connection = this.#connection
    try {
      const token = await this.#options.getToken?.()
      if (connection !== this.#connection) return
      if (token === null || token === undefined) throw new Error('getToken gave no token')
      await this.#sendAuth(token, this.#options.requestTimeout)
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
  #sendAuth(token: string, timeout: number): Promise<unknown> {
    const { requests } = this.#host
    const id = requests.nextId()
    const frame: ClientFrame = { type: 'auth', id, token }
    const request = requests.track(id, frame, timeout, undefined, false)
    requests.transmit(frame, request)
    return request.promise
  }
}
