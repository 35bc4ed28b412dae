/**
 * The HTTP front door: the server's plain requests (`/healthz`, the HTTP API under `/api/`, the SSE
 * and long-poll endpoints, the application's `onRequest`, else 404), its upgrades (routed by path, checked, admitted, then
 * handed to `ws`), and — on an application's own server — taking over its request listeners so the
 * HTTP transports are served first, and handing them back on close.
 */
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
import { MSGPACK_SUBPROTOCOL } from '@switchboard/protocol/msgpack'
import { WebSocketServer } from 'ws'
import type { ServerAddress } from '../api.js'
import type { AdmissionControl } from '../auth/admission.js'
import { WsTransport, type WsTransportOptions } from '../transport/ws-transport.js'
import type { HttpTransports } from './http-transports.js'
import { pathnameOf } from './pathname.js'
import { checkHandshake, chooseProtocol, refuse } from './upgrade.js'

export interface FrontDoorOptions {
  /** An application's server to attach to; else one is created and listens on `port`. */
  server: Server | HttpsServer | undefined
  port: number
  host: string | undefined
  /** Milliseconds, on a created server: the headers of a request, and a whole request. */
  headersTimeout: number
  requestTimeout: number
  /** The WebSocket path. */
  path: string
  maxPayload: number
  /** The SSE and long-poll endpoints (unless both are turned off). */
  http: HttpTransports | undefined
  admission: AdmissionControl
  wsOptions: WsTransportOptions
  onRequest: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
  /** The HTTP API on this port (`/api/`): answers and returns true for its requests. */
  api: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined
  /** Whether the server is draining (`/healthz` answers 503). */
  draining: () => boolean
}

export class FrontDoor {
  readonly server: Server | HttpsServer
  /** Whether the server was created here (and so is listened on and closed here). */
  readonly owned: boolean
  readonly ready: Promise<ServerAddress>
  private readonly wss: WebSocketServer
  /** On an app's server: its own request listeners, which ours calls for every other request. */
  private readonly appRequestListeners: RequestListener[] | undefined

  constructor(private readonly o: FrontDoorOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: o.maxPayload,
      handleProtocols: (protocols) => chooseProtocol(protocols) ?? false,
    })
    this.owned = o.server === undefined
    // Node checks these timeouts only every connectionsCheckingInterval (30 s by default), which
    // would let a slow handshake live three times longer than it may: check often enough.
    const connectionsCheckingInterval = Math.max(100, Math.min(1000, o.headersTimeout / 4))
    this.server =
      o.server ?? createServer({ connectionsCheckingInterval }, (req, res) => this.onRequest(req, res))
    this.server.on('upgrade', this.onUpgrade)
    if (!this.owned && (o.http || o.api)) {
      // The SSE and long-poll requests must reach us before the app's handler (an Express app
      // would answer them 404): the server's request listeners as they are now are replaced by
      // one that takes ours and passes everything else on. `detach` puts them back.
      this.appRequestListeners = this.server.listeners('request') as RequestListener[]
      this.server.removeAllListeners('request')
      this.server.on('request', this.onAppRequest)
    }
    if (this.owned) {
      // A handshake trickled in one byte at a time must not hold a socket for minutes.
      this.server.headersTimeout = o.headersTimeout
      this.server.requestTimeout = o.requestTimeout
      this.server.listen(o.port, o.host)
    }
    this.ready = this.whenListening()
  }

  /** Stops a created server from accepting; resolves once it has closed (at once on an app's server). */
  stopListening(): Promise<void> {
    if (!this.owned) return Promise.resolve()
    return new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  /** Unhooks from the server, gives an app's server its listeners back, and drops idle sockets. */
  detach(): void {
    this.server.off('upgrade', this.onUpgrade)
    if (this.appRequestListeners) {
      this.server.off('request', this.onAppRequest)
      for (const listener of this.appRequestListeners) this.server.on('request', listener)
    }
    this.wss.close()
    if (this.owned) (this.server as Server).closeAllConnections()
  }

  /** On an app's server: SSE and long-poll requests first, then the app's own listeners, in order. */
  private readonly onAppRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (this.o.api?.(req, res) || this.o.http?.handle(req, res)) return
    for (const listener of this.appRequestListeners ?? []) listener.call(this.server, req, res)
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (pathnameOf(req.url) === '/healthz') {
      const ok = !this.o.draining()
      res
        .writeHead(ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' })
        .end(ok ? 'ok\n' : 'draining\n')
      return
    }
    if (this.o.api?.(req, res) || this.o.http?.handle(req, res)) return
    if (this.o.onRequest) this.o.onRequest(req, res)
    else res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n')
  }

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (pathnameOf(req.url) !== this.o.path) {
      // On a shared server another upgrade listener may own this path.
      if (this.owned || this.server.listenerCount('upgrade') <= 1) {
        this.refuse(socket, 404, 'not found')
      }
      return
    }
    // A reset during the handshake must not become an uncaught error.
    socket.on('error', () => socket.destroy())
    const check = checkHandshake(req, { origins: this.o.admission.origins })
    if (!check.ok) {
      this.refuse(socket, check.status, check.message, check.headers)
      return
    }
    void this.accept(req, socket, head)
  }

  /** A well-formed upgrade: the checks every transport shares (admission), then the WebSocket. */
  private async accept(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const admission = await this.o.admission.admit(req)
    // A refusal by admit is counted there already.
    if (!admission.ok) return refuse(socket, admission.status, admission.message)
    // ws writes the 101 response and calls back synchronously: corked, the hello leaves in the
    // same write as the response (one syscall per handshake, not two). When it does not call back
    // — it refused the upgrade, or the peer is gone — no connection results, and admission gets
    // its slot back.
    let opened = false
    socket.cork()
    try {
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        opened = true
        const packed = ws.protocol === MSGPACK_SUBPROTOCOL
        const transport = new WsTransport(ws, socket, { ...this.o.wsOptions, packed })
        admission.open(transport)
        transport.flush()
      })
    } finally {
      socket.uncork()
      if (!opened) admission.cancel()
    }
  }

  /** Refuses an upgrade on its socket with an HTTP status; counted with admission's refusals. */
  private refuse(socket: Duplex, status: number, message: string, headers?: Record<string, string>): void {
    this.o.admission.refused(status, message)
    refuse(socket, status, message, headers)
  }

  private whenListening(): Promise<ServerAddress> {
    const address = (): ServerAddress => {
      const info = this.server.address() as AddressInfo
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address
      const shown = info.address === '::' || info.address === '0.0.0.0' ? 'localhost' : host
      const scheme = 'cert' in this.server || 'key' in this.server ? 'wss' : 'ws'
      return { host: info.address, port: info.port, url: `${scheme}://${shown}:${info.port}${this.o.path}` }
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
}
