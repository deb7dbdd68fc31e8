-- Connection counts summed over the live nodes but one; nodes whose heartbeat expired are
-- dropped in the same step. Each node's entry: json of role -> count plus 'expires' (ms).
-- KEYS: 1 nodes hash   ARGV: 1 now (ms)  2 node to leave out
-- Returns a flat list: role, count, ...
local now, totals, order = tonumber(ARGV[1]), {}, {}
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  local node, info = entries[i], cjson.decode(entries[i + 1])
  if tonumber(info.expires or 0) < now then
    redis.call('HDEL', KEYS[1], node)
  elseif node ~= ARGV[2] then
    for role, n in pairs(info) do
      if role ~= 'expires' then
        if totals[role] == nil then totals[role] = 0; order[#order + 1] = role end
        totals[role] = totals[role] + tonumber(n)
      end
    end
  end
end
local out = {}
for _, role in ipairs(order) do out[#out + 1] = role; out[#out + 1] = totals[role] end
return out
