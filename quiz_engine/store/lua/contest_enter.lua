-- A participant enters: the person their identity names, or a new one. Never merges two people:
-- a look-alike (the same phone in another unit, the same name in one unit) is recorded for the
-- organiser to review, and both stay separate.
-- KEYS: 1 people  2 idents  3 dups  4 audit
-- ARGV: 1 new person id  2 profile json  3 identity key  4 now ('' = Redis)  then pairs:
--       (look-alike key, reason)
-- Returns {person, 1 new / 0 known, look-alikes found: person|reason ...}
local now = clock(ARGV[4])
local known = redis.call('HGET', KEYS[2], ARGV[3])
if known then return {known, 0} end
local pid = ARGV[1]
redis.call('HSET', KEYS[1], pid, ARGV[2])
redis.call('HSET', KEYS[2], ARGV[3], pid)
local found = {}
for i = 5, #ARGV, 2 do
  local key, reason = ARGV[i], ARGV[i + 1]
  local other = redis.call('HGET', KEYS[2], key)
  if other and other ~= pid then
    redis.call('HSET', KEYS[3], pid .. '|' .. other, reason .. '|' .. int(now))
    found[#found + 1] = other .. '|' .. reason
  elseif not other then
    redis.call('HSET', KEYS[2], key, pid)
  end
end
redis.call('XADD', KEYS[4], '*', 'e', 'enter', 'p', pid, 'who', ARGV[2], 't', int(now))
return {pid, 1, unpack(found)}
