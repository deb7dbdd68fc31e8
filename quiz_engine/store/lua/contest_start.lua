-- Start an attempt: one in progress per person, the round's attempts limit, both atomic.
-- KEYS: 1 open  2 tries (this round)  3 attempt  4 audit  5 days (starts per local day)
-- ARGV: 1 person  2 attempt id  3 round  4 limit  5 expected attempt number  6 draw (packed)
--       7 key (correct places)  8 per-question limit ms (0)  9 per-attempt limit ms (0)
--       10 round opens ms  11 round closes ms  12 unit  13 prediction ('' none)  14 now ('' Redis)
--       15 the local day of now, as the caller's calendar says it (yyyy-mm-dd, Vietnam time)
-- Returns {'started', aid, t0, deadline} | {'in_progress', aid} | {'limit', n} | {'stale', n}
--         | {'closed', now}
local now = clock(ARGV[14])
local pid = ARGV[1]
local open = redis.call('HGET', KEYS[1], pid)
if open then return {'in_progress', open} end
if now < tonumber(ARGV[10]) or now >= tonumber(ARGV[11]) then return {'closed', int(now)} end
local tries = tonumber(redis.call('HGET', KEYS[2], pid) or '0')
if tries >= tonumber(ARGV[4]) then return {'limit', int(tries)} end
if tries + 1 ~= tonumber(ARGV[5]) then return {'stale', int(tries + 1)} end
local per_q, per_a = tonumber(ARGV[8]), tonumber(ARGV[9])
local key = ARGV[7]
local deadline = per_a > 0 and now + per_a or 0
redis.call('HSET', KEYS[2], pid, int(tries + 1))
redis.call('HINCRBY', KEYS[5], ARGV[15], 1)
redis.call('HSET', KEYS[1], pid, ARGV[2])
redis.call('HSET', KEYS[3], 'p', pid, 'r', ARGV[3], 'n', ARGV[5], 'u', ARGV[12], 'st', 'open', 't0', int(now),
  'dl', int(deadline), 'lq', int(per_q), 'q', int(#key), 'key', key, 'draw', ARGV[6], 'cur', '0', 'dv', '0',
  'ok', '0', 'tm', '0', 'ans', '', 'pr', ARGV[13])
redis.call('XADD', KEYS[4], '*', 'e', 'start', 'a', ARGV[2], 'p', pid, 'r', ARGV[3], 'n', ARGV[5], 'u', ARGV[12],
  'draw', ARGV[6], 'pr', ARGV[13], 't', int(now))
return {'started', ARGV[2], int(now), int(deadline)}
