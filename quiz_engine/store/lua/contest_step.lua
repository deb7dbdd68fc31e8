-- The attempt's current question, delivered: its delivery time is recorded before the
-- question is sent, once; asking again (a reload, a reconnect, another node) returns the same
-- time, so the clock never restarts. A question or attempt that has run out is closed first.
-- KEYS: 1 attempt  2 open  3 done (its round)  4 audit
-- ARGV: 1 attempt id  2 now ('' Redis)  3 grace ms
-- Returns {'question', index, delivered ms, question deadline ms (0), attempt deadline ms (0)}
--         | {'done', questions, correct, time ms, finished ms, why} | {'unknown'}
local now = clock(ARGV[2])
local grace = tonumber(ARGV[3])
local a = attempt_load(KEYS[1])
if not a then return {'unknown'} end
if a.st == 'done' then
  return {'done', int(a.cur), int(a.ok), int(a.tm), redis.call('HGET', KEYS[1], 'fin'), redis.call('HGET', KEYS[1], 'why')}
end
if expire(KEYS, ARGV[1], a, now, grace) then
  return {'done', int(a.cur), int(a.ok), int(a.tm), redis.call('HGET', KEYS[1], 'fin'), redis.call('HGET', KEYS[1], 'why')}
end
if a.dv == 0 then
  a.dv = now
  redis.call('HSET', KEYS[1], 'dv', int(now))
  redis.call('XADD', KEYS[4], '*', 'e', 'deliver', 'a', ARGV[1], 'i', int(a.cur), 't', int(now))
end
local qdl = a.lq > 0 and a.dv + a.lq or 0
if a.dl > 0 and (qdl == 0 or a.dl < qdl) then qdl = a.dl end
return {'question', int(a.cur), int(a.dv), int(qdl), int(a.dl)}
