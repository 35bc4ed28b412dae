/**
 * Control commands for every node (`broker.control`): one pub/sub channel that every node
 * listens on, and one reply channel per node. A command goes out once, as
 * `[id, fromNode, type, data?]`; PUBLISH's count of receivers says how many nodes will answer,
 * each on the asking node's reply channel as `[id, node, true, data]` or `[id, node, false,
 * error]`. The caller resolves when that many answers are in, or at its timeout with those it
 * has. At most once, like all pub/sub: a node that is down or joins later never sees it.
 */

import { randomBytes } from 'node:crypto'
import {
  answerControl,
  type ControlCommand,
  type ControlHandler,
  type ControlOptions,
  type ControlReply,
  type ControlResult,
} from '@switchboard/broker'
import type { JsonValue } from '@switchboard/protocol'
import type { Commands } from './connections.js'
import type { Keys } from './keys.js'
import type { PubSub } from './pubsub.js'
import { dataJson, parse } from './wire.js'

interface Pending {
  /** Known once PUBLISH answered; answers may arrive before it does. */
  expected: number | undefined
  readonly replies: ControlReply[]
  readonly done: () => void
}

export class NodeControl {
  private handler: ControlHandler | undefined
  private readonly pending = new Map<string, Pending>()
  private readonly channel: string
  private readonly inbox: string

  constructor(
    private readonly redis: Commands,
    private readonly sub: PubSub,
    private readonly keys: Keys,
    private readonly nodeId: string,
  ) {
    this.channel = keys.control()
    this.inbox = keys.controlReplies(nodeId)
    sub.onMessage((name, payload) => {
      if (name === this.channel) void this.onCommand(payload)
      else if (name === this.inbox) this.onReply(payload)
    })
  }

  /** Listens for commands and for answers (ioredis subscribes again after every reconnect). */
  async start(): Promise<void> {
    await this.sub.subscribe(this.channel, this.inbox)
  }

  onControl(handler: ControlHandler): void {
    this.handler = handler
  }

  async control(command: ControlCommand, options: ControlOptions = {}): Promise<ControlResult> {
    const id = randomBytes(9).toString('base64url')
    const message = [id, this.nodeId, command.type, ...(command.data === undefined ? [] : [command.data])]
    const text = dataJson(message)
    let timer: NodeJS.Timeout | undefined
    const replies: ControlReply[] = []
    const finished = new Promise<void>((resolve) => {
      this.pending.set(id, { expected: undefined, replies, done: resolve })
      timer = setTimeout(resolve, options.timeoutMs ?? 5000)
    })
    try {
      const reached = await this.sub.publish(this.redis, this.channel, text)
      const pending = this.pending.get(id)
      if (pending) {
        pending.expected = reached
        if (replies.length >= reached) pending.done()
      }
      await finished
      return { reached, replies: [...replies] }
    } finally {
      clearTimeout(timer)
      this.pending.delete(id)
    }
  }

  /** Fails every command still waiting (the broker is closing): they resolve with what they have. */
  stop(): void {
    for (const pending of this.pending.values()) pending.done()
  }

  private async onCommand(payload: string): Promise<void> {
    const parsed = parse(payload)
    if (!Array.isArray(parsed) || parsed.length < 3 || parsed.length > 4) return
    const [id, from, type, data] = parsed as unknown[]
    if (typeof id !== 'string' || typeof from !== 'string' || typeof type !== 'string') return
    const command: ControlCommand = parsed.length === 4 ? { type, data: data as JsonValue } : { type }
    const reply = await answerControl(this.handler, command, this.nodeId)
    let text: string
    try {
      text = dataJson(reply.ok ? [id, this.nodeId, true, reply.data] : [id, this.nodeId, false, reply.error])
    } catch (err) {
      // An answer no codec can carry is a failed answer, never a silent one.
      text = JSON.stringify([id, this.nodeId, false, err instanceof Error ? err.message : String(err)])
    }
    await this.sub.publish(this.redis, this.keys.controlReplies(from), text).catch(() => {})
  }

  private onReply(payload: string): void {
    const parsed = parse(payload)
    if (!Array.isArray(parsed) || parsed.length !== 4) return
    const [id, node, ok, value] = parsed as unknown[]
    if (typeof id !== 'string' || typeof node !== 'string' || typeof ok !== 'boolean') return
    const pending = this.pending.get(id)
    if (!pending) return
    pending.replies.push(
      ok ? { ok: true, node, data: value as JsonValue } : { ok: false, node, error: String(value) },
    )
    if (pending.expected !== undefined && pending.replies.length >= pending.expected) pending.done()
  }
}
