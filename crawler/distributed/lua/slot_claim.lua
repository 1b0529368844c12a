-- ARGV[3]: host, ARGV[4]: hold seconds, ARGV[5]: token, ARGV[6]: seconds after which a waiter
-- that stopped asking is dropped, ARGV[7]: how often to ask while a request is in flight.
-- Returns {1, '0'} when the request may start now, else {0, seconds to wait}.
-- Waiters are served in the order they first asked: without that, the worker that just
-- finished (it knows the exact moment the host frees up) wins every race and starves the rest.
local host, token = ARGV[3], ARGV[5]
local waiters, seen = p .. ':waiters:' .. host, p .. ':waiter-seen:' .. host
for _, other in ipairs(redis.call('ZRANGE', waiters, 0, -1)) do
  local last = tonumber(redis.call('HGET', seen, other) or '0')
  if last < now - tonumber(ARGV[6]) then
    redis.call('ZREM', waiters, other)
    redis.call('HDEL', seen, other)
  end
end
local nxt = tonumber(redis.call('HGET', p .. ':next', host) or '0')
local first = redis.call('ZRANGE', waiters, 0, 0)[1]
if now >= nxt and (first == nil or first == token) then
  redis.call('HSET', p .. ':next', host, num(now + tonumber(ARGV[4])))
  redis.call('HSET', p .. ':slot', host, token)
  redis.call('ZREM', waiters, token)
  redis.call('HDEL', seen, token)
  return {1, '0'}
end
redis.call('ZADD', waiters, 'NX', num(now), token)
redis.call('HSET', seen, token, num(now))
local pause = nxt - now
if redis.call('HEXISTS', p .. ':slot', host) == 1 then
  -- In flight: it ends when the response does, usually long before the hold runs out.
  pause = tonumber(ARGV[7])
end
if first ~= nil and first ~= token and pause < 0.02 then pause = 0.02 end
return {0, num(pause)}
