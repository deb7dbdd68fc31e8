-- Apply one host command to the episode phase, atomically.
--
-- The allowed source phases come from the Python transition table (game/phases.py);
-- this script only checks them against the stored phase, so concurrent commands from
-- several nodes (or a double press) apply at most once.
-- KEYS: 1 state  2 question specs  3 audit
-- ARGV: 1 command  2 target phase  3 allowed phases (comma separated)
--       4 expected question index (-1: any)  5 stream delay ms  6 grace ms
--       7 auto (1 when the close timer fires)  8 actor  9 delivery allowance cap ms (open)
-- Returns {1, seq, phase, qidx, now_ms, release_at, deadline} or {0, reason, phase}.
local cmd, target, allowed = ARGV[1], ARGV[2], ARGV[3]
local expect = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local st = redis.call('HMGET', KEYS[1], 'phase', 'qidx', 'next', 'count', 'deadline', 'grace')
local phase = st[1]
if not phase then return {0, 'no_episode', ''} end
local qidx, nxt, count = tonumber(st[2]), tonumber(st[3]), tonumber(st[4])

local ok = false
for p in string.gmatch(allowed, '[^,]+') do if p == phase then ok = true end end
if not ok then
  if cmd == 'close' and ARGV[7] == '1' then return {0, 'already_closed', phase} end
  return {0, 'phase', phase}
end

local release, deadline = 0, 0
if cmd == 'open' then
  if nxt >= count then return {0, 'no_more_questions', phase} end
  if expect >= 0 and expect ~= nxt then return {0, 'stale', phase} end
  local spec = redis.call('HGET', KEYS[2], tostring(nxt))
  local answer, nopts, limit = string.match(spec, '^(%d+)|(%d+)|(%d+)$')
  release = now + tonumber(ARGV[5])
  deadline = release + tonumber(limit)
  qidx = nxt
  redis.call('HSET', KEYS[1], 'qidx', qidx, 'next', nxt + 1, 'release_at', release,
             'deadline', deadline, 'grace', ARGV[6], 'correct', answer, 'nopts', nopts,
             'delay', ARGV[5], 'opened_at', now, 'cap', ARGV[9])
elseif cmd == 'skip' then
  if nxt >= count then return {0, 'no_more_questions', phase} end
  if expect >= 0 and expect ~= nxt then return {0, 'stale', phase} end
  redis.call('HSET', KEYS[1], 'next', nxt + 1)
  redis.call('XADD', KEYS[3], '*', 'e', 'skip', 'q', nxt, 'now', now, 'by', ARGV[8])
  return {1, tonumber(redis.call('HGET', KEYS[1], 'seq')), phase, qidx, now, 0, 0}
else
  if expect >= 0 and expect ~= qidx then return {0, 'stale', phase} end
  if cmd == 'close' and ARGV[7] == '1' then
    local due = tonumber(st[5]) + tonumber(st[6])
    if now < due then return {0, 'too_early', phase, due - now} end
  end
end

local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[1], 'phase', target, 'phase_at', now, 'prev_phase', phase)
if cmd == 'open' then
  local answer = redis.call('HGET', KEYS[1], 'correct')
  redis.call('XADD', KEYS[3], '*', 'e', 'open', 'q', qidx, 'a', answer, 'release', release,
             'deadline', deadline, 'cap', ARGV[9], 'now', now, 'seq', seq, 'by', ARGV[8])
else
  redis.call('XADD', KEYS[3], '*', 'e', cmd, 'q', qidx, 'now', now, 'seq', seq, 'by', ARGV[8])
end
return {1, seq, target, qidx, now, release, deadline}
