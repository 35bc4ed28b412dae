/**
 * The WebSocket handshake checks that run before `ws` sees a request: method, Upgrade header,
 * key, version, subprotocol and the Origin allowlist (admission's policy). Each refusal is a
 * plain HTTP answer on the raw socket. Every parser here is a single linear pass, so a header of
 * ten thousand commas is answered as fast as a normal one.
 *
 * Subprotocol policy: a client gets the first of the ones it offers that we speak —
 * `switchboard.v1` (JSON text) or `switchboard.v1.msgpack` (MessagePack, binary messages); a client
 * that offers nothing is accepted without one, as JSON (so `websocat` works); a client that offers
 * only other protocols is refused with 400 — it expects a protocol we do not speak.
 */

import type { IncomingMessage } from 'node:http'
import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import { SUBPROTOCOL } from '@switchboard/protocol'
import { MSGPACK_SUBPROTOCOL } from '@switchboard/protocol/msgpack'
import type { OriginPolicy } from '../auth/origin-policy.js'

export interface HandshakePolicy {
  origins: OriginPolicy
}

export type HandshakeResult =
  | { ok: true; protocol: string | undefined }
  | { ok: false; status: number; message: string; headers?: Record<string, string> }

const KEY_RE = /^[+/0-9A-Za-z]{21}[AQgw]==$/
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** The offered subprotocols, or undefined if the header is malformed (a name twice is, RFC 6455 §4.1). */
export function parseProtocols(header: string): ReadonlySet<string> | undefined {
  const names = new Set<string>()
  for (const part of header.split(',')) {
    const name = part.trim()
    if (!TOKEN_RE.test(name) || names.has(name)) return undefined
    names.add(name)
  }
  return names
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

/** The subprotocol we answer an offer with: the first offered that we speak, else undefined. */
export function chooseProtocol(offered: ReadonlySet<string>): string | undefined {
  for (const name of offered) if (name === SUBPROTOCOL || name === MSGPACK_SUBPROTOCOL) return name
  return undefined
}

export function checkHandshake(req: IncomingMessage, policy: HandshakePolicy): HandshakeResult {
  if (req.method !== 'GET') return { ok: false, status: 400, message: 'WebSocket handshakes must use GET' }
  if (header(req, 'upgrade')?.toLowerCase() !== 'websocket') {
    return { ok: false, status: 400, message: 'missing or invalid Upgrade header' }
  }
  const key = header(req, 'sec-websocket-key')
  if (key === undefined || !KEY_RE.test(key)) {
    return { ok: false, status: 400, message: 'missing or invalid Sec-WebSocket-Key header' }
  }
  if (header(req, 'sec-websocket-version') !== '13') {
    // RFC 6455 §4.2.2: answer an unsupported version with 426 and the versions we do speak.
    return {
      ok: false,
      status: 426,
      message: 'unsupported Sec-WebSocket-Version',
      headers: { 'Sec-WebSocket-Version': '13' },
    }
  }
  if (!policy.origins.allows(header(req, 'origin'), false)) {
    return { ok: false, status: 403, message: 'origin not allowed' }
  }
  const offered = header(req, 'sec-websocket-protocol')
  if (offered === undefined) return { ok: true, protocol: undefined }
  const protocols = parseProtocols(offered)
  if (!protocols) return { ok: false, status: 400, message: 'invalid Sec-WebSocket-Protocol header' }
  const protocol = chooseProtocol(protocols)
  if (!protocol) {
    return {
      ok: false,
      status: 400,
      message: `unsupported subprotocol; offer ${SUBPROTOCOL} or ${MSGPACK_SUBPROTOCOL}`,
    }
  }
  return { ok: true, protocol }
}

/** Answers a refused handshake with a small HTTP response and closes the socket. */
export function refuse(
  socket: Duplex,
  status: number,
  message: string,
  headers: Record<string, string> = {},
) {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const body = `${message}\n`
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ]
  // Destroy once the answer is flushed: a refused peer gets no say in how long the socket lives.
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy())
}
