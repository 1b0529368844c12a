-- ARGV[3]: host, ARGV[4]: seconds. Raises the host's Crawl-delay, never lowers it.
local cur = tonumber(redis.call('HGET', p .. ':delay', ARGV[3]) or '0')
if tonumber(ARGV[4]) > cur then redis.call('HSET', p .. ':delay', ARGV[3], ARGV[4]) end
return 1
