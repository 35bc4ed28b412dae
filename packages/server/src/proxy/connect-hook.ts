/**
 * The `connect` and `refresh` hooks, as a `TokenAuth`: the server's token sessions then do the
 * rest (the expiry, the `refresh` frame before it, closing with 4001 at it, the subject pinned
 * for the connection's life). `connect` is asked for every handshake, token or not; `refresh`
 * for each `auth` frame of a connected client.
 *
 * | connect answers               | the client gets                                           |
 * | ----------------------------- | --------------------------------------------------------- |
 * | `result`                      | connected: user, data, expiry; its `channels` subscribed  |
 * | `error` unauthorized/forbidden| HTTP 401 / 403, no socket                                 |
 * | `disconnect` {code}           | upgraded, then closed with that code                      |
 * | down, slow, 5xx               | upgraded, then closed with 1013 (try again later)         |
 * | malformed                     | HTTP 403 (a denial)                                       |
 */
import type { IncomingMessage } from 'node:http'
import { CloseCode, ErrorCode, isValidChannel } from '@switchboard/protocol'
import type { Credentials, SessionConnection, TokenAuth } from '../auth/auth-session.js'
import { CloseConnection } from '../auth/auth-session.js'
import { SwitchboardError } from '../errors.js'
import { type Forwarded, forwardedFor, handshakeToken } from './forwarded.js'
import type { HookCaller } from './hook-caller.js'
import { SHAPES } from './hook-shapes.js'
import type { ProxyHook } from './proxy-options.js'

export type ConnectionData = Record<string, unknown> & { userId: string }

export interface ConnectHookOptions {
  connect: { caller: HookCaller; hook: ProxyHook }
  refresh: { caller: HookCaller } | undefined
  /** The handshake values kept for a connection (for `refresh` and the later hooks). */
  forwardedOf: (conn: SessionConnection) => Forwarded
  /** Where an allowed handshake's `channels` wait for its connection to open. */
  channelsFor: WeakMap<IncomingMessage, readonly string[]>
}

const unavailable = () =>
  new CloseConnection(ErrorCode.UNAVAILABLE, CloseCode.TRY_AGAIN_LATER, 'try again later')

export function connectTokenAuth(o: ConnectHookOptions): TokenAuth<ConnectionData> {
  const { caller } = o.connect
  return {
    async fromRequest(req) {
      const token = handshakeToken(req)
      const body = {
        remoteAddress: req.socket.remoteAddress ?? null,
        ...(token === undefined ? {} : { token }),
        ...forwardedFor(req, o.connect.hook),
      }
      const answer = await caller.call(body, SHAPES.connect.check, SHAPES.connect.describe)
      if (!answer.ok) {
        if (answer.failure === 'unavailable') throw unavailable()
        throw new SwitchboardError(ErrorCode.FORBIDDEN, 'connection refused')
      }
      const value = answer.value
      if ('error' in value)
        throw new SwitchboardError(value.error.code, value.error.message ?? value.error.code)
      if ('disconnect' in value) {
        throw disconnect(value.disconnect.code, value.disconnect.reason)
      }
      const { user, data, channels, expiresAt } = value.result
      const bad = channels?.find((channel) => !isValidChannel(channel))
      if (bad !== undefined) {
        caller.malformed('a channel name in "channels" is not valid')
        throw new SwitchboardError(ErrorCode.FORBIDDEN, 'connection refused')
      }
      if (channels?.length) o.channelsFor.set(req, channels)
      return credentials(user, data ?? {}, expiresAt)
    },

    async verify(token, conn) {
      const refresh = o.refresh
      if (!refresh)
        throw new SwitchboardError(ErrorCode.UNAUTHORIZED, 'this server takes no tokens after connect')
      const data = conn.data as ConnectionData
      const body = { connectionId: conn.id, user: data.userId, token, ...o.forwardedOf(conn) }
      const answer = await refresh.caller.call(body, SHAPES.refresh.check, SHAPES.refresh.describe)
      if (!answer.ok) {
        if (answer.failure === 'unavailable') {
          throw new SwitchboardError(ErrorCode.UNAVAILABLE, 'the token could not be checked; try again later')
        }
        throw new SwitchboardError(ErrorCode.UNAUTHORIZED, 'token refused')
      }
      const value = answer.value
      if ('error' in value)
        throw new SwitchboardError(value.error.code, value.error.message ?? value.error.code)
      if ('disconnect' in value) {
        throw disconnect(value.disconnect.code, value.disconnect.reason)
      }
      const { userId, ...rest } = data
      return credentials(userId, value.result.data ?? rest, value.result.expiresAt)
    },
  }
}

/** A backend's `disconnect`: the close, and the error code an `auth` frame is answered with. */
function disconnect(code: number, reason = ''): CloseConnection {
  const answer =
    code === CloseCode.AUTH_FAILED
      ? ErrorCode.UNAUTHORIZED
      : code === CloseCode.TRY_AGAIN_LATER
        ? ErrorCode.UNAVAILABLE
        : ErrorCode.FORBIDDEN
  return new CloseConnection(answer, code, reason)
}

/**
 * conn.data is the backend's `data` with `userId` (the `user`), as jwtAuth's is the payload with
 * `sub`. A hook's answer has no token id: it is issued when the hook allowed it, so
 * `sb.revoke({ user })` closes the connections it allowed until then, and the hook decides the
 * next ones.
 */
function credentials(user: string, data: Record<string, unknown>, expiresAt: number | undefined) {
  const out: Credentials<ConnectionData> = {
    data: { ...data, userId: user },
    subject: user,
    issuedAt: Date.now(),
  }
  // Seconds since the epoch, as a JWT's `exp`.
  if (expiresAt !== undefined) out.expiresAt = expiresAt * 1000
  return out
}
