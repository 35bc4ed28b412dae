/**
 * The lifecycle log on Redis: one stream (`keys.lifecycle()`), trimmed to about `maxEvents`
 * entries, each `e` = the event's JSON; its id (`ms-seq`) is the event's id and its time. Each
 * webhook receiver is a consumer group created at the end of the stream, read by one consumer
 * name shared by every node (`deliverer`), so the entries a node took and did not acknowledge
 * before it died are handed to whichever node holds the receiver's lease next. The lease is a
 * key with an expiry, taken and renewed by one script.
 */
import {
  DEFAULT_LIFECYCLE_MAX_EVENTS,
  type LifecycleEvent,
  type LifecycleEventInput,
  type LifecycleLog,
} from '@switchboard/broker'
import type { Redis } from 'ioredis'
import type { Keys } from './keys.js'
import { LuaScript } from './scripts.js'

/** The consumer name inside every group: one, so a new lease holder inherits the pending entries. */
const DELIVERER = 'deliverer'

/** Takes the lease if it is free or ours (renewing it): 1 if `holder` has it now, else 0. */
const LEASE = new LuaScript(
  'lifecycle-lease',
  `
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if current then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`,
)

const RELEASE = new LuaScript(
  'lifecycle-release',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
`,
)

type StreamReply = Array<[string, Array<[string, string[] | null]>]> | null

export class RedisLifecycleLog implements LifecycleLog {
  private readonly stream: string

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly maxEvents = DEFAULT_LIFECYCLE_MAX_EVENTS,
  ) {
    this.stream = keys.lifecycle()
  }

  async append(event: LifecycleEventInput): Promise<void> {
    await this.redis.xadd(this.stream, 'MAXLEN', '~', this.maxEvents, '*', 'e', JSON.stringify(event))
  }

  async register(consumer: string): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.stream, consumer, '$', 'MKSTREAM')
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('BUSYGROUP')) throw err
    }
  }

  async read(consumer: string, count: number): Promise<LifecycleEvent[]> {
    try {
      const pending = await this.take(consumer, count, '0')
      return pending.length > 0 ? pending : await this.take(consumer, count, '>')
    } catch (err) {
      // The group is gone (Redis lost its data): make it again, from now on.
      if (!(err instanceof Error) || !err.message.startsWith('NOGROUP')) throw err
      await this.register(consumer)
      return []
    }
  }

  private async take(consumer: string, count: number, from: '0' | '>'): Promise<LifecycleEvent[]> {
    const reply = (await this.redis.xreadgroup(
      'GROUP',
      consumer,
      DELIVERER,
      'COUNT',
      Math.max(1, count),
      'STREAMS',
      this.stream,
      from,
    )) as StreamReply
    const events: LifecycleEvent[] = []
    for (const [id, fields] of reply?.[0]?.[1] ?? []) {
      const event = fields ? decode(id, fields) : undefined
      // An entry trimmed away while pending, or one that does not parse, is done with.
      if (event) events.push(event)
      else await this.ack(consumer, id)
    }
    return events
  }

  async ack(consumer: string, id: string): Promise<void> {
    await this.redis.xack(this.stream, consumer, id)
  }

  async lease(consumer: string, holder: string, ttlMs: number): Promise<boolean> {
    const got = await LEASE.run(this.redis, [this.keys.lifecycleLease(consumer)], [holder, Math.ceil(ttlMs)])
    return got === 1
  }

  async release(consumer: string, holder: string): Promise<void> {
    await RELEASE.run(this.redis, [this.keys.lifecycleLease(consumer)], [holder])
  }
}

function decode(id: string, fields: string[]): LifecycleEvent | undefined {
  const at = fields.indexOf('e')
  if (at === -1 || at % 2 !== 0) return undefined
  try {
    const input = JSON.parse(fields[at + 1]!) as LifecycleEventInput
    if (typeof input !== 'object' || input === null || typeof input.type !== 'string') return undefined
    return { ...input, id, at: Number(id.split('-')[0]) }
  } catch {
    return undefined
  }
}
