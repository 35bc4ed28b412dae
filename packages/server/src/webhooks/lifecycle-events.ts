/**
 * Which lifecycle events this node decides, and when. A connection's `connection.open` (once it
 * is announced, i.e. authenticated) and `connection.close` are this node's alone: each connection
 * lives on one node. Users and channels span nodes, so their events are decided by the broker,
 * once for the cluster, in the step that appends them: a user's first connection anywhere is an
 * arrival (`user.online`), its last one gone a departure (`user.offline`) after the grace
 * window, unless it came back within it; likewise a channel's first and last node with local
 * subscribers (`channel.occupied`, `channel.vacated`, through the broker's occupancy index). A
 * dead node's users and channels depart through the reaper (on whichever node reaps), and every
 * node settles the due departures on a timer (whoever comes first appends each once).
 */
import type { Broker, LifecycleSubject } from '@switchboard/broker'
import type { Logger } from '../api.js'
import type { ChannelHub } from '../channels/channel-hub.js'
import type { ClientConnection } from '../connection/connection.js'
import type { ConnectionRegistry } from '../connection/connection-registry.js'
import { ReportLimiter } from '../proxy/report-limiter.js'
import type { UserIndex } from '../users/user-index.js'
import type { WebhooksOptions } from './webhook-options.js'
import { Webhooks } from './webhooks.js'

export interface LifecycleParts {
  broker: Broker
  registry: ConnectionRegistry
  users: UserIndex
  hub: ChannelHub
  /** The user a connection is indexed under. */
  userOf: (conn: ClientConnection) => string
  log: Logger
}

/** The default grace window, in ms: a page that reloads within it does not go offline. */
export const DEFAULT_GRACE_MS = 5000

export interface LifecycleWebhooks {
  webhooks: Webhooks
  /** Stops deciding (the settle timer) and sending. */
  stop(): Promise<void>
}

export function lifecycleWebhooks(options: WebhooksOptions, parts: LifecycleParts): LifecycleWebhooks {
  const { broker, registry, users, hub, userOf, log } = parts
  const webhooks = new Webhooks(options.receivers, broker, log, options)
  const { lifecycle } = webhooks
  const node = broker.nodeId
  const where = node === undefined ? {} : { node }
  const reports = new ReportLimiter(log)
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS
  const failed = (what: string) => (err: unknown) =>
    reports.report(what, `webhooks: could not decide ${what} (${String(err)})`)

  // Only a connection that was announced has a `connection.open`, so only it gets a close.
  const announced = new WeakSet<ClientConnection>()
  if (webhooks.wants('connection.open') || webhooks.wants('connection.close')) {
    registry.listeners.connection.add((conn) => {
      announced.add(conn)
      webhooks.record({ type: 'connection.open', connection: conn.id, user: userOf(conn), ...where })
    })
    registry.listeners.disconnect.add((conn, { code, reason }) => {
      if (!announced.has(conn)) return
      webhooks.record({
        type: 'connection.close',
        connection: conn.id,
        user: userOf(conn),
        ...where,
        data: { code, reason },
      })
    })
  }

  const arrive = (subject: LifecycleSubject, name: string) =>
    void lifecycle.arrive(subject, name, node).catch(failed(`${subject} arrivals`))
  const depart = (subject: LifecycleSubject, name: string) =>
    void lifecycle.depart(subject, name, graceMs).catch(failed(`${subject} departures`))
  const wantsUsers = webhooks.wants('user.online') || webhooks.wants('user.offline')
  if (wantsUsers) {
    users.transitions = (user, change) => (change === 'first' ? arrive('user', user) : depart('user', user))
    broker.users.onReapedLast?.((user) => depart('user', user))
  }
  const occupancy = broker.occupancy
  const wantsChannels = webhooks.wants('channel.occupied') || webhooks.wants('channel.vacated')
  if (wantsChannels && occupancy) {
    // One entry per node and channel in the occupancy index.
    const entry = (channel: string) => `${node ?? 'node'}\n${channel}`
    hub.occupancy = {
      occupied: (channel) =>
        void occupancy.add(channel, entry(channel), { transport: 'node' }).then((result) => {
          if (result.added && result.first) arrive('channel', channel)
        }, failed('channel arrivals')),
      vacated: (channel) =>
        void occupancy.remove(entry(channel)).then((result) => {
          if (result.last) depart('channel', channel)
        }, failed('channel departures')),
    }
    occupancy.onReapedLast?.((channel) => depart('channel', channel))
  }
  let settling: NodeJS.Timeout | undefined
  if (wantsUsers || wantsChannels) {
    settling = setInterval(
      () => void lifecycle.settle(node).catch(failed('due departures')),
      options.settleMs ?? Math.max(50, Math.min(1000, graceMs / 2)),
    )
    settling.unref()
  }
  void webhooks.start()
  return {
    webhooks,
    async stop() {
      clearInterval(settling)
      await webhooks.stop()
    },
  }
}
