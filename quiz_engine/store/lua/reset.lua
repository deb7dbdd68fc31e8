-- Wipe an episode's results and return it to the lobby. The audit stream is kept and
-- gets a 'reset' marker, so verify can still replay history.
-- KEYS: 1 state  2 audit  3 voided  4 stats  5 rank  6 disqualified  7.. per-question keys
-- ARGV: 1 actor
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 'no_episode', ''} end
local phase = redis.call('HGET', KEYS[1], 'phase')
for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[1], 'phase', 'lobby', 'qidx', -1, 'next', 0, 'phase_at', now, 'prev_phase', phase)
redis.call('HDEL', KEYS[1], 'release_at', 'deadline', 'correct', 'nopts')
redis.call('XADD', KEYS[2], '*', 'e', 'reset', 'now', now, 'seq', seq, 'by', ARGV[1])
return {1, seq, 'lobby', -1, now, 0, 0}
