-- Apply one command of the phase machine (game/phases.py) that needs only the episode's state:
-- open, skip, close, timeout, reveal, leaderboard, finish, load (the outgoing episode) and
-- set_delay and prize_rule. machine_check (prelude) decides from the table whether it may run now; the
-- effect below runs in the same script, so concurrent commands from several nodes (or a
-- double press) apply at most once.
-- KEYS: 1 state  2 audit  3 voided  4 question specs
-- ARGV: 1 command  2 request json: expect, actor, grace_ms, cap_ms (open), delay_ms (open:
--       used only by episodes loaded before the delay lived in their state; set_delay: the
--       new delay; prize_rule: one_prize 0/1)
-- Returns {1, seq, phase, qidx, now_ms, release_at, deadline, extra} or {0, check, phase, extra}
-- (extra: load → the outgoing episode's delay; too_early refusal → ms left).
local cmd, req = ARGV[1], cjson.decode(ARGV[2])
local st, target = machine_check(cmd, KEYS[1], KEYS[3], req)
if not st then return target end
local now, event = req.now_ms, MACHINE[cmd].event
local qidx, nxt = tonumber(st.qidx), tonumber(st.next)

if cmd == 'open' then
  local answer, nopts, limit = spec_decode(redis.call('HGET', KEYS[4], tostring(nxt)))
  local delay = tonumber(st.delay_ms or req.delay_ms or 0)
  local release = now + delay
  local deadline = release + limit
  redis.call('HSET', KEYS[1], 'qidx', nxt, 'next', nxt + 1, 'release_at', release, 'deadline', deadline,
             'grace', req.grace_ms, 'correct', answer, 'nopts', nopts, 'delay', delay, 'opened_at', now,
             'cap', req.cap_ms)
  local seq = enter_phase(KEYS[1], st, target, now)
  redis.call('XADD', KEYS[2], '*', 'e', event, 'q', nxt, 'a', answer, 'release', release, 'deadline', deadline,
             'cap', req.cap_ms, 'now', now, 'seq', seq, 'by', req.actor)
  return applied(seq, target, nxt, now, release, deadline)
elseif cmd == 'skip' then
  redis.call('HSET', KEYS[1], 'next', nxt + 1)
  redis.call('XADD', KEYS[2], '*', 'e', event, 'q', nxt, 'now', now, 'by', req.actor)
  return applied(st.seq, st.phase, qidx, now)
elseif cmd == 'load' then
  -- another episode is being loaded: this one is parked (guard 'loaded') until loaded again
  redis.call('HSET', KEYS[1], 'parked', 1)
  redis.call('XADD', KEYS[2], '*', 'e', event, 'now', now, 'by', req.actor)
  return applied(st.seq, st.phase, qidx, now, 0, 0, tonumber(st.delay_ms or req.delay_ms or 0))
elseif cmd == 'set_delay' then
  redis.call('HSET', KEYS[1], 'delay_ms', req.delay_ms)
  redis.call('XADD', KEYS[2], '*', 'e', event, 'ms', req.delay_ms, 'now', now, 'by', req.actor)
  return applied(st.seq, st.phase, qidx, now)
elseif cmd == 'prize_rule' then
  local on = (req.one_prize == 1) and 1 or 0
  redis.call('HSET', KEYS[1], 'one_prize', on)
  redis.call('XADD', KEYS[2], '*', 'e', event, 'one_prize', on, 'now', now, 'by', req.actor)
  return applied(st.seq, st.phase, qidx, now, 0, 0, on)
end

-- close, timeout, reveal, leaderboard, finish: a phase change and nothing else
local seq = enter_phase(KEYS[1], st, target, now)
redis.call('XADD', KEYS[2], '*', 'e', event, 'q', qidx, 'now', now, 'seq', seq, 'by', req.actor)
return applied(seq, target, qidx, now)
