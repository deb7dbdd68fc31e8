-- A value every node shares (signing secret, host token): the stored one, or ``candidate``
-- stored now if there is none. ``replace`` = 1 stores the candidate in any case.
-- KEYS: 1 key   ARGV: 1 candidate  2 replace (1/0)   Returns the value in force.
if ARGV[2] ~= '1' then
  local value = redis.call('GET', KEYS[1])
  if value then return value end
end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
