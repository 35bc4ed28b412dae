/**
 * The proxy's wiring: from the `proxy` option, the parts the server plugs in where its own code
 * would otherwise decide — a `TokenAuth` for connect and refresh, the channel decisions
 * `Subscriptions` asks after `authorize`, the fallback for requests without a handler — and
 * `opened`, which the connection registry calls for every new connection: it keeps the
 * handshake's forwarded headers and cookies for the later hooks, and subscribes the channels the
 * connect hook gave.
 */
import type { IncomingMessage } from 'node:http'
import type { Logger } from '../api.js'
import type { TokenAuth } from '../auth/auth-session.js'
import type { ClientConnection } from '../connection/connection.js'
import { type ChannelProxy, channelProxy } from './channel-hooks.js'
import { type ConnectionData, connectTokenAuth } from './connect-hook.js'
import { type Forwarded, forwardedFor } from './forwarded.js'
import { HookCaller } from './hook-caller.js'
import { HookTable } from './hook-table.js'
import type { ProxyHook, ProxyOptions } from './proxy-options.js'
import { ReportLimiter } from './report-limiter.js'
import { type RpcProxy, rpcProxy } from './rpc-hook.js'

export interface ProxyDeps {
  log: Logger
  /** Who a connection is (its token's subject), if anyone. */
  userOf: (conn: ClientConnection) => string | undefined
}

export interface AppProxy {
  tokenAuth: TokenAuth<ConnectionData> | undefined
  channels: ChannelProxy | undefined
  rpc: RpcProxy | undefined
  /** A connection opened: keep what later hooks forward; subscribe what connect gave (through `join`). */
  opened(conn: ClientConnection, req: IncomingMessage, join: (channel: string) => Promise<unknown>): void
}

export function createProxy(options: ProxyOptions, deps: ProxyDeps): AppProxy {
  const reports = new ReportLimiter(deps.log)
  const connect = options.connect && {
    caller: new HookCaller('connect', options.connect, reports),
    hook: options.connect,
  }
  const refresh = options.refresh && {
    caller: new HookCaller('refresh', options.refresh, reports),
    hook: options.refresh,
  }
  if (refresh && !connect)
    throw new TypeError('proxy.refresh needs proxy.connect: it refreshes what connect allowed')
  const subscribe = options.subscribe && new HookTable('subscribe', options.subscribe, reports)
  const publish = options.publish && new HookTable('publish', options.publish, reports)
  const rpc = options.rpc && new HookTable('rpc', options.rpc, reports)

  // The hooks after connect that forward something from the handshake, and what each one kept.
  const forwarding = [
    ...[refresh].filter((e) => e !== undefined),
    ...[subscribe, publish, rpc].flatMap((t) => t?.entries ?? []),
  ].filter((e: { hook: ProxyHook }) => e.hook.forwardHeaders?.length || e.hook.forwardCookies?.length)
  const kept = new WeakMap<object, Map<HookCaller, Forwarded>>()
  const channelsFor = new WeakMap<IncomingMessage, readonly string[]>()

  const forwardedOf = (conn: object, caller: HookCaller): Forwarded => kept.get(conn)?.get(caller) ?? {}
  const context = (conn: ClientConnection, caller: HookCaller) => {
    const user = deps.userOf(conn)
    return { connectionId: conn.id, ...(user === undefined ? {} : { user }), ...forwardedOf(conn, caller) }
  }

  return {
    tokenAuth:
      connect &&
      connectTokenAuth({
        connect,
        refresh,
        forwardedOf: (conn) => (refresh ? forwardedOf(conn, refresh.caller) : {}),
        channelsFor,
      }),
    channels: subscribe || publish ? channelProxy({ subscribe, publish }, context) : undefined,
    rpc: rpc && rpcProxy(rpc, context),
    opened(conn, req, join) {
      if (forwarding.length)
        kept.set(conn, new Map(forwarding.map((e) => [e.caller, forwardedFor(req, e.hook)])))
      const channels = channelsFor.get(req)
      if (!channels) return
      channelsFor.delete(req)
      for (const channel of channels) {
        join(channel).catch((err: unknown) =>
          deps.log.warn(
            `subscribing ${conn.id} to "${channel}" as its connect hook said failed: ${(err as Error).message}`,
          ),
        )
      }
    },
  }
}
