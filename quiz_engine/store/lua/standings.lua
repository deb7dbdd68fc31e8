-- Read the standings index (record formats: store/records.py): the top ``n`` and the rank of
-- some players, disqualified players left out (they keep their entry: a reinstated player
-- ranks again). The index sorts by the standings rule itself, so nothing is sorted here.
-- An episode scored before the index existed has totals but no index: it is built from them.
-- KEYS: 1 stats  2 standings index  3 disqualified
-- ARGV: 1 n  then players
-- Returns {ranked players, n_top, top: member, score..., then per player: rank (0 = unranked
-- or disqualified), stored totals ('' if none)}.
if redis.call('EXISTS', KEYS[2]) == 0 then
  local stats = redis.call('HGETALL', KEYS[1])
  for i = 1, #stats, 2 do
    local c, total, last = score_decode(stats[i + 1])
    if c > 0 then
      local score, member = standing_entry(c, total, last, stats[i])
      redis.call('ZADD', KEYS[2], score, member)
    end
  end
end
local function member_of(player)  -- member, stored totals (or nil)
  local rec = redis.call('HGET', KEYS[1], player)
  if not rec then return nil end
  local c, total, last = score_decode(rec)
  local _, member = standing_entry(c, total, last, player)
  return member, rec
end
local dq_ranks = {}  -- 0-based index positions of disqualified players
for _, player in ipairs(redis.call('HKEYS', KEYS[3])) do
  local m = member_of(player)
  local r = m and redis.call('ZRANK', KEYS[2], m)
  if r then dq_ranks[#dq_ranks + 1] = r end
end
local n = tonumber(ARGV[1])
local top = {}
if n > 0 then
  local rows = redis.call('ZRANGE', KEYS[2], 0, n + #dq_ranks - 1, 'WITHSCORES')
  for i = 1, #rows, 2 do
    local player = string.match(rows[i], '^%d+|(.*)$')
    if #top < 2 * n and redis.call('HEXISTS', KEYS[3], player) == 0 then
      top[#top + 1] = rows[i]; top[#top + 1] = rows[i + 1]
    end
  end
end
local out = {redis.call('ZCARD', KEYS[2]) - #dq_ranks, #top / 2}
for _, v in ipairs(top) do out[#out + 1] = v end
for i = 2, #ARGV do
  local player, rank, rec = ARGV[i], 0, nil
  if redis.call('HEXISTS', KEYS[3], player) == 0 then
    local m
    m, rec = member_of(player)
    local r = m and redis.call('ZRANK', KEYS[2], m)
    if r then
      rank = r + 1
      for _, d in ipairs(dq_ranks) do if d < r then rank = rank - 1 end end
    end
  end
  out[#out + 1] = rank
  out[#out + 1] = rec or ''
end
return out
