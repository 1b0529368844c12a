-- ARGV[3]: lease seconds, then lease members. Returns how many were still held.
local held = 0
for i = 4, #ARGV do
  if redis.call('ZSCORE', p .. ':leases', ARGV[i]) then
    redis.call('ZADD', p .. ':leases', num(now + tonumber(ARGV[3])), ARGV[i])
    held = held + 1
  end
end
return held
