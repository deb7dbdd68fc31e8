-- Accept or reject a batch of answers to one question, atomically and in order.
-- The single source of truth for answers: every rule below is decided here, by Redis's clock.
--
-- KEYS: 1 state  2 answers(q)  3 correct zset(q)  4 counts(q)  5 deliveries(q)
--       6 stats  7 standings index  8 audit  9 disqualified  10 played (who answered at all)
-- ARGV: 1 node boot id  2 question index
--       then one argument per answer, 9 fields joined by '|' (one argument, not nine: the
--       client packs each argument in Python, so this halves the node's CPU for the call):
--       player | option | arrival (node monotonic µs) | arrival (node's estimate of Redis
--       time µs) | this node's fan-out record of the question for the player, if it has one:
--       release_at of its opening (ms) | fan-out start (monotonic µs) | allowance µs | lead µs
--       (all four empty if none) |
--       request id (idempotent retries)
--
-- Response time (docs/protocol.md, "Timing"): arrival − release − delivery allowance.
--   A player with a delivery record (a broadcast recipient: joined when a node started the
--   question's fan-out) has that record's allowance, fixed at the release; arrival − release is
--   measured on the recording node's monotonic clock when the answer comes through that node
--   (arrival − fan-out start + lead), else as Redis-time estimates. Everyone else: allowance 0,
--   arrival estimate − release_at. Nothing a player does after the release can lower it.
-- Returns 5 values per answer, in order:
--   accepted: 1, response_us, seq, option, retried(0/1)
--   rejected: 0, reason, stored_option, stored_response_us, -1
local boot, idx = ARGV[1], tonumber(ARGV[2])
local st = redis.call('HMGET', KEYS[1], 'phase', 'qidx', 'release_at', 'deadline', 'grace', 'correct', 'nopts', 'cap')
local phase, qidx = st[1], tonumber(st[2])
local t_us = now_us()
local now_s = int(t_us)

-- the reason every answer of this batch gets if the question is not open for it
local closed_reason = nil
if qidx == nil or qidx ~= idx then
  closed_reason = (phase == PHASE.QUESTION) and 'wrong_question' or 'not_open'
elseif phase ~= PHASE.QUESTION then
  closed_reason = (phase == PHASE.LOBBY) and 'not_open' or 'late'
elseif t_us < tonumber(st[3]) * 1000 then
  closed_reason = 'not_open'
elseif t_us > (tonumber(st[4]) + tonumber(st[5])) * 1000 then
  closed_reason = 'late'
end
local release_us = tonumber(st[3] or 0) * 1000
local release_s = st[3] or '0'
local nopts, correct_opt = tonumber(st[7] or 0), tonumber(st[6] or -1)
local cap = tonumber(st[8] or 0) * 1000

local out = {}
local function push(a, b, c, d, e)
  out[#out + 1] = a; out[#out + 1] = b; out[#out + 1] = c; out[#out + 1] = d; out[#out + 1] = e
end

for i = 3, #ARGV do
  local player, opt_s, arr_mono_s, arr_est_s, rel_s, start_s, allow_s, lead_s, rid =
    string.match(ARGV[i], '^([^|]+)|(%-?%d+)|(%-?%d+)|(%-?%d+)|(%d*)|(%-?%d*)|(%-?%d*)|(%-?%d*)|(.*)$')
  if player == nil then
    -- never sent by a node (player ids are its own, hex): refuse this one, keep the rest
    push(0, 'try_again', -1, -1, -1)
  else
  local option = tonumber(opt_s)
  local arr_mono, arr_est = tonumber(arr_mono_s), tonumber(arr_est_s)
  local function reject(reason, o, r)
    redis.call('XADD', KEYS[8], '*', 'e', 'rej', 'p', player, 'q', idx, 'o', option, 'why', reason,
               'now', now_s, 'rid', rid)
    push(0, reason, o or -1, r or -1, -1)
  end
  local prev = (closed_reason == nil) and redis.call('HGET', KEYS[2], player) or false
  if closed_reason ~= nil then
    reject(closed_reason)
  elseif option < 0 or option >= nopts then
    reject('invalid_option')  -- not stored: the player may still answer
  elseif prev then
    local p_opt, p_resp, p_seq, p_rid = answer_decode(prev)
    if p_rid == rid then
      -- the same request retried (its reply was lost): report the original result, store nothing
      push(1, p_resp, p_seq, p_opt, 1)
    else
      reject('duplicate', p_opt, p_resp)
    end
  elseif redis.call('HEXISTS', KEYS[9], player) == 1 then
    reject('disqualified')
  else
    -- the node's own fan-out record, should its batch of records not have reached Redis yet
    -- (first record wins: a stored one is never changed; one of an earlier opening is ignored)
    if rel_s == release_s and start_s ~= '' and allow_s ~= '' and lead_s ~= '' then
      local a = tonumber(allow_s)
      if a < 0 then a = 0 end
      if a > cap then a = cap end
      if redis.call('HSETNX', KEYS[5], player, delivery_encode(boot, tonumber(start_s), a, tonumber(lead_s))) == 1 then
        redis.call('XADD', KEYS[8], '*', 'e', 'fan', 'q', idx, 'rel', release_s, 'node', boot, 'start', start_s,
                   'lead', lead_s, 'd', player .. ':' .. int(a), 'now', now_s)
      end
    end
    local rec = redis.call('HGET', KEYS[5], player)
    local arr, allowance, rule
    if rec then
      local r_boot, r_start, r_allow, r_lead = delivery_decode(rec)
      if r_boot == boot then
        arr = arr_mono - r_start + r_lead
      else
        arr = arr_est - release_us
      end
      allowance, rule = r_allow, 'fanout'
    else
      arr, allowance, rule = arr_est - release_us, 0, 'release'
    end
    local resp = arr - allowance
    if resp < 0 then resp = 0 end

    local seq = redis.call('HINCRBY', KEYS[4], 'n', 1)
    redis.call('HSET', KEYS[2], player, answer_encode(option, resp, seq, rid))
    redis.call('HINCRBY', KEYS[4], tostring(option), 1)
    redis.call('SADD', KEYS[10], player)
    local correct = (option == correct_opt) and 1 or 0
    if correct == 1 then
      redis.call('ZADD', KEYS[3], int(correct_score(resp, seq)), player)
      local old = redis.call('HGET', KEYS[6], player)
      local c0, total0, last0 = score_decode(old)
      local c, total, last = score_add(c0, total0, last0, resp, order_key(idx, seq))
      score_store(KEYS[6], KEYS[7], player, old, c, total, last)
    end
    redis.call('XADD', KEYS[8], '*', 'e', 'ans', 'p', player, 'q', idx, 'o', option, 'c', correct,
               'r', int(resp), 's', seq, 'arr', int(arr), 'al', int(allowance), 'rule', rule, 'now', now_s,
               'rid', rid)
    push(1, resp, seq, option, 0)
  end
  end
end
return out
