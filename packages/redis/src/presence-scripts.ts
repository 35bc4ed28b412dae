/**
 * The Lua scripts of presence, each one atomic step in Redis, so every node agrees on who is a
 * member whatever the interleaving. A channel's presence lives in four hashes (keys.ts): its
 * connections (`pres`), each user's connection count (`pcnt`), each user's JSON (`pinf`) and the
 * pending leaves of users in their grace window (`pgone`, user → token). A user joins when its
 * count goes from 0 to 1 and it had no pending leave; it leaves when its count reaches 0 with no
 * grace window, or when its grace window ends (`PRESENCE_EXPIRE`, run by the node that started
 * it — or by the reaper if that node died) and it is still at 0. Every change PUBLISHes
 * `["p", action, user | null, connections, users]` on the channel's pub/sub channel (SPUBLISH on a
 * cluster). Each script touches the keys of one channel only — one slot: the node's list of the
 * members it added (`nm:<node>`, what the reaper finishes if it dies) is written by presence.ts
 * around them, and a dead node is reaped entry by entry, each entry one script on its channel.
 * A `count` names its user (with the new connection count) when one user's count changed and it
 * stays.
 */
import { type PublishCommand, PublishingScript } from './scripts.js'

/** The helpers every presence script shares. KEYS order of the scripts: pres, pcnt, pinf, pgone. */
const helpers = (publish: PublishCommand) => `
local function tell(pubsub, action, text, n, pres, pcnt)
  local user = 'null'
  if text then user = '{' .. text .. ',"connections":' .. n .. '}' end
  redis.call('${publish}', pubsub, '["p","' .. action .. '",' .. user .. ',' ..
    redis.call('HLEN', pres) .. ',' .. redis.call('HLEN', pcnt) .. ']')
end
-- A user's connection count changed, the user staying: a count that names it, when it has a JSON.
local function tell_count(pubsub, pres, pcnt, pinf, user, n)
  local text = redis.call('HGET', pinf, user)
  if text then tell(pubsub, 'count', text, n, pres, pcnt) else tell(pubsub, 'count', nil, 0, pres, pcnt) end
end
local function leave_user(pres, pcnt, pinf, pgone, pubsub, user)
  local text = redis.call('HGET', pinf, user)
  redis.call('HDEL', pcnt, user)
  redis.call('HDEL', pinf, user)
  redis.call('HDEL', pgone, user)
  if text then tell(pubsub, 'leave', text, 0, pres, pcnt) else tell(pubsub, 'count', nil, 0, pres, pcnt) end
end
-- One connection of user fewer: a count, its leave now, or (grace) a pending leave; true for the last.
local function drop_connection(pres, pcnt, pinf, pgone, pubsub, user, grace, token)
  local n = redis.call('HINCRBY', pcnt, user, -1)
  if n > 0 then
    tell_count(pubsub, pres, pcnt, pinf, user, n)
    return false
  end
  if grace then
    redis.call('HSET', pcnt, user, 0)
    redis.call('HSET', pgone, user, token)
    tell(pubsub, 'count', nil, 0, pres, pcnt)
    return true
  end
  leave_user(pres, pcnt, pinf, pgone, pubsub, user)
  return false
end
-- The user id in a presence entry (nodeId \\n member JSON); nil if it cannot be read.
local function user_of(entry)
  local i = string.find(entry, '\\n', 1, true)
  if not i then return nil end
  local ok, m = pcall(cjson.decode, string.sub(entry, i + 1))
  if ok and type(m) == 'table' and type(m.userId) == 'string' then return m.userId end
  return nil
end
`

/**
 * KEYS: pres, pcnt, pinf, pgone. ARGV: connection id, entry, pub/sub channel, user id, user text.
 * A connection already there changes nothing (a heartbeat writing its members back).
 * Returns 1 if added, 0 if it was there.
 */
export const PRESENCE_ADD = new PublishingScript(
  'presence-add',
  (publish) => `${helpers(publish)}
local existed = redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if existed then return 0 end
local n = redis.call('HINCRBY', KEYS[2], ARGV[4], 1)
local waiting = redis.call('HDEL', KEYS[4], ARGV[4]) == 1
if n == 1 and not waiting then
  redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
  tell(ARGV[3], 'join', ARGV[5], 1, KEYS[1], KEYS[2])
else
  if redis.call('HEXISTS', KEYS[3], ARGV[4]) == 0 then redis.call('HSET', KEYS[3], ARGV[4], ARGV[5]) end
  tell_count(ARGV[3], KEYS[1], KEYS[2], KEYS[3], ARGV[4], n)
end
return 1
`,
)

/**
 * KEYS: pres, pcnt, pinf, pgone. ARGV: connection id, pub/sub channel, grace ms, token.
 * Returns {0} if the connection was not there, {1} if removed, {2, user} if its user's leave now
 * waits for the grace window (presence.ts lists it for the reaper, as `channel \\n \\n token \\n
 * user` in the node's members).
 */
export const PRESENCE_REMOVE = new PublishingScript(
  'presence-remove',
  (publish) => `${helpers(publish)}
local e = redis.call('HGET', KEYS[1], ARGV[1])
if not e then return {0} end
redis.call('HDEL', KEYS[1], ARGV[1])
local user = user_of(e)
if not user then
  tell(ARGV[2], 'count', nil, 0, KEYS[1], KEYS[2])
  return {1}
end
if drop_connection(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[2], user, tonumber(ARGV[3]) > 0, ARGV[4]) then
  return {2, user}
end
return {1}
`,
)

/**
 * KEYS: pres, pcnt, pinf, pgone. ARGV: user id, token, pub/sub channel.
 * The grace window of the pending leave `token` ended: the user leaves unless a connection of it
 * came back (which dropped the token). Returns 1 if it left.
 */
export const PRESENCE_EXPIRE = new PublishingScript(
  'presence-expire',
  (publish) => `${helpers(publish)}
if redis.call('HGET', KEYS[4], ARGV[1]) ~= ARGV[2] then return 0 end
if tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0') > 0 then
  redis.call('HDEL', KEYS[4], ARGV[1])
  return 0
end
leave_user(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[3], ARGV[1])
return 1
`,
)

/**
 * KEYS: pres, pcnt, pinf. ARGV: connection id, entry, user id, user text, pub/sub channel.
 * Replaces the connection's entry and its user's info. Returns 0 if the connection is not there.
 */
export const PRESENCE_UPDATE = new PublishingScript(
  'presence-update',
  (publish) => `${helpers(publish)}
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
tell(ARGV[5], 'update', ARGV[4], tonumber(redis.call('HGET', KEYS[2], ARGV[3]) or '0'), KEYS[1], KEYS[2])
return 1
`,
)

/**
 * Reaping one member of a dead node. KEYS: pres, pcnt, pinf, pgone. ARGV: connection id, node,
 * pub/sub channel. The connection goes if that node still holds it — a connection fewer for its
 * user, whose leave is at once (no grace: the node's ttl was the wait). Returns 1 if it went.
 */
export const REAP_MEMBER = new PublishingScript(
  'reap-member',
  (publish) => `${helpers(publish)}
local e = redis.call('HGET', KEYS[1], ARGV[1])
if not e or string.sub(e, 1, #ARGV[2] + 1) ~= ARGV[2] .. '\\n' then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
local user = user_of(e)
if user then
  drop_connection(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[3], user, false, '')
else
  tell(ARGV[3], 'count', nil, 0, KEYS[1], KEYS[2])
end
return 1
`,
)

/**
 * Finishing a dead node's pending leave. KEYS: pres, pcnt, pinf, pgone. ARGV: user id, token,
 * pub/sub channel. The user leaves if that leave is still pending and nothing came back.
 * Returns 1 if it left.
 */
export const REAP_LEAVE = new PublishingScript(
  'reap-leave',
  (publish) => `${helpers(publish)}
if redis.call('HGET', KEYS[4], ARGV[1]) ~= ARGV[2] then return 0 end
if tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0') > 0 then return 0 end
leave_user(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[3], ARGV[1])
return 1
`,
)
