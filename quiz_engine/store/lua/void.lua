-- Void (cancel) a question: its answers stop counting for standings and prizes.
-- Player totals are recomputed from the remaining questions' stored answers.
-- KEYS: 1 state  2 audit  3 voided set  4 stats  5 rank  6 correct zset(q)  7 question specs
--       8.. answers hash of every question of the episode, in index order
-- ARGV: 1 question index  2 target phase  3 allowed phases  4 actor  5 reason
local idx = tonumber(ARGV[1])
local st = redis.call('HMGET', KEYS[1], 'phase', 'qidx', 'correct')
local phase = st[1]
local ok = false
for p in string.gmatch(ARGV[3], '[^,]+') do if p == phase then ok = true end end
if not ok then return {0, 'phase', phase or ''} end
if tonumber(st[2]) ~= idx then return {0, 'stale', phase} end
if redis.call('SADD', KEYS[3], idx) == 0 then return {0, 'already_voided', phase} end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local correct_of = {}
local specs = redis.call('HGETALL', KEYS[7])
for i = 1, #specs, 2 do
  correct_of[tonumber(specs[i])] = tonumber(string.match(specs[i + 1], '^(%d+)|'))
end

local players = redis.call('ZRANGE', KEYS[6], 0, -1)
for _, player in ipairs(players) do
  local c, total, last = 0, 0, 0
  for q = 0, #KEYS - 8 do
    if q ~= idx and redis.call('SISMEMBER', KEYS[3], q) == 0 then
      local rec = redis.call('HGET', KEYS[8 + q], player)
      if rec then
        local o, r, s = string.match(rec, '^(%-?%d+)|(%-?%d+)|(%d+)|')
        if tonumber(o) == correct_of[q] then
          c = c + 1
          total = total + tonumber(r)
          last = q * 10000000 + tonumber(s)
        end
      end
    end
  end
  if c == 0 then
    redis.call('HDEL', KEYS[4], player)
    redis.call('ZREM', KEYS[5], player)
  else
    redis.call('HSET', KEYS[4], player, string.format('%d|%d|%d', c, total, last))
    redis.call('ZADD', KEYS[5], string.format('%d', (100000 - c) * 10000000000 + total), player)
  end
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[1], 'phase', ARGV[2], 'phase_at', now, 'prev_phase', phase)
redis.call('XADD', KEYS[2], '*', 'e', 'void', 'q', idx, 'now', now, 'seq', seq, 'by', ARGV[4], 'why', ARGV[5])
return {1, seq, ARGV[2], idx, now, 0, 0}
