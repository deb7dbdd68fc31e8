-- Void (cancel) the current question: its answers stop counting for standings and prizes.
-- The totals of the players who had it right are folded again, with the prelude's
-- score_add, from the remaining questions' stored answers.
-- KEYS: 1 state  2 audit  3 voided set  4 question specs  5 stats  6 standings index
--       7.. per question of the episode, in index order: answers hash, correct zset
-- ARGV: 1 'void'  2 request json: expect, actor, reason
local cmd, req = ARGV[1], cjson.decode(ARGV[2])
local st, target = machine_check(cmd, KEYS[1], KEYS[3], req)
if not st then return target end
local idx, now = tonumber(st.qidx), req.now_ms
redis.call('SADD', KEYS[3], idx)

local correct_of = {}
local specs = redis.call('HGETALL', KEYS[4])
for i = 1, #specs, 2 do
  correct_of[tonumber(specs[i])] = spec_decode(specs[i + 1])
end
local questions = (#KEYS - 6) / 2
local function answers_key(q) return KEYS[7 + 2 * q] end

for _, player in ipairs(redis.call('ZRANGE', KEYS[8 + 2 * idx], 0, -1)) do
  local c, total, last = 0, 0, 0
  for q = 0, questions - 1 do
    if redis.call('SISMEMBER', KEYS[3], q) == 0 then
      local rec = redis.call('HGET', answers_key(q), player)
      if rec then
        local o, r, s = answer_decode(rec)
        if o == correct_of[q] then c, total, last = score_add(c, total, last, r, order_key(q, s)) end
      end
    end
  end
  score_store(KEYS[5], KEYS[6], player, redis.call('HGET', KEYS[5], player), c, total, last)
end
local seq = enter_phase(KEYS[1], st, target, now)
redis.call('XADD', KEYS[2], '*', 'e', MACHINE[cmd].event, 'q', idx, 'now', now, 'seq', seq, 'by', req.actor,
           'why', req.reason)
return applied(seq, target, idx, now)
