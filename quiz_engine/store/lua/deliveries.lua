-- Record the delivery allowances of one node's fan-out of a question (see docs/protocol.md,
-- "Timing"): for each player whose socket was joined when the node started writing the
-- question, how long after that start the node wrote to it. First record wins (HSETNX): a
-- later fan-out, another node or a retry never changes an allowance once stored.
--
-- Refused (returns -1) unless the question is still the open one of this opening (same index,
-- same release time) and its answer window has not closed: an allowance is fixed at the
-- release, never afterwards.
--
-- KEYS: 1 state  2 deliveries(q)  3 audit
-- ARGV: 1 node boot id  2 question index  3 release_at (ms, the opening)
--       4 fan-out start (node monotonic µs)  5 lead: fan-out start − release (µs, node's estimate)
--       6 'player:allowance µs,…' (one argument: packing thousands of arguments cost the node
--         more CPU than the fan-out it runs beside)
-- Stored per player: 'boot|start|allowance|lead'. Audit: one 'fan' entry per call listing the
-- players added ('player:allowance,…').
local st = redis.call('HMGET', KEYS[1], 'qidx', 'release_at', 'deadline', 'grace', 'cap')
if tonumber(st[1]) ~= tonumber(ARGV[2]) or st[2] ~= ARGV[3] then return -1 end
local now = now_ms()
if now > tonumber(st[3]) + tonumber(st[4] or 0) then return -1 end
local cap = tonumber(st[5] or 0) * 1000
local boot, start, lead = ARGV[1], tonumber(ARGV[4]), tonumber(ARGV[5])
local added = {}
for player, allowance_s in string.gmatch(ARGV[6], '([^,:]+):(%-?%d+)') do
  local allowance = tonumber(allowance_s)
  if allowance < 0 then allowance = 0 end
  if allowance > cap then allowance = cap end
  if redis.call('HSETNX', KEYS[2], player, delivery_encode(boot, start, allowance, lead)) == 1 then
    added[#added + 1] = player .. ':' .. int(allowance)
  end
end
if #added > 0 then
  redis.call('XADD', KEYS[3], '*', 'e', 'fan', 'q', ARGV[2], 'rel', ARGV[3], 'node', boot, 'start', ARGV[4],
             'lead', ARGV[5], 'd', table.concat(added, ','), 'now', now)
end
return #added
