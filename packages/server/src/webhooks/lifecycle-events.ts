/**
 * Which lifecycle events this node decides, and when: a connection's `connection.open` once it is
 * announced (authenticated) and its `connection.close` when it closes — each connection lives on
 * exactly one node, so that node alone decides both, in that order. The events go to the
 * webhooks' queue in the broker (webhooks.ts).
 */
import type { Broker } from '@switchboard/broker'
import type { PresenceMember } from '@switchboard/protocol'
import type { Logger } from '../api.js'
import type { ClientConnection } from '../connection/connection.js'
import type { ConnectionRegistry } from '../connection/connection-registry.js'
import type { WebhooksOptions } from './webhook-options.js'
import { Webhooks } from './webhooks.js'

export function lifecycleWebhooks(
  options: WebhooksOptions,
  broker: Broker,
  registry: ConnectionRegistry,
  memberOf: (conn: ClientConnection) => PresenceMember,
  log: Logger,
): Webhooks {
  const webhooks = new Webhooks(options.receivers, broker, log, options)
  const node = broker.nodeId
  const where = node === undefined ? {} : { node }
  // Only a connection that was announced has a `connection.open`, so only it gets a close.
  const announced = new WeakSet<ClientConnection>()
  if (webhooks.wants('connection.open') || webhooks.wants('connection.close')) {
    registry.listeners.connection.add((conn) => {
      announced.add(conn)
      webhooks.record({ type: 'connection.open', connection: conn.id, user: memberOf(conn).userId, ...where })
    })
    registry.listeners.disconnect.add((conn, { code, reason }) => {
      if (!announced.has(conn)) return
      webhooks.record({
        type: 'connection.close',
        connection: conn.id,
        user: memberOf(conn).userId,
        ...where,
        data: { code, reason },
      })
    })
  }
  void webhooks.start()
  return webhooks
}
