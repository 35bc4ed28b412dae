/**
 * Request handlers: `sb.handle(event, schema?, handler)`. A request's data is checked against the
 * handler's Standard Schema validator (zod, valibot, arktype… — anything with `~standard`) before
 * the handler sees it; a failure is answered with `invalid_payload` and the validator's issues.
 * The handler's return value is the reply; a thrown SwitchboardError chooses the error code;
 * anything else thrown becomes `internal`, and its message stays on the server.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec'
import { type ErrorBody, ErrorCode, type JsonValue } from '@switchboard/protocol'
import { errorBody, isExpected } from '../errors.js'
import { issuesToJson, validate } from '../schemas/validate.js'

export type HandlerResult = { ok: true; data: JsonValue | undefined } | { ok: false; error: ErrorBody }

// The registry is untyped inside: the public `handle` signature ties each handler to its event.
export type AnyHandler<C> = (conn: C, data: unknown) => unknown

interface Entry<C> {
  schema: StandardSchemaV1 | undefined
  handler: AnyHandler<C>
  /** The reply's validator (`schemas.requests[event].reply`): a reply that fails it is a bug, answered `internal`. */
  reply: StandardSchemaV1 | undefined
}

export class HandlerRegistry<C> {
  private readonly entries = new Map<string, Entry<C>>()

  constructor(
    private readonly onError: (err: unknown, event: string) => void,
    /** Answers an event without a handler (the proxy's `rpc`); undefined when it does not take it either. */
    private readonly fallback?: (
      conn: C,
      event: string,
      data: JsonValue | undefined,
    ) => Promise<HandlerResult> | undefined,
  ) {}

  register(
    event: string,
    schema: StandardSchemaV1 | undefined,
    handler: AnyHandler<C>,
    reply?: StandardSchemaV1,
  ): void {
    if (this.entries.has(event)) throw new Error(`a handler for "${event}" is already registered`)
    this.entries.set(event, { schema, handler, reply })
  }

  has(event: string): boolean {
    return this.entries.has(event)
  }

  /**
   * Runs the event's handler. A handler without a schema that answers synchronously is answered
   * synchronously (no promise per request on the common path); otherwise a promise.
   */
  dispatch(conn: C, event: string, data: JsonValue | undefined): HandlerResult | Promise<HandlerResult> {
    const entry = this.entries.get(event)
    if (!entry) {
      const answered = this.fallback?.(conn, event, data)
      if (answered) return answered
      return { ok: false, error: { code: ErrorCode.UNKNOWN_EVENT, message: `no handler for "${event}"` } }
    }
    if (entry.schema || entry.reply) return this.validated(entry, conn, event, data)
    try {
      const reply = entry.handler(conn, data)
      if (typeof (reply as PromiseLike<unknown> | null)?.then === 'function') {
        return Promise.resolve(reply).then(
          (value): HandlerResult => ({ ok: true, data: value as JsonValue | undefined }),
          (err: unknown) => this.failed(err, event),
        )
      }
      return { ok: true, data: reply as JsonValue | undefined }
    } catch (err) {
      return this.failed(err, event)
    }
  }

  private async validated(
    entry: Entry<C>,
    conn: C,
    event: string,
    data: JsonValue | undefined,
  ): Promise<HandlerResult> {
    let reply: unknown
    try {
      let input: unknown = data
      if (entry.schema) {
        let result = entry.schema['~standard'].validate(data)
        if (result instanceof Promise) result = await result
        if (result.issues) {
          return {
            ok: false,
            error: {
              code: ErrorCode.INVALID_PAYLOAD,
              message: 'payload failed validation',
              details: issuesToJson(result.issues),
            },
          }
        }
        input = result.value
      }
      reply = await entry.handler(conn, input)
    } catch (err) {
      return this.failed(err, event)
    }
    if (entry.reply) {
      try {
        reply = await validate(entry.reply, reply, `the reply to "${event}"`)
      } catch (err) {
        // The handler broke its own contract: the server's bug, not the client's — logged, `internal`.
        this.onError(err, event)
        return { ok: false, error: errorBody(undefined) }
      }
    }
    return { ok: true, data: reply as JsonValue | undefined }
  }

  private failed(err: unknown, event: string): HandlerResult {
    if (!isExpected(err)) this.onError(err, event)
    return { ok: false, error: errorBody(err) }
  }
}
