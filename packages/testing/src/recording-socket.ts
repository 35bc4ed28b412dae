/**
 * A recording WebSocket client: a `ws` socket offering `switchboard.v1` that keeps every frame
 * the server sends (parsed), waits for them by type, tells how the connection closed, and can stop
 * reading (as a client that falls behind).
 */
import type { ServerFrame } from '@switchboard/protocol'
import WebSocket from 'ws'
import { FrameLog } from './frame-log.js'

/** Records frames of type `F` (the protocol's server frames unless told otherwise). */
export class RecordingSocket<F extends { type: string } = ServerFrame> extends FrameLog<F> {
  constructor(readonly ws: WebSocket) {
    super()
    ws.on('message', (data) => this.push(JSON.parse(String(data)) as F))
    ws.on('close', (code, reason) => this.markClosed({ code, reason: reason.toString() }))
    ws.on('error', () => {})
  }

  /** Sends a frame: a string as it is, anything else as JSON. */
  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  }

  /** Stops reading the socket: what the server sends backs up in the TCP buffers. */
  pause(): void {
    this.ws.pause()
  }

  resume(): void {
    this.ws.resume()
  }

  /** Drops the connection without a close handshake. */
  dispose(): void {
    this.ws.terminate()
  }
}

/** The recording socket most tests use: frames typed as the protocol's server frames. */
export type TestClient = RecordingSocket<ServerFrame>

/** Opens a recording socket to `url` and waits for (and consumes) its `hello`. */
export async function connect<F extends { type: string } = ServerFrame>(
  url: string,
  protocols: string | string[] = 'switchboard.v1',
): Promise<RecordingSocket<F>> {
  const client = new RecordingSocket<F>(new WebSocket(url, protocols))
  await new Promise<void>((resolve, reject) => {
    client.ws.once('open', () => resolve())
    client.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
    client.ws.once('error', reject)
  })
  await client.next('hello' as F['type'])
  return client
}
