/**
 * The `subscribe` and `publish` hooks: what `Subscriptions` asks after the application's own
 * `authorize` checks, for channels one of their patterns matches. Both throw SwitchboardError:
 * `forbidden` for a refusal (the backend's `error`, or an answer that is malformed),
 * `unavailable` when the backend cannot answer now.
 */
import { ErrorCode, type JsonValue } from '@switchboard/protocol'
import type { ClientConnection } from '../connection/connection.js'
import { SwitchboardError } from '../errors.js'
import type { CallResult, HookCaller } from './hook-caller.js'
import { fromHookData } from './hook-data.js'
import { SHAPES } from './hook-shapes.js'
import type { HookTable } from './hook-table.js'

/** The proxy's part in channel operations, as `Subscriptions` sees it. */
export interface ChannelProxy {
  /** Allowed: the presence info the member gets on this channel, if the backend gave one. */
  subscribe(conn: ClientConnection, channel: string): Promise<{ info?: JsonValue }> | undefined
  /** Allowed: the data that replaces the publication's, if the backend gave one. */
  publish(conn: ClientConnection, channel: string, data: JsonValue): Promise<{ data?: JsonValue }> | undefined
}

/** What every hook after connect is told of the connection. */
export type ConnectionContext = (conn: ClientConnection, caller: HookCaller) => object

export function channelProxy(
  tables: { subscribe: HookTable | undefined; publish: HookTable | undefined },
  context: ConnectionContext,
): ChannelProxy {
  return {
    subscribe(conn, channel) {
      const caller = tables.subscribe?.get(channel)
      if (!caller) return undefined
      const body = { ...context(conn, caller), channel }
      return caller.call(body, SHAPES.subscribe.check, SHAPES.subscribe.describe).then((answer) => {
        const value = decided(answer, `may not subscribe to "${channel}"`)
        if ('error' in value) throw refused(value.error.message, `may not subscribe to "${channel}"`)
        const info = value.result.info
        return info === undefined ? {} : { info: fromHookData(info) }
      })
    },
    publish(conn, channel, data) {
      const caller = tables.publish?.get(channel)
      if (!caller) return undefined
      const body = { ...context(conn, caller), channel, data }
      return caller.call(body, SHAPES.publish.check, SHAPES.publish.describe).then((answer) => {
        const value = decided(answer, `may not publish to "${channel}"`)
        if ('error' in value) throw refused(value.error.message, `may not publish to "${channel}"`)
        // `"data": null` is a replacement with null; a missing `data` keeps the client's.
        return 'data' in value.result ? { data: fromHookData(value.result.data) } : {}
      })
    },
  }
}

/** The backend's answer, or the throw for a failure: `unavailable`, or a denial when malformed. */
function decided<T>(answer: CallResult<T>, denial: string): T {
  if (answer.ok) return answer.value
  if (answer.failure === 'unavailable') {
    throw new SwitchboardError(ErrorCode.UNAVAILABLE, 'the application could not decide; try again')
  }
  throw new SwitchboardError(ErrorCode.FORBIDDEN, denial)
}

function refused(message: string | undefined, fallback: string): SwitchboardError {
  return new SwitchboardError(ErrorCode.FORBIDDEN, message ?? fallback)
}
