-- The online contest's shared part (after prelude.lua): the clock, the attempt record and
-- finishing an attempt. Record formats: store/contest.py (the Python codecs of the same).
--
-- attempt hash fields: p person, r round, n attempt number, u unit, st state (open|done),
--   t0 started ms, dl attempt deadline ms (0: none), lq per-question limit ms (0: none),
--   q questions, key correct places (one digit each), cur current question (0-based),
--   dv delivery ms of the current question (0: not delivered yet), ok correct so far,
--   tm response time so far (ms), ans answers 'option:ms;...' (-1: none in time), pr prediction.
-- done hash (per round): attempt id -> 'person|unit|correct|time_ms|finished_ms|prediction|n'

local function clock(arg)  -- the caller's time (an injected clock in tests), else Redis's
  if arg ~= nil and arg ~= '' then return tonumber(arg) end
  return now_ms()
end

local function done_encode(a, finished)
  return table.concat({a.p, a.u, int(a.ok), int(a.tm), int(finished), a.pr or '', a.n}, '|')
end

local function attempt_load(key)
  local raw = redis.call('HGETALL', key)
  if #raw == 0 then return nil end
  local a = {}
  for i = 1, #raw, 2 do a[raw[i]] = raw[i + 1] end
  for _, f in ipairs({'t0', 'dl', 'lq', 'q', 'cur', 'dv', 'ok', 'tm'}) do a[f] = tonumber(a[f]) end
  return a
end

-- one question closes without an answer in time: it counts its whole limit (or what the
-- attempt had left of it), never less than an answer would have
local function record_none(a, now)
  local spent = a.lq > 0 and a.lq or math.max(0, now - a.dv)
  if a.dv == 0 then spent = 0 end  -- never delivered (the attempt ran out first)
  a.tm = a.tm + spent
  a.ans = (a.ans or '') .. '-1:' .. int(spent) .. ';'
  a.cur = a.cur + 1
  a.dv = 0
end

-- KEYS used by finish: attempt, open, done, audit
local function finish(keys, aid, a, now, why)
  while a.cur < a.q do record_none(a, now) end
  redis.call('HSET', keys[1], 'st', 'done', 'cur', int(a.cur), 'dv', '0', 'ok', int(a.ok), 'tm', int(a.tm),
    'ans', a.ans or '', 'fin', int(now), 'why', why)
  if redis.call('HGET', keys[2], a.p) == aid then redis.call('HDEL', keys[2], a.p) end
  redis.call('HSET', keys[3], aid, done_encode(a, now))
  redis.call('XADD', keys[4], '*', 'e', 'finish', 'a', aid, 'p', a.p, 'ok', int(a.ok), 'tm', int(a.tm),
    'ans', a.ans or '', 'why', why, 't', int(now))
  return {'done', int(a.cur), int(a.ok), int(a.tm), int(now), why}
end

-- the attempt has run out (its own deadline) or the current question has (its limit): what is
-- left is closed; returns true when the attempt is finished
-- (an attempt looked at long after it ran out is finished at the moment it ran out, not when
-- it is looked at: its finishing time is a tie-break)
local function expire(keys, aid, a, now, grace)
  if a.dl > 0 and now > a.dl + grace then
    finish(keys, aid, a, a.dl, 'time_up')
    return true
  end
  if a.lq > 0 and a.dv > 0 and now > a.dv + a.lq + grace then
    local ran_out = a.dv + a.lq
    redis.call('XADD', keys[4], '*', 'e', 'timeout', 'a', aid, 'i', int(a.cur), 't', int(ran_out))
    record_none(a, ran_out)
    if a.cur >= a.q then
      finish(keys, aid, a, ran_out, 'complete')
      return true
    end
    redis.call('HSET', keys[1], 'cur', int(a.cur), 'dv', '0', 'tm', int(a.tm), 'ans', a.ans)
  end
  return false
end
