/**
 * The client side of the transport contract: what the suite needs from a raw protocol client on
 * any transport, and one factory per transport (the recording WebSocket, the SSE client, the
 * long-polling client). Each factory resolves once `hello` has arrived.
 */
import type { CloseInfo, SeenFrame } from '../frame-log.js'
import { httpBase } from '../http-url.js'
import { PollClient } from '../poll-client.js'
import { connect } from '../recording-socket.js'
import { SseClient } from '../sse-client.js'

export interface ContractClient {
  /** Every frame received, in order, `hello` first; the HTTP transports' `close` included. */
  readonly frames: readonly SeenFrame[]
  /** The next not yet consumed frame of this type (and matching `where`), waiting up to 5 s. */
  next<T extends SeenFrame['type']>(
    type: T,
    where?: (f: Extract<SeenFrame, { type: T }>) => boolean,
  ): Promise<Extract<SeenFrame, { type: T }>>
  /** Settles with the close code and reason as the client saw them (1006: ended without one). */
  readonly closed: Promise<CloseInfo>
  /** Sends one frame (a string as it is, raw); resolves once the server has it. */
  send(frame: string | object): void | Promise<void>
  /** Stops reading what the server sends (the stream, the socket, the polls). */
  pause(): void
  resume(): void
  /** Drops the connection from the client's side (resolving, if it must wait, once it is gone). */
  dispose(): void | Promise<void>
}

/** Opens a client to the server whose WebSocket URL is `url` (`ws://host:port/ws`). */
export type ClientFactory = (url: string) => Promise<ContractClient>

export const websocketClient: ClientFactory = (url) => connect<SeenFrame>(url)

export const sseClient: ClientFactory = async (url) => {
  const client = await SseClient.open(httpBase(url))
  await client.next('hello')
  return client
}

export const longPollingClient: ClientFactory = async (url) => {
  const client = await PollClient.open(httpBase(url))
  client.start()
  await client.next('hello')
  return client
}
