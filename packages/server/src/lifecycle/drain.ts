/**
 * Drain: how a server stops. It stops accepting — new handshakes and sessions get 503, and so does
 * `/healthz` — asks every connection to close with the given code (1012 by default, so clients
 * reconnect, to another node if there is one), waits up to `timeout` for them, cuts off the rest,
 * then stops listening, unhooks from the HTTP server and closes a broker it made itself. It
 * listens until the connections are gone: a long-polling client fetches its close frame with a
 * new request, and a load balancer's health check should see the 503, not a refused connection.
 */
import type { Broker } from '@switchboard/broker'
import { CloseCode } from '@switchboard/protocol'
import type { CloseOptions } from '../api.js'
import type { ConnectionRegistry } from '../connection/connection-registry.js'
import type { Heartbeat } from '../connection/heartbeat.js'
import type { FrontDoor } from '../http/front-door.js'

export interface DrainParts {
  heartbeat: Heartbeat
  frontDoor: FrontDoor
  registry: ConnectionRegistry
  /** The broker, when the server made it (an application's broker is the application's to close). */
  ownBroker: Broker | undefined
}

export async function drain(parts: DrainParts, options: CloseOptions = {}): Promise<void> {
  const { timeout = 10_000, code = CloseCode.SERVICE_RESTART, reason = 'server restarting' } = options
  const { heartbeat, frontDoor, registry } = parts
  heartbeat.stop()
  const open = [...registry.connections.values()]
  const allClosed = Promise.all(
    open.map((conn) => {
      const closed = registry.whenClosed(conn)
      conn.close(code, reason)
      return closed
    }),
  )
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), timeout)
  })
  const late = await Promise.race([allClosed.then(() => false), timedOut])
  clearTimeout(timer)
  if (late) {
    for (const conn of registry.connections.values()) conn.terminate(code, reason)
    await allClosed
  }
  const serverClosed = frontDoor.stopListening()
  frontDoor.detach()
  await serverClosed
  await parts.ownBroker?.close()
}
