-- Seed the show's settings only where absent (HSETNX): a node started with, say,
-- --stream-delay never overwrites the delay the host set on the running show.
-- KEYS: 1 show   ARGV: field, value pairs   Returns the show hash (flat).
for i = 1, #ARGV, 2 do redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) end
return redis.call('HGETALL', KEYS[1])
