"""The Lua scripts that keep presence in Redis (see ``presence.py``).

Each runs atomically, so two processes counting the same user in the same
topic cannot both decide that theirs was the user's first (or last)
connection anywhere.
"""

# Whether another live process counts connections of the user in the topic.
# (user hash, this process, now, key of the live processes' sorted set)
_OTHERS_ALIVE = """
local function others_alive(user_key, process, now, live_key)
  local fields = redis.call('HGETALL', user_key)
  for i = 1, #fields, 2 do
    if fields[i] ~= process and tonumber(fields[i + 1]) > 0 then
      local expires = redis.call('ZSCORE', live_key, fields[i])
      if expires and tonumber(expires) >= tonumber(now) then return true end
    end
  end
  return false
end
"""

# One more connection here for each (topic, user, metadata JSON) in ARGV[4..],
# in order. KEYS: 1 this process's set of "topic\nuser", 2 the live processes
# (score: when each expires). ARGV: 1 this process, 2 now, 3 the key prefix.
# Per topic and user the keys are <prefix>:<topic>:user:<user> (process ->
# connections), <prefix>:<topic>:users (present users) and
# <prefix>:<topic>:meta (user -> metadata). Returns, per join, 1 when it was
# the user's first connection in the topic anywhere.
JOIN_MANY = (
    _OTHERS_ALIVE
    + """
local process, now, prefix = ARGV[1], ARGV[2], ARGV[3]
local firsts = {}
for i = 4, #ARGV, 3 do
  local topic, user, meta = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local user_key = prefix .. ':' .. topic .. ':user:' .. user
  local others = others_alive(user_key, process, now, KEYS[2])
  local mine = redis.call('HINCRBY', user_key, process, 1)
  redis.call('HSET', prefix .. ':' .. topic .. ':meta', user, meta)
  redis.call('SADD', KEYS[1], topic .. '\\n' .. user)
  redis.call('SADD', prefix .. ':' .. topic .. ':users', user)
  if mine == 1 and not others then firsts[#firsts + 1] = 1
  else firsts[#firsts + 1] = 0 end
end
return firsts
"""
)

# One connection here less for each (topic, user) in ARGV[4..], in order.
# KEYS and ARGV[1..3] as for JOIN_MANY. Returns, per leave, 1 when the user
# has no connection left in the topic anywhere.
LEAVE_MANY = (
    _OTHERS_ALIVE
    + """
local process, now, prefix = ARGV[1], ARGV[2], ARGV[3]
local lasts = {}
for i = 4, #ARGV, 2 do
  local topic, user = ARGV[i], ARGV[i + 1]
  local user_key = prefix .. ':' .. topic .. ':user:' .. user
  local last = 0
  if redis.call('HINCRBY', user_key, process, -1) <= 0 then
    redis.call('HDEL', user_key, process)
    redis.call('SREM', KEYS[1], topic .. '\\n' .. user)
    if not others_alive(user_key, process, now, KEYS[2]) then
      redis.call('SREM', prefix .. ':' .. topic .. ':users', user)
      redis.call('HDEL', prefix .. ':' .. topic .. ':meta', user)
      redis.call('DEL', user_key)
      last = 1
    end
  end
  lasts[#lasts + 1] = last
end
return lasts
"""
)

# Every connection of a dead process's user leaves (ARGV 5 "all"; any other
# value: one connection). KEYS: 1 the user's hash (process -> connections), 2
# the topic's present users, 3 the topic's metadata, 4 the process's set of
# "topic\nuser", 5 the live processes. ARGV: 1 user, 2 process, 3 now, 4 the
# "topic\nuser" member. Returns 1 when the user has no connection left anywhere.
LEAVE = (
    _OTHERS_ALIVE
    + """
local mine = 0
if ARGV[5] ~= 'all' then mine = redis.call('HINCRBY', KEYS[1], ARGV[2], -1) end
if mine > 0 then return 0 end
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('SREM', KEYS[4], ARGV[4])
if others_alive(KEYS[1], ARGV[2], ARGV[3], KEYS[5]) then return 0 end
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[1])
return 1
"""
)

# The topic's state. KEYS: 1 present users, 2 metadata, 3 live processes;
# ARGV: 1 the per-user hash prefix, 2 now. Returns [user, meta, connections,
# ...] for users with live connections.
STATE = """
local out = {}
for _, user in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local count = 0
  local fields = redis.call('HGETALL', ARGV[1] .. user)
  for i = 1, #fields, 2 do
    local alive = redis.call('ZSCORE', KEYS[3], fields[i])
    if alive and tonumber(alive) >= tonumber(ARGV[2]) then
      count = count + tonumber(fields[i + 1])
    end
  end
  if count > 0 then
    table.insert(out, user)
    table.insert(out, redis.call('HGET', KEYS[2], user) or '{}')
    table.insert(out, count)
  end
end
return out
"""
