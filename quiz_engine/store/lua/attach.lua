-- The incoming side of a load: create the episode in the lobby with its questions unless it
-- exists, and make it loadable (unpark it) with the show's current stream delay. A new episode
-- is played under the show's prize rule as it is now (one prize per person or not): the rule is
-- the episode's from here on, changed only before its first question (command prize_rule).
-- (The outgoing episode was parked by command.lua 'load' first: see Store.load.)
-- KEYS: 1 state  2 question specs  3 public questions  4 meta  5 audit
-- ARGV: 1 meta json  2 stream delay ms  3 actor  4 one_prize (0/1)  5 count
--       then per question: spec, public json
-- Returns {created (1/0), phase, seq, meta json as stored}.
local created = 0
if redis.call('EXISTS', KEYS[1]) == 0 then
  local count = tonumber(ARGV[5])
  for i = 0, count - 1 do
    redis.call('HSET', KEYS[2], i, ARGV[6 + 2 * i])
    redis.call('HSET', KEYS[3], i, ARGV[7 + 2 * i])
  end
  redis.call('SET', KEYS[4], ARGV[1])
  local one_prize = (ARGV[4] == '1') and 1 or 0
  redis.call('HSET', KEYS[1], 'phase', PHASE.LOBBY, 'qidx', -1, 'next', 0, 'count', count, 'seq', 1,
             'one_prize', one_prize)
  redis.call('XADD', KEYS[5], '*', 'e', 'create', 'count', count, 'one_prize', one_prize, 'now', now_ms())
  created = 1
end
redis.call('HDEL', KEYS[1], 'parked')
redis.call('HSET', KEYS[1], 'delay_ms', ARGV[2])
redis.call('XADD', KEYS[5], '*', 'e', 'load', 'now', now_ms(), 'by', ARGV[3])
local st = redis.call('HMGET', KEYS[1], 'phase', 'seq')
return {created, st[1], tonumber(st[2]), redis.call('GET', KEYS[4])}
