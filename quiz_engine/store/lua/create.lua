-- Create an episode in the lobby, with its questions, unless it already exists.
-- KEYS: 1 state  2 question specs (private)  3 public questions  4 meta  5 audit
-- ARGV: 1 meta json  2 count  then for each question: spec ('answer|options|limit_ms'), public json
if redis.call('EXISTS', KEYS[1]) == 1 then return {0, 'exists'} end
local count = tonumber(ARGV[2])
for i = 0, count - 1 do
  redis.call('HSET', KEYS[2], i, ARGV[3 + 2 * i])
  redis.call('HSET', KEYS[3], i, ARGV[4 + 2 * i])
end
redis.call('SET', KEYS[4], ARGV[1])
redis.call('HSET', KEYS[1], 'phase', 'lobby', 'qidx', -1, 'next', 0, 'count', count, 'seq', 1)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('XADD', KEYS[5], '*', 'e', 'create', 'count', count, 'now', now)
return {1, 'created'}
