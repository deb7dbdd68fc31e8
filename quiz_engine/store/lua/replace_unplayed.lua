-- Replace an episode's not-yet-played questions with the bank file's current ones.
-- A question is played once the episode's 'next' has passed it (opened or skipped); those
-- must be byte-equal to the new definition, else nothing changes. Atomic, so a host
-- opening the next question at the same moment either sees all old or all new questions.
-- KEYS: 1 state  2 question specs  3 public questions  4 meta  5 audit
-- ARGV: 1 meta json  2 new count  3 actor  then per question: spec, public json
-- Returns {1, next, changed index...} or {0, reason, question index}.
local st = redis.call('HMGET', KEYS[1], 'phase', 'next', 'count')
if not st[1] then return {0, 'no_episode', -1} end
local nxt, old, count = tonumber(st[2]), tonumber(st[3]), tonumber(ARGV[2])
if count < nxt then return {0, 'played_removed', count} end
for i = 0, nxt - 1 do
  if redis.call('HGET', KEYS[2], i) ~= ARGV[4 + 2 * i] or redis.call('HGET', KEYS[3], i) ~= ARGV[5 + 2 * i] then
    return {0, 'played_changed', i}
  end
end
local out = {1, nxt}
for i = nxt, count - 1 do
  local spec, pub = ARGV[4 + 2 * i], ARGV[5 + 2 * i]
  if redis.call('HGET', KEYS[2], i) ~= spec or redis.call('HGET', KEYS[3], i) ~= pub then
    redis.call('HSET', KEYS[2], i, spec)
    redis.call('HSET', KEYS[3], i, pub)
    table.insert(out, i)
  end
end
for i = count, old - 1 do
  redis.call('HDEL', KEYS[2], i)
  redis.call('HDEL', KEYS[3], i)
  table.insert(out, i)
end
redis.call('HSET', KEYS[1], 'count', count)
redis.call('SET', KEYS[4], ARGV[1])
if #out > 2 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local changed = table.concat(out, ',', 3)
  redis.call('XADD', KEYS[5], '*', 'e', 'sync', 'changed', changed, 'count', count, 'next', nxt,
             'now', now, 'by', ARGV[3])
end
return out
