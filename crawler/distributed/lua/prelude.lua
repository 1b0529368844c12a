-- Every script starts with this: the key prefix and the time ("" means the server's
-- clock, TIME) come first, so tests can step through lease expiry without sleeping.
local p = ARGV[1]
local now
if ARGV[2] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  now = tonumber(ARGV[2])
end
local function num(s) return string.format('%.6f', s) end
local function host_delay(host)
  local d = tonumber(redis.call('HGET', p .. ':config', 'delay') or '0') or 0
  local c = tonumber(redis.call('HGET', p .. ':delay', host) or '0') or 0
  if c > d then return c end
  return d
end
-- Puts expired leases back on their host's queue (a worker died or stalled).
local function requeue_expired()
  local expired = redis.call('ZRANGEBYSCORE', p .. ':leases', '-inf', num(now))
  for _, member in ipairs(expired) do
    redis.call('ZREM', p .. ':leases', member)
    local score, entry = string.match(member, '^([^\t]*)\t[^\t]*\t(.*)$')
    local e = cjson.decode(entry)
    redis.call('ZADD', p .. ':queue:' .. e.host, score, entry)
    redis.call('ZADD', p .. ':hosts', 'NX', num(now), e.host)
    if e.kind == 'page' then redis.call('DECR', p .. ':pages') end
    redis.call('HINCRBY', p .. ':stats', 'requeued', 1)
  end
end
