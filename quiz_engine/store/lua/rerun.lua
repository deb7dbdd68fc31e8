-- Prepare a voided question to be played again: its answers are wiped and it becomes the
-- next question to open. Only a voided question can be re-run, so no counted answer is lost.
-- KEYS: 1 state  2 audit  3 voided  4.. the question's keys (answers, correct, counts, sent)
-- ARGV: 1 question index  2 allowed phases  3 actor
local idx = tonumber(ARGV[1])
local phase = redis.call('HGET', KEYS[1], 'phase')
local ok = false
for p in string.gmatch(ARGV[2], '[^,]+') do if p == phase then ok = true end end
if not ok then return {0, 'phase', phase or ''} end
if redis.call('SISMEMBER', KEYS[3], idx) == 0 then return {0, 'not_voided', phase} end
for i = 4, #KEYS do redis.call('DEL', KEYS[i]) end
redis.call('SREM', KEYS[3], idx)
redis.call('HSET', KEYS[1], 'next', idx)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq'))
redis.call('XADD', KEYS[2], '*', 'e', 'rerun', 'q', idx, 'now', now, 'by', ARGV[3])
return {1, seq, phase, tonumber(redis.call('HGET', KEYS[1], 'qidx')), now, 0, 0}
