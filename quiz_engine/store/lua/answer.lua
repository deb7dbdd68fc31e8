-- Accept or reject a batch of answers to one question, atomically and in order.
-- The single source of truth for answers: every rule below is decided here, by Redis's clock.
--
-- KEYS: 1 state  2 answers(q)  3 correct zset(q)  4 counts(q)  5 first-sent(q)
--       6 stats  7 rank  8 audit  9 disqualified
-- ARGV: 1 node boot id  2 question index
--       then one argument per answer, 7 fields joined by '|' (one argument, not seven: the
--       client packs each argument in Python, so this halves the node's CPU for the call):
--       player | option | arrival (node monotonic µs) | arrival (node's estimate of Redis
--       time µs) | first send to this player (monotonic µs, empty if unknown) | first send
--       (Redis-time estimate µs, empty if unknown) | request id (idempotent retries)
-- Returns 5 values per answer, in order:
--   accepted: 1, response_us, seq, option, retried(0/1)
--   rejected: 0, reason, stored_option, stored_response_us, -1
local boot, idx = ARGV[1], tonumber(ARGV[2])
local st = redis.call('HMGET', KEYS[1], 'phase', 'qidx', 'release_at', 'deadline', 'grace', 'correct', 'nopts')
local phase, qidx = st[1], tonumber(st[2])
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now_s = string.format('%d', now_us)

-- the reason every answer of this batch gets if the question is not open for it
local closed_reason = nil
if qidx == nil or qidx ~= idx then
  closed_reason = (phase == 'question') and 'wrong_question' or 'not_open'
elseif phase ~= 'question' then
  closed_reason = (phase == 'lobby') and 'not_open' or 'late'
elseif now_us < tonumber(st[3]) * 1000 then
  closed_reason = 'not_open'
elseif now_us > (tonumber(st[4]) + tonumber(st[5])) * 1000 then
  closed_reason = 'late'
end
local release_us = tonumber(st[3] or 0) * 1000
local nopts, correct_opt = tonumber(st[7] or 0), tonumber(st[6] or -1)

local out = {}
local function push(a, b, c, d, e)
  out[#out + 1] = a; out[#out + 1] = b; out[#out + 1] = c; out[#out + 1] = d; out[#out + 1] = e
end

for i = 3, #ARGV do
  local player, opt_s, arr_mono_s, arr_est_s, sent_mono_s, sent_est_s, rid =
    string.match(ARGV[i], '^([^|]+)|(%-?%d+)|(%-?%d+)|(%-?%d+)|(%-?%d*)|(%-?%d*)|(.*)$')
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
    local p_opt, p_resp, p_seq, p_rid = string.match(prev, '^(%-?%d+)|(%-?%d+)|(%d+)|(.*)$')
    if p_rid == rid then
      -- the same request retried (its reply was lost): report the original result, store nothing
      push(1, tonumber(p_resp), tonumber(p_seq), tonumber(p_opt), 1)
    else
      reject('duplicate', tonumber(p_opt), tonumber(p_resp))
    end
  elseif redis.call('HEXISTS', KEYS[9], player) == 1 then
    reject('disqualified')
  else
    -- Response time: arrival minus the FIRST send of this question to this player. Same node
    -- (same boot): both on that node's monotonic clock; another node: as Redis-time estimates.
    if sent_mono_s ~= '' then
      redis.call('HSETNX', KEYS[5], player, boot .. '|' .. sent_mono_s .. '|' .. sent_est_s)
    end
    local sent = redis.call('HGET', KEYS[5], player)
    local resp
    if sent then
      local s_boot, s_mono, s_est = string.match(sent, '^(.*)|(%-?%d+)|(%-?%d+)$')
      if s_boot == boot then resp = arr_mono - tonumber(s_mono) else resp = arr_est - tonumber(s_est) end
    else
      resp = arr_est - release_us
    end
    if resp < 0 then resp = 0 end

    local seq = redis.call('HINCRBY', KEYS[4], 'n', 1)
    redis.call('HSET', KEYS[2], player, string.format('%d|%d|%d|%s', option, resp, seq, rid))
    redis.call('HINCRBY', KEYS[4], tostring(option), 1)
    local correct = (option == correct_opt) and 1 or 0
    if correct == 1 then
      redis.call('ZADD', KEYS[3], string.format('%d', resp * 10000000 + seq), player)
      local s = redis.call('HGET', KEYS[6], player)
      local c, total = 0, 0
      if s then
        local a, b = string.match(s, '^(%d+)|(%d+)|')
        c, total = tonumber(a), tonumber(b)
      end
      c = c + 1
      total = total + resp
      redis.call('HSET', KEYS[6], player, string.format('%d|%d|%d', c, total, idx * 10000000 + seq))
      -- index for top-N reads: fewer correct = larger score; ties resolved in Python by the rule
      redis.call('ZADD', KEYS[7], string.format('%d', (100000 - c) * 10000000000 + total), player)
    end
    redis.call('XADD', KEYS[8], '*', 'e', 'ans', 'p', player, 'q', idx, 'o', option, 'c', correct,
               'r', string.format('%d', resp), 's', seq, 'now', now_s, 'rid', rid)
    push(1, resp, seq, option, 0)
  end
  end
end
return out
