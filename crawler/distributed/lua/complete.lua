-- ARGV[3..]: lease members. A lease that had expired is taken back off the queue if nobody
-- claimed it again yet (the work is done). Returns how many were still held.
local held = 0
for i = 3, #ARGV do
  if redis.call('ZREM', p .. ':leases', ARGV[i]) == 1 then
    held = held + 1
  else
    local entry = string.match(ARGV[i], '^[^\t]*\t[^\t]*\t(.*)$')
    local e = cjson.decode(entry)
    if redis.call('ZREM', p .. ':queue:' .. e.host, entry) == 1 then
      if e.kind == 'page' then redis.call('INCR', p .. ':pages') end
      if redis.call('ZCARD', p .. ':queue:' .. e.host) == 0 then
        redis.call('ZREM', p .. ':hosts', e.host)
      end
    end
  end
end
return held
