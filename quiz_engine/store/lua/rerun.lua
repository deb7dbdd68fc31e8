-- Prepare a voided question to be played again: its answers are wiped and it becomes the
-- next question to open. Only a voided question can be re-run (guard is_voided), so no
-- counted answer is lost.
-- KEYS: 1 state  2 audit  3 voided  4.. per question of the episode, in index order, the
--       five keys of EpisodeKeys.question_keys
-- ARGV: 1 'rerun'  2 request json: expect (the question; -1: the current one), actor
local cmd, req = ARGV[1], cjson.decode(ARGV[2])
local st, target = machine_check(cmd, KEYS[1], KEYS[3], req)
if not st then return target end
local idx, now = req.question, req.now_ms
for i = 4 + 5 * idx, 8 + 5 * idx do redis.call('DEL', KEYS[i]) end
redis.call('SREM', KEYS[3], idx)
redis.call('HSET', KEYS[1], 'next', idx)
redis.call('XADD', KEYS[2], '*', 'e', MACHINE[cmd].event, 'q', idx, 'now', now, 'by', req.actor)
return applied(st.seq, target, st.qidx, now)
