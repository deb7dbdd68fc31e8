-- An answer to the attempt's current question, timed from that question's delivery to this
-- participant (the Redis record, never the client). One answer per question: a repeat, an
-- answer to another question or one after the limit is refused and changes nothing.
-- KEYS: 1 attempt  2 open  3 done (its round)  4 audit
-- ARGV: 1 attempt id  2 question index  3 option (the shown place)  4 now ('' Redis)  5 grace ms
-- Returns {'ok', index, correct 1/0, time ms, next index, finished 1/0}
--         | {'refused', reason, current index} | {'done', ...as contest_step} | {'unknown'}
local now = clock(ARGV[4])
local grace = tonumber(ARGV[5])
local a = attempt_load(KEYS[1])
if not a then return {'unknown'} end
local index, option = tonumber(ARGV[2]), tonumber(ARGV[3])
if a.st == 'done' then return {'refused', 'finished', int(a.cur)} end
if index ~= a.cur then return {'refused', index < a.cur and 'answered' or 'not_current', int(a.cur)} end
if a.dv == 0 then return {'refused', 'not_delivered', int(a.cur)} end
if expire(KEYS, ARGV[1], a, now, grace) then return {'refused', 'time_up', int(a.cur)} end
if a.cur ~= index then return {'refused', 'time_up', int(a.cur)} end
local elapsed = math.max(0, now - a.dv)
if a.lq > 0 and elapsed > a.lq then elapsed = a.lq end  -- inside the grace: counted as the limit
local right = string.sub(a.key, index + 1, index + 1) == tostring(option) and 1 or 0
a.ok = a.ok + right
a.tm = a.tm + elapsed
a.ans = (a.ans or '') .. int(option) .. ':' .. int(elapsed) .. ';'
a.cur = a.cur + 1
a.dv = 0
redis.call('XADD', KEYS[4], '*', 'e', 'answer', 'a', ARGV[1], 'i', int(index), 'o', int(option), 'ms', int(elapsed),
  'ok', int(right), 't', int(now))
if a.cur >= a.q then
  finish(KEYS, ARGV[1], a, now, 'complete')
  return {'ok', int(index), right, int(elapsed), int(a.cur), 1}
end
redis.call('HSET', KEYS[1], 'cur', int(a.cur), 'dv', '0', 'ok', int(a.ok), 'tm', int(a.tm), 'ans', a.ans)
return {'ok', int(index), right, int(elapsed), int(a.cur), 0}
