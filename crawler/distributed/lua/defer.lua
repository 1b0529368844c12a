-- ARGV[3]: host, ARGV[4]: seconds. Pushes the host's next allowed time later (Retry-After).
local later = now + tonumber(ARGV[4])
local cur = tonumber(redis.call('HGET', p .. ':next', ARGV[3]) or '0')
if later > cur then redis.call('HSET', p .. ':next', ARGV[3], num(later)) end
return num(later)
