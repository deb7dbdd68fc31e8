-- Accept or reject one answer, atomically. The single source of truth for answers.
--
-- KEYS: 1 state  2 answers(q)  3 correct zset(q)  4 counts(q)  5 first-sent(q)
--       6 stats  7 rank  8 audit  9 disqualified
-- ARGV: 1 player  2 question index  3 option  4 node boot id
--       5 arrival (node monotonic, us)  6 arrival (node's estimate of Redis time, us)
--       7 first send to this player (node monotonic, us, '' if unknown)
--       8 first send (estimate of Redis time, us)  9 request id (for idempotent retries)
-- Returns {1, response_us, seq, option, retried} or {0, reason, stored_option, stored_response_us}.
local player, idx, option = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local boot, arr_mono, arr_est = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local rid = ARGV[9]

local st = redis.call('HMGET', KEYS[1], 'phase', 'qidx', 'release_at', 'deadline', 'grace', 'correct', 'nopts')
local phase, qidx = st[1], tonumber(st[2])
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])

local function reject(reason, o, r)
  redis.call('XADD', KEYS[8], '*', 'e', 'rej', 'p', player, 'q', idx, 'o', option, 'why', reason,
             'now', string.format('%d', now_us), 'rid', rid)
  return {0, reason, o or -1, r or -1}
end

if qidx == nil or qidx ~= idx then
  if phase == 'question' then return reject('wrong_question') end
  return reject('not_open')
end
if phase ~= 'question' then
  if phase == 'lobby' then return reject('not_open') end
  return reject('late')
end
if now_us < tonumber(st[3]) * 1000 then return reject('not_open') end
if now_us > (tonumber(st[4]) + tonumber(st[5])) * 1000 then return reject('late') end
if option < 0 or option >= tonumber(st[7]) then return reject('invalid_option') end

local prev = redis.call('HGET', KEYS[2], player)
if prev then
  local p_opt, p_resp, p_seq, p_rid = string.match(prev, '^(%-?%d+)|(%-?%d+)|(%d+)|(.*)$')
  if p_rid == rid then
    -- the same request retried (its reply was lost): report the original result, store nothing
    return {1, tonumber(p_resp), tonumber(p_seq), tonumber(p_opt), 1}
  end
  return reject('duplicate', tonumber(p_opt), tonumber(p_resp))
end
if redis.call('HEXISTS', KEYS[9], player) == 1 then return reject('disqualified') end

-- Response time: arrival minus the FIRST send of this question to this player. Same node
-- (same boot): both on that node's monotonic clock. Another node: both as Redis-time estimates.
if ARGV[7] ~= '' then
  redis.call('HSETNX', KEYS[5], player, boot .. '|' .. ARGV[7] .. '|' .. ARGV[8])
end
local sent = redis.call('HGET', KEYS[5], player)
local resp
if sent then
  local s_boot, s_mono, s_est = string.match(sent, '^(.*)|(%-?%d+)|(%-?%d+)$')
  if s_boot == boot then resp = arr_mono - tonumber(s_mono) else resp = arr_est - tonumber(s_est) end
else
  resp = arr_est - tonumber(st[3]) * 1000
end
if resp < 0 then resp = 0 end

local seq = redis.call('HINCRBY', KEYS[4], 'n', 1)
redis.call('HSET', KEYS[2], player, string.format('%d|%d|%d|%s', option, resp, seq, rid))
redis.call('HINCRBY', KEYS[4], tostring(option), 1)
local correct = (option == tonumber(st[6])) and 1 or 0
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
  local last = idx * 10000000 + seq
  redis.call('HSET', KEYS[6], player, string.format('%d|%d|%d', c, total, last))
  -- index for top-N reads: fewer correct = larger score; ties resolved in Python by the rule
  redis.call('ZADD', KEYS[7], string.format('%d', (100000 - c) * 10000000000 + total), player)
end
redis.call('XADD', KEYS[8], '*', 'e', 'ans', 'p', player, 'q', idx, 'o', option, 'c', correct,
           'r', string.format('%d', resp), 's', seq, 'now', string.format('%d', now_us), 'rid', rid)
return {1, resp, seq, option, 0}
