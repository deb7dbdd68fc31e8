-- Prepend to a list kept to its newest ``keep`` items; returns the newest ``read`` of them.
-- KEYS: 1 list   ARGV: 1 value  2 keep  3 read
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
return redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[3]) - 1)
