-- Record a prize handed over to its winner at the prize desk (claims.py), once.
-- KEYS: 1 state  2 audit  3 voided  4 handovers  5 disqualified
-- ARGV: 1 'handover'  2 request json: episode, prize, player, check, note, actor
-- Returns {1, seq, phase, qidx, now_ms, 0, 0, record json}, or {0, check, phase, extra} where
-- check is the phase machine's, 'disqualified', or 'already_handed_over' (extra: that record).
local cmd, req = ARGV[1], cjson.decode(ARGV[2])
local st, target = machine_check(cmd, KEYS[1], KEYS[3], req)
if not st then return target end
if redis.call('HEXISTS', KEYS[5], req.player) == 1 then return {0, 'disqualified', st.phase, ''} end
-- one handover per prize: a second one only if the earlier recipient has since been
-- disqualified (the prize passed on to the next reserve)
local prefix = req.prize .. '|'
local all = redis.call('HGETALL', KEYS[4])
for i = 1, #all, 2 do
  if string.sub(all[i], 1, #prefix) == prefix then
    local earlier = string.sub(all[i], #prefix + 1)
    if earlier == req.player or redis.call('HEXISTS', KEYS[5], earlier) == 0 then
      return {0, 'already_handed_over', st.phase, all[i + 1]}
    end
  end
end
local record = cjson.encode({prize = req.prize, player = req.player, check = req.check, at = req.now_ms,
                             by = req.actor, note = req.note})
redis.call('HSET', KEYS[4], prefix .. req.player, record)
redis.call('XADD', KEYS[2], '*', 'e', MACHINE[cmd].event, 'prize', req.prize, 'p', req.player, 'check', req.check,
           'note', req.note, 'now', req.now_ms, 'by', req.actor)
return {1, tonumber(st.seq), st.phase, tonumber(st.qidx), req.now_ms, 0, 0, record}
