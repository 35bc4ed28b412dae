/**
 * The lifecycle log on Redis: one stream (`keys.lifecycle()`), trimmed to about `maxEvents`
 * entries, each `e` = the event's JSON; its id (`ms-seq`) is the event's id and its time. Each
 * webhook receiver is a consumer group created at the end of the stream, read by one consumer
 * name shared by every node (`deliverer`), so the entries a node took and did not acknowledge
 * before it died are handed to whichever node holds the receiver's lease next. The lease is a
 * key with an expiry, taken and renewed by one script. Users' and channels' arrivals and
 * departures are decided by scripts too: what is there (`lthere`), and the departures waiting for
 * their grace window (`ldue`, by due time on Redis's clock), each claimed once by whichever node
 * settles it. Those three keys share one slot on a Redis Cluster (`{life}`, keys.ts); whether a
 * user or channel is gone is read from its index hash (another slot) before each script, and the
 * script claims a due departure only at the due time it was read with, so a departure that a
 * later leave moved is left for its own time, and an arrival meanwhile cancels it as before.
 */
import {
  ARRIVAL,
  DEFAULT_LIFECYCLE_MAX_EVENTS,
  DEPARTURE,
  type LifecycleEvent,
  type LifecycleEventInput,
  type LifecycleLog,
  type LifecycleSubject,
  subjectEvent,
} from '@switchboard/broker'
import type { Commands } from './connections.js'
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

/**
 * An arrival. KEYS: due, there, stream. ARGV: member, event JSON, max events. A departure still
 * in its grace window is cancelled and nothing is appended; otherwise the arrival is appended
 * once, when the member was not there yet. Returns 1 if it appended.
 */
const ARRIVE = new LuaScript(
  'lifecycle-arrive',
  `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then return 0 end
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'e', ARGV[2])
return 1
`,
)

/**
 * A departure (its index hash was found empty). KEYS: due. ARGV: member, grace (ms). The
 * departure is due at Redis's now + grace.
 */
const DEPART = new LuaScript(
  'lifecycle-depart',
  `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return 1
`,
)

/**
 * A due departure, claimed by whoever runs this first. KEYS: due, there, stream. ARGV: member,
 * event JSON, max events, the due time it was read with, 1 if its index hash was found empty.
 * A departure due at another time now (a later leave moved it) is left alone. Appends the
 * departure only if the member is still gone and was there (its arrival was told). Returns 1 if
 * it appended.
 */
const FINISH = new LuaScript(
  'lifecycle-finish',
  `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) ~= ARGV[4] then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[5] ~= '1' then return 0 end
if redis.call('SREM', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'e', ARGV[2])
return 1
`,
)

/** How many due departures one `settle` takes at most. */
const SETTLE_BATCH = 200

/** The index hash that counts a user's connections, or a channel's nodes. */
export type CountKeyOf = (subject: LifecycleSubject, name: string) => string

type StreamReply = Array<[string, Array<[string, string[] | null]>]> | null

export class RedisLifecycleLog implements LifecycleLog {
  private readonly stream: string

  constructor(
    private readonly redis: Commands,
    private readonly keys: Keys,
    private readonly countKey: CountKeyOf,
    private readonly maxEvents = DEFAULT_LIFECYCLE_MAX_EVENTS,
  ) {
    this.stream = keys.lifecycle()
  }

  async arrive(subject: LifecycleSubject, name: string, node?: string): Promise<boolean> {
    const event = JSON.stringify(subjectEvent(ARRIVAL[subject], subject, name, node))
    const keys = [this.keys.lifecycleDue(), this.keys.lifecycleThere(), this.stream]
    return (await ARRIVE.run(this.redis, keys, [`${subject}\n${name}`, event, this.maxEvents])) === 1
  }

  async depart(subject: LifecycleSubject, name: string, graceMs: number): Promise<void> {
    if ((await this.redis.hlen(this.countKey(subject, name))) > 0) return
    const keys = [this.keys.lifecycleDue()]
    await DEPART.run(this.redis, keys, [`${subject}\n${name}`, Math.max(0, Math.ceil(graceMs))])
  }

  async settle(node?: string): Promise<number> {
    const [seconds, micros] = await this.redis.time()
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
    const due = await this.redis.zrangebyscore(
      this.keys.lifecycleDue(),
      '-inf',
      now,
      'WITHSCORES',
      'LIMIT',
      0,
      SETTLE_BATCH,
    )
    let appended = 0
    for (let i = 0; i + 1 < due.length; i += 2) {
      const member = due[i]!
      const cut = member.indexOf('\n')
      const subject = member.slice(0, cut)
      if (subject !== 'user' && subject !== 'channel') continue
      const name = member.slice(cut + 1)
      const gone = (await this.redis.hlen(this.countKey(subject, name))) === 0
      const event = JSON.stringify(subjectEvent(DEPARTURE[subject], subject, name, node))
      const keys = [this.keys.lifecycleDue(), this.keys.lifecycleThere(), this.stream]
      const args = [member, event, this.maxEvents, due[i + 1]!, gone ? 1 : 0]
      if ((await FINISH.run(this.redis, keys, args)) === 1) appended++
    }
    return appended
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
