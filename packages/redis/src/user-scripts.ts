/**
 * The Lua scripts of the user index (users.ts). Each one touches the two keys of one user only —
 * its hash of connections and its sorted set of their ages, which share the `{user}` hash tag —
 * so each is atomic and stays within one Redis Cluster slot. What spans users (a node's list of
 * its entries, the nodes that have any) is written outside the scripts, in an order that leaves
 * nothing unreapable (see users.ts).
 */
import { LuaScript } from './scripts.js'

/**
 * KEYS: user hash, user order. ARGV: connection id, entry JSON, since (ms), limit (-1: none),
 * policy (`refuse` | `closeOldest`). An entry already there gets the new info and keeps its age.
 * At the limit, `refuse` changes nothing; `closeOldest` removes the oldest entries until there is
 * room. Returns { 1, first, [id, since, entry]… evicted } or { 0, count } when refused.
 */
export const USER_ADD = new LuaScript(
  'user-add',
  `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return {1, 0}
end
local n = redis.call('HLEN', KEYS[1])
local limit = tonumber(ARGV[4])
local reply = {1, 0}
if limit >= 0 and n >= limit then
  if ARGV[5] ~= 'closeOldest' or limit < 1 then return {0, n} end
  local victims = redis.call('ZRANGE', KEYS[2], 0, n - limit, 'WITHSCORES')
  for i = 1, #victims, 2 do
    local id = victims[i]
    table.insert(reply, id)
    table.insert(reply, victims[i + 1])
    table.insert(reply, redis.call('HGET', KEYS[1], id) or '')
    redis.call('HDEL', KEYS[1], id)
    redis.call('ZREM', KEYS[2], id)
  end
end
if n == 0 then reply[2] = 1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return reply
`,
)

/**
 * KEYS: user hash, user order. ARGV: connection id, node. Removes the entry if that node holds
 * it (an entry evicted, reaped, or added again by another node is left alone).
 * Returns { removed, last }: 1 when the entry went, and when the user has no entry left.
 */
export const USER_REMOVE = new LuaScript(
  'user-remove',
  `
local e = redis.call('HGET', KEYS[1], ARGV[1])
if not e then return {0, 0} end
local owner = '["' .. ARGV[2] .. '",'
if string.sub(e, 1, #owner) ~= owner then return {0, 0} end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('HLEN', KEYS[1]) == 0 then return {1, 1} end
return {1, 0}
`,
)
