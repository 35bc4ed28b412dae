/**
 * The Lua scripts that make each broker operation atomic in Redis. A publish assigns the offset,
 * stores the message in history, remembers its idempotency key and PUBLISHes it in one step, so
 * offset order is delivery order on every node. Scripts run by EVALSHA, falling back to EVAL
 * once after a Redis restart flushed the script cache. Presence's scripts are in
 * presence-scripts.ts; key names built inside the scripts (presence reaping) follow keys.ts.
 */
import { createHash } from 'node:crypto'
import type { Commands } from './connections.js'

export class LuaScript {
  private readonly sha: string

  constructor(
    readonly name: string,
    private readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex')
  }

  async run(
    redis: Commands,
    keys: readonly string[],
    args: ReadonlyArray<string | number>,
  ): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args)
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err
      return redis.eval(this.source, keys.length, ...keys, ...args)
    }
  }
}

/** How a script publishes a channel's events: `PUBLISH`, or `SPUBLISH` (sharded) on a cluster. */
export type PublishCommand = 'PUBLISH' | 'SPUBLISH'

/** A script that publishes on a channel's pub/sub channel, in the form for each publish command. */
export class PublishingScript {
  private readonly forms: Record<PublishCommand, LuaScript>

  constructor(name: string, source: (publish: PublishCommand) => string) {
    this.forms = {
      PUBLISH: new LuaScript(name, source('PUBLISH')),
      SPUBLISH: new LuaScript(`${name}-sharded`, source('SPUBLISH')),
    }
  }

  of(command: PublishCommand): LuaScript {
    return this.forms[command]
  }
}

/**
 * The epoch a channel without a stream reports, and its first publish creates (the algorithm of
 * @switchboard/broker's empty-epoch.ts): the first 12 hex digits of SHA-1(seed \n generation \n
 * channel). The `epochs` hash holds the seed (made once by whoever needs it first) and the
 * generation of each of 4,096 slots (the first three hex digits of SHA-1(channel)); a channel's
 * first publish moves its slot's generation, so its next stream, after this one expired, gets
 * another epoch. Returns the epoch and the slot.
 */
const EMPTY_EPOCH = `
local function empty_epoch(epochs, seed_candidate, channel)
  redis.call('HSETNX', epochs, 'seed', seed_candidate)
  local seed = redis.call('HGET', epochs, 'seed')
  local slot = tostring(tonumber(string.sub(redis.sha1hex(channel), 1, 3), 16))
  local generation = redis.call('HGET', epochs, slot) or '0'
  return string.sub(redis.sha1hex(seed .. '\\n' .. generation .. '\\n' .. channel), 1, 12), slot
end
`

/**
 * KEYS: meta, hist, idem, epochs. ARGV: seed candidate, channel ttl ms, data JSON, except JSON,
 * idempotency key or '', history size (0: none), now ms, history ttl ms, pub/sub channel,
 * channel, '1' to refresh the expiries of the keys that exist already or '0' (expiry-refresh.ts:
 * a node refreshes each channel now and then, with ttls that include the slack). The first
 * publish of a stream creates it in the channel's empty epoch (dropping leftovers of an older
 * one); keys it creates always get their expiry. The steady state is three commands: HGET,
 * HINCRBY and the publish.
 * Returns { epoch, offset, 1 } for a new message, { epoch, offset, 0 } for a known key.
 */
export const PUBLISH = new PublishingScript(
  'publish',
  (publish) => `${EMPTY_EPOCH}
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  local slot
  epoch, slot = empty_epoch(KEYS[4], ARGV[1], ARGV[10])
  redis.call('HINCRBY', KEYS[4], slot, 1)
  redis.call('DEL', KEYS[2], KEYS[3])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'offset', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
local key = ARGV[5]
if key ~= '' then
  local seen = redis.call('ZSCORE', KEYS[3], key)
  if seen then return {epoch, tonumber(seen), 0} end
end
local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
local refresh = ARGV[11] == '1'
if refresh then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if key ~= '' then
  redis.call('ZADD', KEYS[3], offset, key)
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -1001)
  redis.call('PEXPIRE', KEYS[3], ARGV[2])
end
local size = tonumber(ARGV[6])
if size > 0 then
  local len = redis.call('RPUSH', KEYS[2], '[' .. ARGV[7] .. ',' .. offset .. ',' .. ARGV[4] .. ',' .. ARGV[3] .. ']')
  if len > size then redis.call('LTRIM', KEYS[2], -size, -1) end
  if refresh or len == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[8]) end
end
redis.call('${publish}', ARGV[9], '["m","' .. epoch .. '",' .. offset .. ',' .. ARGV[4] .. ',' .. ARGV[3] .. ']')
return {epoch, offset, 1}
`,
)

/**
 * KEYS: meta, hist, idem, epochs. ARGV: seed candidate, channel, mode, then for 'since' the
 * epoch and offset resumed from, for 'recent' the limit, for 'before' the limit and the offset
 * the entries must be older than. Mode 'pos' only reads the position.
 * Never creates a stream: a channel without one answers offset 0 of its empty epoch.
 * Returns { epoch, head offset, entries } — for 'since' the entries from offset+1 on (or the
 * oldest retained ones if offset+1 was trimmed), for 'recent' the latest `limit`, for 'before' the
 * latest `limit` below that offset (the list holds the offsets up to the head, one per entry).
 */
export const READ = new LuaScript(
  'read',
  `${EMPTY_EPOCH}
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then return {empty_epoch(KEYS[4], ARGV[1], ARGV[2]), 0, {}} end
local head = tonumber(redis.call('HGET', KEYS[1], 'offset'))
local mode = ARGV[3]
if mode == 'pos' then return {epoch, head, {}} end
local len = redis.call('LLEN', KEYS[2])
local start
local stop = -1
if mode == 'since' then
  if ARGV[4] ~= epoch then return {epoch, head, {}} end
  start = len - (head - tonumber(ARGV[5]))
elseif mode == 'before' then
  local before = tonumber(ARGV[5])
  if before <= head then
    stop = len - 1 - (head - before + 1)
    if stop < 0 then return {epoch, head, {}} end
    start = stop + 1 - tonumber(ARGV[4])
  else
    start = len - tonumber(ARGV[4])
  end
else
  start = len - tonumber(ARGV[4])
end
if start < 0 then start = 0 end
if start >= len then return {epoch, head, {}} end
return {epoch, head, redis.call('LRANGE', KEYS[2], start, stop)}
`,
)

/**
 * Forgets the revocation entries whose expiry (the sorted set's score) is at or before `now`.
 * Uses KEYS[1] (hash) and KEYS[2] (expiry set).
 */
const FORGET_EXPIRED = `
local function forget_expired(now)
  local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
  for _, entry in ipairs(gone) do redis.call('HDEL', KEYS[1], entry) end
  if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) end
end
`

/**
 * KEYS: revocations hash, revocation expiry set. ARGV: now ms, entry, issuedBefore ms or '',
 * expiresAt ms, pub/sub channel, notification JSON. Merges the entry (the later issuedBefore and
 * expiresAt win), keeps both keys as long as their latest entry, and publishes the notification
 * (SPUBLISH on a cluster, where the channel shares the keys' slot).
 * Returns 1, or 0 when the revocation had expired already (nothing stored, nobody told).
 */
export const REVOKE = new PublishingScript(
  'revoke',
  (publish) => `${FORGET_EXPIRED}
local now = tonumber(ARGV[1])
forget_expired(now)
local expires = tonumber(ARGV[4])
if expires <= now then return 0 end
local stored = redis.call('ZSCORE', KEYS[2], ARGV[2])
if stored and tonumber(stored) > expires then expires = tonumber(stored) end
local before = ARGV[3]
if before ~= '' then
  local had = redis.call('HGET', KEYS[1], ARGV[2])
  if had and had ~= '' and tonumber(had) > tonumber(before) then before = had end
end
redis.call('HSET', KEYS[1], ARGV[2], before)
redis.call('ZADD', KEYS[2], expires, ARGV[2])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
local ttl = math.ceil(tonumber(last[2]) - now)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('${publish}', ARGV[5], ARGV[6])
return 1
`,
)

/**
 * KEYS: revocations hash, revocation expiry set. ARGV: now ms. Forgets the expired entries and
 * returns the others flat: entry, issuedBefore ('' for a token id), expiresAt, entry, …
 */
export const REVOCATIONS = new LuaScript(
  'revocations',
  `${FORGET_EXPIRED}
forget_expired(tonumber(ARGV[1]))
local out = {}
local all = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
for i = 1, #all, 2 do
  out[#out + 1] = all[i]
  out[#out + 1] = redis.call('HGET', KEYS[1], all[i]) or ''
  out[#out + 1] = all[i + 1]
end
return out
`,
)
