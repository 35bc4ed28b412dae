/**
 * The HTTP API's front: routes `/api/<method>` requests — the key (401, or 403 for a publish-only
 * key on another method), the method (404, 405), the body (413, 400), the request's schema (400
 * naming each problem) — to the method, and answers JSON. Every call is counted by method and
 * status for the metrics (unknown paths as `unknown`, so a scanner cannot grow the labels).
 * Nothing here logs a key or a body: only an unexpected failure is logged, by method.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ErrorCode } from '@switchboard/protocol'
import type { Logger } from '../api.js'
import { pathnameOf } from '../http/pathname.js'
import { ApiError, errorAnswer, sendError, sendJson } from './api-error.js'
import { type ApiKey, ApiKeys, type Credential, grants } from './api-keys.js'
import { API_METHODS, type ApiContext } from './api-methods.js'
import { isStream, type StreamParts, serveStream } from './event-streams.js'
import { openApiDocument } from './openapi.js'
import { readBody } from './read-body.js'
import { METHODS, type MethodName } from './schemas.js'
import { checkRequest, compileAll } from './validation.js'

export interface HttpApiOptions {
  /**
   * The keys that may call the API; `publishOnly` keys may only publish and broadcast, `readOnly`
   * keys only the methods that read (and the streams).
   */
  keys: readonly ApiKey[]
  /** Serve the API on its own listener on this port (`0` picks one) instead of the main one. */
  port?: number
  /** The host of that listener; default the server's `host`. */
  host?: string
  /** The largest request body, in bytes; bigger ones answer 413. Default 1 MiB. */
  maxBodyBytes?: number
  /** How long a call that goes to every node waits for their answers, in ms. Default 5000. */
  commandTimeout?: number
  /**
   * On the API's own listener (`port`): answers the requests that are not under `/api/` (the
   * operations dashboard's files); default 404.
   */
  onRequest?: (req: IncomingMessage, res: ServerResponse) => void
}

export const API_PREFIX = '/api/'
const DEFAULT_MAX_BODY = 1024 * 1024

/** Requests answered, by method and HTTP status. */
export type ApiCounts = Record<string, Record<number, number>>

export class HttpApi {
  readonly counts: ApiCounts = {}
  private readonly keys: ApiKeys
  private readonly maxBody: number
  private document: string | undefined

  constructor(
    options: HttpApiOptions,
    private readonly ctx: ApiContext,
    private readonly log: Logger,
    private readonly streams: StreamParts,
  ) {
    this.keys = new ApiKeys(options.keys)
    compileAll()
    this.maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY
    if (!Number.isSafeInteger(this.maxBody) || this.maxBody < 1) {
      throw new TypeError('httpApi.maxBodyBytes must be a positive integer')
    }
  }

  /** Answers the request if it is the API's (its path starts with `/api/`); false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = pathnameOf(req.url)
    if (!path.startsWith(API_PREFIX)) return false
    void this.answer(req, res, path.slice(API_PREFIX.length))
    return true
  }

  private count(label: string, status: number): void {
    const byStatus = this.counts[label] ?? {}
    byStatus[status] = (byStatus[status] ?? 0) + 1
    this.counts[label] = byStatus
  }

  private async answer(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    if (name === 'openapi.json') return this.openApi(req, res)
    const stream = isStream(name) ? name : undefined
    const method = Object.hasOwn(METHODS, name) ? (name as MethodName) : undefined
    const label = stream ?? method ?? 'unknown'
    try {
      const caller = this.callerOf(req, method)
      if (stream) {
        if (req.method !== 'GET')
          throw new ApiError(ErrorCode.INVALID_FRAME, `${stream}: use GET`, undefined, 405)
        if (!grants(caller.access, 'read'))
          throw new ApiError(ErrorCode.FORBIDDEN, `this key may not read "${stream}"`)
        await serveStream(stream, req, res, this.streams)
        this.count(label, 200)
        return
      }
      if (!method) throw new ApiError(ErrorCode.UNKNOWN_EVENT, `no API method "${name.slice(0, 64)}"`)
      if (req.method !== 'POST') {
        throw new ApiError(ErrorCode.INVALID_FRAME, `${method}: use POST`, undefined, 405)
      }
      const need = METHODS[method].access
      if (need !== 'any' && !grants(caller.access, need)) {
        const only = caller.access === 'read' ? 'is read-only, it may' : 'may only publish,'
        throw new ApiError(ErrorCode.FORBIDDEN, `this key ${only} not call "${method}"`)
      }
      const body = await readBody(req, res, this.maxBody)
      if (body === undefined) {
        this.count(label, 413)
        return
      }
      const request = checkRequest(method, body)
      const run = API_METHODS[method] as (
        ctx: ApiContext,
        body: unknown,
        caller: Credential,
      ) => Promise<unknown>
      const answer = await run(this.ctx, request, caller)
      sendJson(res, 200, answer)
      this.count(label, 200)
    } catch (err) {
      const { status, body } = errorAnswer(err)
      if (status === 500) this.log.error(`API ${label} failed:`, err)
      const headers: Record<string, string> = {}
      if (status === 401) headers['www-authenticate'] = 'Bearer'
      if (status === 405) headers.allow = stream ? 'GET' : 'POST'
      sendError(res, status, body, headers)
      this.count(label, status)
    }
  }

  /**
   * The caller's credential; 401 without one. A dashboard link is only good for `session` (and
   * `whoami`): it is exchanged at once, and a leaked link is worth nothing after it expires.
   */
  private callerOf(req: IncomingMessage, method: MethodName | undefined): Credential {
    const caller = this.keys.credentialOf(req)
    if (!caller || (caller.via === 'link' && method !== 'session' && method !== 'whoami')) {
      throw new ApiError(ErrorCode.UNAUTHORIZED, 'a valid API key is required: Authorization: Bearer <key>')
    }
    return caller
  }

  private openApi(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(
        res,
        405,
        { code: ErrorCode.INVALID_FRAME, message: 'openapi.json: use GET' },
        { allow: 'GET, HEAD' },
      )
      this.count('openapi', 405)
      return
    }
    this.document ??= JSON.stringify(openApiDocument(this.ctx.version))
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(this.document),
    })
    res.end(req.method === 'HEAD' ? undefined : this.document)
    this.count('openapi', 200)
  }
}
