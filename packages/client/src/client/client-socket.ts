/**
 * The socket under a SwitchboardClient: a ReconnectingWebSocket on the server's URLs — or, with
 * the `share` option, on this tab's link to the connection the tabs share (which speaks JSON) —
 * with the subprotocols of the codec, the client's backoff and deadlines, and no queue of its own
 * (the client queues frames itself, once the handshake is done); and how a frame goes on it.
 */
import { decodeClientFrame, SUBPROTOCOL } from '@switchboard/protocol'
import { ReconnectingWebSocket } from '../transport/reconnecting-websocket.js'
import type { ClientCodec, SwitchboardClientOptions } from './client-types.js'

export function clientSocket(
  url: string | readonly string[],
  options: SwitchboardClientOptions,
  connectTimeout: number,
  /** The `resume` query of each new connection (the channels' positions). */
  query: () => string,
): { rws: ReconnectingWebSocket; codec: ClientCodec | undefined } {
  // A shared connection (see the `share` option) is this tab's link to it, and speaks JSON.
  const shared = options.share
    ? options.share.socket({
        urls: typeof url === 'string' ? [url] : url,
        WebSocket: options.WebSocket,
        transports: options.transports,
      })
    : undefined
  const codec = shared ? undefined : options.codec
  const rws = new ReconnectingWebSocket(url, {
    protocols: codec ? [codec.subprotocol, SUBPROTOCOL] : SUBPROTOCOL,
    binaryType: 'arraybuffer',
    ...(shared ? { WebSocket: shared } : options.WebSocket ? { WebSocket: options.WebSocket } : {}),
    ...(options.transports && !shared ? { transports: options.transports } : {}),
    ...(options.backoff ? { backoff: options.backoff } : {}),
    maxAttempts: options.maxAttempts ?? Number.POSITIVE_INFINITY,
    minUptime: options.minUptime ?? 5_000,
    connectTimeout,
    // This client queues frames itself, and only once the handshake is done.
    maxQueue: 0,
    startClosed: true,
    query,
  })
  return { rws, codec }
}

/**
 * How the request table's frames go on the socket. Frames are made as JSON text once, when made;
 * a connection that chose the binary codec gets each one re-encoded as it goes out (and sized so).
 */
export function wireTransport(
  rws: ReconnectingWebSocket,
  codec: ClientCodec | undefined,
): { transport: { send(text: string): boolean }; wireSize(text: string): number | undefined } {
  const packed = () => codec !== undefined && rws.protocol === codec.subprotocol
  const pack = (text: string) => codec!.encode(decodeClientFrame(text))
  return {
    transport: { send: (text) => rws.send(packed() ? pack(text) : text) },
    wireSize: (text) => (packed() ? pack(text).byteLength : undefined),
  }
}
