/**
 * The `rpc` hook: a client's `request` whose event has no handler of its own and matches one of
 * the hook's patterns is answered by the backend — its `result.data` is the reply, its `error`
 * the reply's error (code, message, details). A backend that cannot answer now gives
 * `unavailable`; one whose answer is malformed gives `internal`, as a handler that fails
 * unexpectedly does: nothing of the answer reaches the client.
 */
import { ErrorCode, type JsonValue } from '@switchboard/protocol'
import type { ClientConnection } from '../connection/connection.js'
import type { HandlerResult } from '../requests/handlers.js'
import type { ConnectionContext } from './channel-hooks.js'
import { fromHookData } from './hook-data.js'
import { SHAPES } from './hook-shapes.js'
import type { HookTable } from './hook-table.js'

export type RpcProxy = (
  conn: ClientConnection,
  event: string,
  data: JsonValue | undefined,
) => Promise<HandlerResult> | undefined

export function rpcProxy(table: HookTable, context: ConnectionContext): RpcProxy {
  return (conn, event, data) => {
    const caller = table.get(event)
    if (!caller) return undefined
    const body = { ...context(conn, caller), event, ...(data === undefined ? {} : { data }) }
    return caller.call(body, SHAPES.rpc.check, SHAPES.rpc.describe).then((answer): HandlerResult => {
      if (!answer.ok) {
        return answer.failure === 'unavailable'
          ? {
              ok: false,
              error: { code: ErrorCode.UNAVAILABLE, message: 'the application could not answer; try again' },
            }
          : { ok: false, error: { code: ErrorCode.INTERNAL, message: 'internal error' } }
      }
      const value = answer.value
      if ('error' in value) {
        const { code, message, details } = value.error
        return {
          ok: false,
          error: {
            code,
            message: message ?? code,
            ...(details === undefined ? {} : { details: details as JsonValue }),
          },
        }
      }
      try {
        return {
          ok: true,
          data: value.result.data === undefined ? undefined : fromHookData(value.result.data),
        }
      } catch {
        caller.malformed('"result.data" holds a "$bin" that is not base64')
        return { ok: false, error: { code: ErrorCode.INTERNAL, message: 'internal error' } }
      }
    })
  }
}
