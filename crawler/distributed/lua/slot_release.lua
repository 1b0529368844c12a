-- ARGV[3]: host, ARGV[4]: token, ARGV[5]: the worker's own minimum delay. Returns the delay.
local host = ARGV[3]
local delay = host_delay(host)
if tonumber(ARGV[5]) > delay then delay = tonumber(ARGV[5]) end
local nxt = now + delay
if redis.call('HGET', p .. ':slot', host) == ARGV[4] then
  redis.call('HDEL', p .. ':slot', host)
  redis.call('HSET', p .. ':next', host, num(nxt))
else
  -- Our hold ran out and someone else holds the host: only ever push its time later.
  local cur = tonumber(redis.call('HGET', p .. ':next', host) or '0')
  if nxt > cur then redis.call('HSET', p .. ':next', host, num(nxt)) end
end
return num(delay)
