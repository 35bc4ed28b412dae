/**
 * Events for one connection (`sb.sendTo`), delivered to the node that holds it. A node's
 * connection ids start with its node id, so an event goes straight to that node's own pub/sub
 * channel — one node receives it, not all of them — and PUBLISH's count of receivers says whether
 * that node is still there. At most once, like the pub/sub it rides on: nothing is kept for a
 * node that is down or a connection that is gone.
 */

import type { RoutedEvent, RouteHandler } from '@switchboard/broker'
import type { DataValue } from '@switchboard/protocol'
import type { Commands } from './connections.js'
import type { Keys } from './keys.js'
import type { PubSub } from './pubsub.js'
import { dataJson, parse } from './wire.js'

export class NodeRoutes {
  private handler: RouteHandler | undefined
  private readonly inbox: string

  constructor(
    private readonly redis: Commands,
    private readonly sub: PubSub,
    private readonly keys: Keys,
    private readonly nodeId: string,
  ) {
    this.inbox = keys.route(nodeId)
    sub.onMessage((name, payload) => {
      if (name === this.inbox) this.deliver(payload)
    })
  }

  /** Subscribes to this node's inbox (ioredis subscribes again after every reconnect). */
  async start(): Promise<void> {
    await this.sub.subscribe(this.inbox)
  }

  onRoute(handler: RouteHandler): void {
    this.handler = handler
  }

  async route(connectionId: string, routed: RoutedEvent): Promise<boolean> {
    const dot = connectionId.indexOf('.')
    if (dot <= 0) return false
    const node = connectionId.slice(0, dot)
    // Our own connection: no round trip through Redis.
    if (node === this.nodeId) return this.handler?.(connectionId, routed) ?? false
    const payload =
      routed.data === undefined
        ? JSON.stringify([connectionId, routed.event])
        : dataJson([connectionId, routed.event, routed.data])
    return (await this.sub.publish(this.redis, this.keys.route(node), payload)) > 0
  }

  private deliver(payload: string): void {
    const parsed = parse(payload)
    if (!Array.isArray(parsed) || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string') return
    const routed: RoutedEvent =
      parsed.length > 2 ? { event: parsed[1], data: parsed[2] as DataValue } : { event: parsed[1] }
    this.handler?.(parsed[0], routed)
  }
}
