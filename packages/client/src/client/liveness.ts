/**
 * The timers that decide a connection is dead before its transport says so: the handshake
 * deadline (from the socket's open to the end of the handshake) and the heartbeat. Servers send
 * WebSocket pings, which browsers cannot see; so the client sends a `ping` frame every interval,
 * and any frame at all from the server counts as a sign of life.
 */

export interface LivenessOptions {
  /** Silence allowed beyond the heartbeat interval, in ms. */
  margin: number
  /** Sends one `ping` frame. */
  ping: () => void
  /** The server went silent past interval + margin. */
  onSilence: () => void
}

export class Liveness {
  readonly #options: LivenessOptions
  #lastSeen = 0
  #handshakeTimer: ReturnType<typeof setTimeout> | undefined
  #pingTimer: ReturnType<typeof setInterval> | undefined
  #livenessTimer: ReturnType<typeof setTimeout> | undefined

  constructor(options: LivenessOptions) {
    this.#options = options
  }

  /** Something came from the server. */
  seen(): void {
    this.#lastSeen = Date.now()
  }

  /** The socket opened: the handshake must be done within `timeout` ms, or `onTimeout`. */
  startHandshake(timeout: number, onTimeout: () => void): void {
    this.seen()
    this.#handshakeTimer = setTimeout(onTimeout, timeout)
  }

  clearHandshake(): void {
    if (this.#handshakeTimer !== undefined) clearTimeout(this.#handshakeTimer)
    this.#handshakeTimer = undefined
  }

  /** Pings every `interval` ms and watches for silence; 0 turns the heartbeat off. */
  startHeartbeat(interval: number): void {
    this.stopHeartbeat()
    if (interval <= 0) return
    const deadline = interval + this.#options.margin
    this.#pingTimer = setInterval(this.#options.ping, interval)
    const check = (): void => {
      const silent = Date.now() - this.#lastSeen
      if (silent >= deadline) this.#options.onSilence()
      else this.#livenessTimer = setTimeout(check, deadline - silent)
    }
    this.#livenessTimer = setTimeout(check, deadline)
  }

  stopHeartbeat(): void {
    if (this.#pingTimer !== undefined) clearInterval(this.#pingTimer)
    if (this.#livenessTimer !== undefined) clearTimeout(this.#livenessTimer)
    this.#pingTimer = undefined
    this.#livenessTimer = undefined
  }
}
