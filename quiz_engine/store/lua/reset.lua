-- Wipe an episode's results and return it to the lobby. The audit stream is kept and
-- gets a 'reset' marker, so verify can still replay history.
-- KEYS: 1 state  2 audit  3 voided  4 stats  5 standings index  6 disqualified
--       7 the rank index of earlier versions  8 played  9.. per-question keys
--       last: prize handovers (never wiped: a reset is refused once there is one)
-- ARGV: 1 'reset'  2 request json: episode, confirm, actor
local cmd, req = ARGV[1], cjson.decode(ARGV[2])
req.handovers_key = KEYS[#KEYS]
local st, target = machine_check(cmd, KEYS[1], KEYS[3], req)
if not st then return target end
local now = req.now_ms
for i = 3, #KEYS - 1 do redis.call('DEL', KEYS[i]) end
local seq = enter_phase(KEYS[1], st, target, now)
redis.call('HSET', KEYS[1], 'qidx', -1, 'next', 0)
redis.call('HDEL', KEYS[1], 'release_at', 'deadline', 'correct', 'nopts')
redis.call('XADD', KEYS[2], '*', 'e', MACHINE[cmd].event, 'now', now, 'seq', seq, 'by', req.actor)
return applied(seq, target, -1, now)
