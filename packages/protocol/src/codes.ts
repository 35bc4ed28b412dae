/**
 * Close codes and error codes, as data. One table each, so the docs, the server and the client
 * cannot disagree: a close code says whether a client should reconnect; an error code names what
 * went wrong and which close code the server uses when that error ends a connection (`closeFor`).
 * Every row is something a server or a client really sends or observes
 * (packages/server/test/code-tables.test.ts proves it row by row).
 */

/** Whether a client that sees this close code should reconnect. */
export type CloseBand = 'normal' | 'terminal' | 'reconnect'

export interface CloseCodeInfo {
  code: number
  name: string
  band: CloseBand
  description: string
}

export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  ABNORMAL: 1006,
  INVALID_PAYLOAD_DATA: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  AUTH_FAILED: 4001,
  FORBIDDEN: 4003,
  USER_DISCONNECTED: 4004,
  TOO_MANY_CONNECTIONS: 4029,
  SLOW_CONSUMER: 4100,
  RATE_LIMITED: 4101,
  HEARTBEAT_TIMEOUT: 4102,
  RECONNECT_REQUIRED: 4103,
} as const
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

export const CLOSE_CODES: readonly CloseCodeInfo[] = [
  { code: 1000, name: 'normal', band: 'normal', description: 'Closed on purpose; do not reconnect.' },
  { code: 1001, name: 'going_away', band: 'reconnect', description: 'The server or page is going away.' },
  { code: 1002, name: 'protocol_error', band: 'terminal', description: 'The peer broke RFC 6455.' },
  {
    code: 1003,
    name: 'unsupported_data',
    band: 'terminal',
    description: 'A frame of a kind this end does not accept.',
  },
  {
    code: 1006,
    name: 'abnormal',
    band: 'reconnect',
    description: 'The connection dropped without a close frame (never sent, only observed).',
  },
  {
    code: 1007,
    name: 'invalid_payload_data',
    band: 'terminal',
    description: 'Text that is not valid UTF-8.',
  },
  {
    code: 1008,
    name: 'policy_violation',
    band: 'terminal',
    description: 'Repeated abuse: too many bad frames.',
  },
  {
    code: 1009,
    name: 'message_too_big',
    band: 'reconnect',
    description: 'A frame over maxPayload. The frame is dropped; a new connection may go on without it.',
  },
  {
    code: 1012,
    name: 'service_restart',
    band: 'reconnect',
    description: 'The server is restarting or draining.',
  },
  {
    code: 1013,
    name: 'try_again_later',
    band: 'reconnect',
    description: 'The server is overloaded; back off.',
  },
  {
    code: 4001,
    name: 'auth_failed',
    band: 'terminal',
    description: 'Missing, invalid or expired credentials.',
  },
  {
    code: 4003,
    name: 'forbidden',
    band: 'terminal',
    description: 'Authenticated, but not allowed to connect.',
  },
  {
    code: 4004,
    name: 'user_disconnected',
    band: 'terminal',
    description:
      'Closed by the application: every connection of the user (sb.disconnectUser, POST /api/disconnect); do not reconnect.',
  },
  {
    code: 4029,
    name: 'too_many_connections',
    band: 'terminal',
    description:
      'The user is at maxConnectionsPerUser: this new connection was refused, or (closeOldest) this, its oldest, was closed for a newer one.',
  },
  {
    code: 4100,
    name: 'slow_consumer',
    band: 'reconnect',
    description: 'The client read too slowly and its send buffer passed the bound; resume from history.',
  },
  {
    code: 4101,
    name: 'rate_limited',
    band: 'reconnect',
    description: 'The client sent too fast; back off first.',
  },
  {
    code: 4102,
    name: 'heartbeat_timeout',
    band: 'reconnect',
    description: 'No sign of life within the heartbeat (from a browser client: or it went offline).',
  },
  {
    code: 4103,
    name: 'reconnect_required',
    band: 'reconnect',
    description:
      'Closed by the application, which asks the client to connect again (disconnectUser with reconnect: true): to log in again, with fresh credentials.',
  },
]

const closeByCode = new Map(CLOSE_CODES.map((c) => [c.code, c]))

/** The table entry for a close code, if the protocol defines it. */
export function closeCodeInfo(code: number): CloseCodeInfo | undefined {
  return closeByCode.get(code)
}

/**
 * Whether a client should reconnect after a close with this code. Codes outside the table follow
 * their band: 4000–4099 terminal, 4100–4199 reconnect; any other unknown code reconnects, because
 * a client that gives up on an unknown code can never recover from a server upgrade.
 */
export function shouldReconnect(code: number): boolean {
  const known = closeByCode.get(code)
  if (known) return known.band === 'reconnect'
  if (code >= 4000 && code <= 4099) return false
  return true
}

export interface ErrorCodeInfo {
  code: string
  /** The close code used when this error ends the connection; undefined when it never does. */
  close?: CloseCode
  description: string
}

export const ErrorCode = {
  INVALID_JSON: 'invalid_json',
  INVALID_FRAME: 'invalid_frame',
  UNKNOWN_TYPE: 'unknown_type',
  FRAME_TOO_LARGE: 'frame_too_large',
  INVALID_CHANNEL: 'invalid_channel',
  INVALID_PAYLOAD: 'invalid_payload',
  UNKNOWN_EVENT: 'unknown_event',
  UNAUTHORIZED: 'unauthorized',
  FORBIDDEN: 'forbidden',
  NOT_SUBSCRIBED: 'not_subscribed',
  LIMIT_EXCEEDED: 'limit_exceeded',
  RATE_LIMITED: 'rate_limited',
  UNAVAILABLE: 'unavailable',
  INTERNAL: 'internal',
  TIMEOUT: 'timeout',
  DISCONNECTED: 'disconnected',
  CANCELLED: 'cancelled',
} as const
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

const ERROR_TABLE = [
  {
    code: 'invalid_json',
    close: 1008,
    description: 'The frame is not valid JSON, or its root is not an object.',
  },
  {
    code: 'invalid_frame',
    close: 1008,
    description: 'A field is missing, of the wrong type, too long, or a forbidden key (__proto__…).',
  },
  { code: 'unknown_type', close: 1008, description: 'The frame `type` is not one this side accepts.' },
  { code: 'frame_too_large', close: 1009, description: 'The frame is larger than maxPayload.' },
  {
    code: 'invalid_channel',
    close: 1008,
    description: 'The channel name is empty, too long, or has characters outside the set.',
  },
  {
    code: 'invalid_payload',
    description:
      "The data failed a schema (a request's or a channel's; `details` lists the issues), holds a value no codec carries, or is larger than the channel's `maxDataBytes`.",
  },
  { code: 'unknown_event', description: 'No handler is registered for this request event.' },
  { code: 'unauthorized', close: 4001, description: 'Authentication is missing, invalid or expired.' },
  {
    code: 'forbidden',
    close: 4003,
    description:
      'This connection may not do this (subscribe, publish, request, or a token for another subject).',
  },
  { code: 'not_subscribed', description: 'The connection is not subscribed to that channel.' },
  {
    code: 'limit_exceeded',
    description: 'A per-connection cap was reached (subscriptions, pending requests).',
  },
  { code: 'rate_limited', close: 4101, description: 'Too many frames; slow down.' },
  {
    code: 'unavailable',
    close: 1013,
    description:
      'The broker could not take the operation (it is down), or a token could not be checked: it was certainly not applied; the same call is safe to retry.',
  },
  { code: 'internal', description: 'The handler failed unexpectedly; nothing about it is exposed.' },
  {
    code: 'timeout',
    description:
      'No answer in time; the outcome is unknown. Client side: no reply arrived. Server side: the broker did not confirm a publish, which may still land; a retry with the same key lands once.',
  },
  {
    code: 'disconnected',
    description: 'Client side: the connection closed while the request was in flight.',
  },
  { code: 'cancelled', description: 'Client side: the caller aborted the request.' },
] as const satisfies readonly (ErrorCodeInfo & { code: ErrorCode })[]

export const ERROR_CODES: readonly ErrorCodeInfo[] = ERROR_TABLE

/** The error codes whose row has a close code: those that may end a connection. */
export type ClosingErrorCode = Extract<(typeof ERROR_TABLE)[number], { close: number }>['code']

// Made on first use, so a bundle that never reads the error table (the browser client) leaves it out.
let errorByCode: Map<string, ErrorCodeInfo> | undefined

/** The table entry for an error code, if the protocol defines it. */
export function errorCodeInfo(code: string): ErrorCodeInfo | undefined {
  errorByCode ??= new Map(ERROR_CODES.map((e) => [e.code, e]))
  return errorByCode.get(code)
}

/**
 * The close code used when this error ends a connection: the table's `close` column, undefined
 * for an error that never does (or a code the table does not know). Typed so that the codes that
 * do close give a close code without a check.
 */
export function closeFor(code: ClosingErrorCode): CloseCode
export function closeFor(code: string): CloseCode | undefined
export function closeFor(code: string): CloseCode | undefined {
  return errorCodeInfo(code)?.close
}
