-- Season sync (command 'sync'): replace an episode's not-yet-played questions with the bank
-- file's current ones. A question is played once the episode's 'next' has passed it (opened
-- or skipped); those must be byte-equal to the new definition, else nothing changes. The
-- phase machine refuses it while a question is open, and unless 'next' is still the one the
-- caller merged the metadata against (guard expect_next). Atomic, so a host opening the next
-- question at the same moment sees either all old or all new questions.
-- KEYS: 1 state  2 audit  3 voided  4 question specs  5 public questions  6 meta
-- ARGV: 1 'sync'  2 request json: expect (next), actor  3 meta json  4 new count
--       then per question: spec, public json
-- Returns {1, seq, phase, next, changed index...} or {0, check, phase, question index}.
local cmd, req = ARGV[1], cjson.decode(ARGV[2])
local st, target = machine_check(cmd, KEYS[1], KEYS[3], req)
if not st then return target end
local nxt, old, count = tonumber(st.next), tonumber(st.count), tonumber(ARGV[4])
if count < nxt then return {0, 'played_removed', st.phase, count} end
for i = 0, nxt - 1 do
  if redis.call('HGET', KEYS[4], i) ~= ARGV[5 + 2 * i] or redis.call('HGET', KEYS[5], i) ~= ARGV[6 + 2 * i] then
    return {0, 'played_changed', st.phase, i}
  end
end
local out = {1, tonumber(st.seq), st.phase, nxt}
for i = nxt, count - 1 do
  local spec, pub = ARGV[5 + 2 * i], ARGV[6 + 2 * i]
  if redis.call('HGET', KEYS[4], i) ~= spec or redis.call('HGET', KEYS[5], i) ~= pub then
    redis.call('HSET', KEYS[4], i, spec)
    redis.call('HSET', KEYS[5], i, pub)
    table.insert(out, i)
  end
end
for i = count, old - 1 do
  redis.call('HDEL', KEYS[4], i)
  redis.call('HDEL', KEYS[5], i)
  table.insert(out, i)
end
redis.call('HSET', KEYS[1], 'count', count)
redis.call('SET', KEYS[6], ARGV[3])
if #out > 4 then
  redis.call('XADD', KEYS[2], '*', 'e', MACHINE[cmd].event, 'changed', table.concat(out, ',', 5), 'count', count,
             'next', nxt, 'now', req.now_ms, 'by', req.actor)
end
return out
