-- ARGV[3]: '1' to start afresh when the crawl is finished; then groups of url, host, kind,
-- depth, entry. Returns how many URLs were new.
if ARGV[3] == '1' and redis.call('ZCARD', p .. ':leases') == 0 then
  local max_pages = tonumber(redis.call('HGET', p .. ':config', 'max_pages') or '-1')
  local pages = tonumber(redis.call('GET', p .. ':pages') or '0')
  local finished = redis.call('ZCARD', p .. ':hosts') == 0
  if max_pages ~= nil and max_pages >= 0 and pages >= max_pages then finished = true end
  if finished and redis.call('EXISTS', p .. ':seen') == 1 then
    for _, host in ipairs(redis.call('ZRANGE', p .. ':hosts', 0, -1)) do
      redis.call('DEL', p .. ':queue:' .. host)
    end
    redis.call('DEL', p .. ':hosts', p .. ':seen', p .. ':pages', p .. ':order',
               p .. ':canonical', p .. ':stats', p .. ':scope')
    redis.call('HDEL', p .. ':config', 'seeds')
  end
end
local added = 0
for i = 4, #ARGV, 5 do
  local url, host, kind, depth, entry = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  if redis.call('SADD', p .. ':seen', url) == 1 then
    local order = redis.call('INCR', p .. ':order')
    local prio = 1
    if kind == 'sitemap' then prio = 0 end
    local score = prio * 1e15 + tonumber(depth) * 1e11 + order
    redis.call('ZADD', p .. ':queue:' .. host, string.format('%.0f', score), entry)
    redis.call('ZADD', p .. ':hosts', 'NX', num(now), host)
    added = added + 1
  end
end
return added
