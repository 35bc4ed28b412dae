/**
 * Refusing a request whose body is still coming (a 413): the answer is written at once, but the
 * response — and with it the socket — ends only once the client has finished sending, its bytes
 * read and dropped, for at most LINGER_MS. Closing earlier, with unread bytes in flight, resets
 * the connection, and a client still writing its body would lose the answer along with it.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'

const LINGER_MS = 5000

/** Writes `status`, `headers` and `body` now; ends once the request's body is done (or after LINGER_MS). */
export function answerLingering(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  headers: OutgoingHttpHeaders,
  body: string,
): void {
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body), connection: 'close' })
  res.write(body)
  const linger = setTimeout(() => req.socket.destroy(), LINGER_MS)
  linger.unref()
  const finish = () => {
    clearTimeout(linger)
    res.end()
  }
  req.on('end', finish).on('error', finish).resume()
}
