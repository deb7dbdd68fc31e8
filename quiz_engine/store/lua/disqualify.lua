-- Disqualify (or reinstate) a player in an episode; recorded in the audit stream.
-- KEYS: 1 disqualified hash  2 audit  3 state
-- ARGV: 1 player  2 reason json ('' to reinstate)  3 actor
local now = now_ms()
local changed
if ARGV[2] == '' then
  changed = redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('XADD', KEYS[2], '*', 'e', 'undq', 'p', ARGV[1], 'now', now, 'by', ARGV[3])
else
  changed = redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('XADD', KEYS[2], '*', 'e', 'dq', 'p', ARGV[1], 'why', ARGV[2], 'now', now, 'by', ARGV[3])
end
redis.call('HINCRBY', KEYS[3], 'rev', 1)
return changed
