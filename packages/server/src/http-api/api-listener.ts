/**
 * The API on a listener of its own (`httpApi.port`), for an internal address the public one does
 * not expose: it answers the API's paths, and gives everything else to `onRequest` (the
 * dashboard's files) or answers 404. Closed with the server.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ErrorCode } from '@switchboard/protocol'
import { sendError } from './api-error.js'
import type { HttpApi } from './http-api.js'

export interface ApiListenerOptions {
  port: number
  host: string | undefined
  headersTimeout: number
  requestTimeout: number
  /** Answers what is not under /api/; default 404. */
  onRequest?: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
}

export class ApiListener {
  readonly server: Server
  /** Resolves with the port once listening. */
  readonly ready: Promise<AddressInfo>

  constructor(api: HttpApi, options: ApiListenerOptions) {
    this.server = createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
      if (api.handle(req, res)) return
      if (options.onRequest) options.onRequest(req, res)
      else {
        sendError(res, 404, { code: ErrorCode.UNKNOWN_EVENT, message: 'not found: the API is under /api/' })
      }
    })
    this.server.headersTimeout = options.headersTimeout
    this.server.requestTimeout = options.requestTimeout
    this.ready = new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.once('listening', () => {
        this.server.off('error', reject)
        resolve(this.server.address() as AddressInfo)
      })
    })
    this.server.listen(options.port, options.host)
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
  }
}
