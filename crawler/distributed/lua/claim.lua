-- ARGV[3]: worker id, ARGV[4]: lease seconds.
-- Returns {'url', lease member, entry} | {'wait', seconds, in flight} | {'idle', '', in flight}.
requeue_expired()
local inflight = tostring(redis.call('ZCARD', p .. ':leases'))
local max_pages = tonumber(redis.call('HGET', p .. ':config', 'max_pages') or '-1')
local pages = tonumber(redis.call('GET', p .. ':pages') or '0')
if max_pages ~= nil and max_pages >= 0 and pages >= max_pages then
  return {'idle', '', inflight}
end
while true do
  local first = redis.call('ZRANGE', p .. ':hosts', 0, 0, 'WITHSCORES')
  if #first == 0 then return {'idle', '', inflight} end
  local host, ready = first[1], tonumber(first[2])
  if ready > now then return {'wait', num(ready - now), inflight} end
  local popped = redis.call('ZPOPMIN', p .. ':queue:' .. host)
  if #popped == 0 then
    redis.call('ZREM', p .. ':hosts', host)
  else
    local entry, score = popped[1], popped[2]
    if redis.call('ZCARD', p .. ':queue:' .. host) == 0 then
      redis.call('ZREM', p .. ':hosts', host)
    else
      -- Other hosts' URLs go first meanwhile; the request itself still claims :next.
      redis.call('ZADD', p .. ':hosts', num(now + host_delay(host)), host)
    end
    local member = score .. '\t' .. ARGV[3] .. '\t' .. entry
    redis.call('ZADD', p .. ':leases', num(now + tonumber(ARGV[4])), member)
    if cjson.decode(entry).kind == 'page' then redis.call('INCR', p .. ':pages') end
    return {'url', member, entry}
  end
end
