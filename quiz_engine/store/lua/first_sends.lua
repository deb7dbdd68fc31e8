-- Record the first delivery of a question to many players at once (HSETNX each: an earlier
-- delivery, possibly by another node, is never overwritten).
-- KEYS: 1 first-sent(q)
-- ARGV: 1 node boot id  2 offset µs (node monotonic -> Redis-time estimate)
--       then pairs: player, send time (node monotonic µs)
local boot, offset = ARGV[1], tonumber(ARGV[2])
local added = 0
for i = 3, #ARGV, 2 do
  local mono = tonumber(ARGV[i + 1])
  added = added + redis.call('HSETNX', KEYS[1], ARGV[i],
                             string.format('%s|%d|%d', boot, mono, mono + offset))
end
return added
