-- Point the show at another episode, unless it moved since the caller looked (another load).
-- KEYS: 1 show   ARGV: 1 expected current episode ('' = none)  2 new episode
-- Returns {1, ''} or {0, the episode loaded now}.
local current = redis.call('HGET', KEYS[1], 'episode') or ''
if current ~= ARGV[1] then return {0, current} end
redis.call('HSET', KEYS[1], 'episode', ARGV[2])
return {1, ''}
