-- Shared by every script: prepended when the script is registered (store/scripts.py), after
-- the generated constants (ORDER_BASE, STANDING_*, MEMBER_WIDTH: store/records.py) and the
-- generated phase table (PHASE, MACHINE: game/phases.py). Record formats: store/records.py.
-- Everything here is local: Redis forbids scripts to create globals.

-- time and numbers --------------------------------------------------------------------------
local function int(x)  -- integers as text: tostring() would print 16+ digits as 1.7e+15
  return string.format('%d', x)
end

local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

local function now_ms()
  return math.floor(now_us() / 1000)
end

-- records ------------------------------------------------------------------------------------
local function spec_encode(answer, options, limit_ms)
  return int(answer) .. '|' .. int(options) .. '|' .. int(limit_ms)
end

local function spec_decode(s)  -- answer, options, limit_ms
  local a, n, l = string.match(s or '', '^(%d+)|(%d+)|(%d+)$')
  return tonumber(a), tonumber(n), tonumber(l)
end

local function answer_encode(option, response_us, seq, rid)
  return string.format('%d|%d|%d|%s', option, response_us, seq, rid)
end

local function answer_decode(s)  -- option, response_us, seq, rid
  local o, r, q, rid = string.match(s, '^(%-?%d+)|(%-?%d+)|(%d+)|(.*)$')
  return tonumber(o), tonumber(r), tonumber(q), rid
end

local function delivery_encode(boot, start_us, allowance_us, lead_us)
  return string.format('%s|%d|%d|%d', boot, start_us, allowance_us, lead_us)
end

local function delivery_decode(s)  -- boot, start_us, allowance_us, lead_us
  local b, s0, a, l = string.match(s, '^(.*)|(%-?%d+)|(%-?%d+)|(%-?%d+)$')
  return b, tonumber(s0), tonumber(a), tonumber(l)
end

local function score_encode(correct, total_us, last_order)
  return string.format('%d|%d|%d', correct, total_us, last_order)
end

local function score_decode(s)  -- correct, total_us, last_order (zeros for no record)
  if not s then return 0, 0, 0 end
  local c, t, l = string.match(s, '^(%d+)|(%d+)|(%d+)$')
  return tonumber(c), tonumber(t), tonumber(l)
end

local function order_key(question, seq)
  return question * ORDER_BASE + seq
end

local function correct_score(response_us, seq)
  return response_us * ORDER_BASE + seq
end

local function standing_entry(correct, total_us, last_order, player)  -- zset score, member
  if total_us > STANDING_SPAN - 1 then total_us = STANDING_SPAN - 1 end
  return int((STANDING_CAP - correct) * STANDING_SPAN + total_us),
    string.format('%0' .. MEMBER_WIDTH .. 'd|%s', last_order, player)
end

-- scoring: the one definition of what a correct answer adds ----------------------------------
-- (answer.lua adds each correct answer as it is accepted; void.lua folds the remaining ones)
local function score_add(correct, total_us, last_order, response_us, order)
  return correct + 1, total_us + response_us, math.max(last_order, order)
end

-- Store a player's totals and move their entry in the standings index; ``old`` is the stored
-- record (or false). No correct answer left: both are removed.
local function score_store(stats_key, index_key, player, old, correct, total_us, last_order)
  if old then
    local oc, ot, ol = score_decode(old)
    local _, member = standing_entry(oc, ot, ol, player)
    redis.call('ZREM', index_key, member)
  end
  if correct == 0 then
    redis.call('HDEL', stats_key, player)
    return
  end
  redis.call('HSET', stats_key, player, score_encode(correct, total_us, last_order))
  local score, member = standing_entry(correct, total_us, last_order, player)
  redis.call('ZADD', index_key, score, member)
end

-- the phase machine ----------------------------------------------------------------------------
local STATE_FIELDS = {'phase', 'qidx', 'next', 'count', 'deadline', 'grace', 'parked', 'delay_ms', 'seq'}

local function load_state(key)
  local values = redis.call('HMGET', key, unpack(STATE_FIELDS))
  local st = {}
  for i, f in ipairs(STATE_FIELDS) do
    if values[i] then st[f] = values[i] end
  end
  return st
end

-- One predicate per guard name of game/phases.py: true, or false and an extra number.
local GUARDS = {
  loaded = function(st, req) return st.parked ~= '1' end,
  has_next = function(st, req) return tonumber(st.next) < tonumber(st.count) end,
  expect_next = function(st, req) return req.expect < 0 or req.expect == tonumber(st.next) end,
  expect_current = function(st, req) return req.expect < 0 or req.expect == tonumber(st.qidx) end,
  deadline_passed = function(st, req)
    local left = tonumber(st.deadline) + tonumber(st.grace or 0) - req.now_ms
    if left > 0 then return false, left end
    return true
  end,
  not_voided = function(st, req) return redis.call('SISMEMBER', req.voided_key, st.qidx) == 0 end,
  is_voided = function(st, req) return redis.call('SISMEMBER', req.voided_key, req.question) == 1 end,
  confirm_matches = function(st, req) return req.confirm ~= nil and req.confirm == req.episode end,
  none_played = function(st, req) return tonumber(st.next) == 0 end,
  none_handed_over = function(st, req) return redis.call('HLEN', req.handovers_key) == 0 end,
}

-- Apply MACHINE[cmd] to the stored state. Returns the state and the target phase, or nil and
-- the refusal reply {0, check, phase, extra} where check is 'no_episode', 'phase' or the
-- failed guard's name. Fills in req: now_ms, expect (-1: any), question (expect, else the
-- current index), voided_key.
local function machine_check(cmd, state_key, voided_key, req)
  local st = load_state(state_key)
  req.now_ms = now_ms()
  if not st.phase then return nil, {0, 'no_episode', '', 0} end
  local rule = MACHINE[cmd]
  local target = rule.moves[st.phase]
  if not target then return nil, {0, 'phase', st.phase, 0} end
  req.expect = tonumber(req.expect or -1)
  req.question = (req.expect >= 0) and req.expect or tonumber(st.qidx)
  req.voided_key = voided_key
  for _, g in ipairs(rule.guards) do
    local ok, extra = GUARDS[g](st, req)
    if not ok then return nil, {0, g, st.phase, extra or 0} end
  end
  return st, target
end

-- Move to ``target``: a new frame sequence number; returns it.
local function enter_phase(state_key, st, target, now)
  local seq = redis.call('HINCRBY', state_key, 'seq', 1)
  redis.call('HSET', state_key, 'phase', target, 'phase_at', now, 'prev_phase', st.phase)
  return seq
end

-- The success reply every command returns.
local function applied(seq, phase, qidx, now, release_at, deadline, extra)
  return {1, tonumber(seq), phase, tonumber(qidx), now, release_at or 0, deadline or 0, extra or 0}
end

-- script ----------------------------------------------------------------------------------------
