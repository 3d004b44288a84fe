#include "ratelimit/redis_script.h"

namespace hive::policy::ratelimit {

// KEYS[1] ledger of the transaction ("" transaction: unused), KEYS[2..]
// one per op. ARGV: cmd, ttl_ms (commit: top capacity), once, nops, then 10
// per op: kind ('r' rate | 'q' quota), a (rate: emission interval us;
// quota: limit), b (rate: burst), cost, group, rule, token, expire_at_ms
// (quota), top key prefix ("" = usage not counted), top member.
// top: ARGV cmd, n, '', 0, top key prefix; reply {member, score, ...}.
// Reply (reserve/peek): {allowed, repeated, per op: allowed, skipped,
// remaining, retry_us, reset_us}; commit/release: reservations settled;
// reset (an operator's, KEYS[2..] the buckets, no ARGV beyond cmd):
// buckets that existed.
const char kRedisScript[] = R"lua(
local cmd = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local ledger = KEYS[1]

local function fmt(x) return string.format('%.3f', x) end

if cmd == 'reset' then
  local n = 0
  for i = 2, #KEYS do n = n + redis.call('DEL', KEYS[i]) end
  return n
end

-- Top-N usage of today (UTC, server time), per rule: a sorted set of at
-- most `cap` members kept by Space-Saving (ratelimit/top_usage.h): a new
-- member when full replaces the smallest and inherits its score.
local day = math.floor(now / 86400000000)

if cmd == 'top' then
  return redis.call('ZREVRANGE', ARGV[5] .. day, 0, tonumber(ARGV[2]) - 1, 'WITHSCORES')
end

-- The top keys are, like the buckets release touches, not declared in KEYS:
-- safe for the same reason (they carry the {rl} tag).
if cmd == 'commit' then
  local n = tonumber(redis.call('HGET', ledger, 'n') or '0')
  local c = tonumber(redis.call('HGET', ledger, 'c') or '0')
  local cap = tonumber(ARGV[2])
  for i = 1, c do
    local prefix = redis.call('HGET', ledger, 'u' .. i)
    if prefix then
      local zkey = prefix .. day
      local member = redis.call('HGET', ledger, 'm' .. i)
      local cost = tonumber(string.match(redis.call('HGET', ledger, 'v' .. i), ':([^:]+)$'))
      if redis.call('ZSCORE', zkey, member) then
        redis.call('ZINCRBY', zkey, cost, member)
      elseif redis.call('ZCARD', zkey) < cap then
        redis.call('ZADD', zkey, cost, member)
      else
        local smallest = redis.call('ZRANGE', zkey, 0, 0, 'WITHSCORES')
        redis.call('ZREM', zkey, smallest[1])
        redis.call('ZADD', zkey, tonumber(smallest[2]) + cost, member)
      end
      redis.call('PEXPIRE', zkey, 2 * 86400000)
    end
  end
  redis.call('DEL', ledger)
  return n
end

-- Release gives back the buckets the ledger names, keys this call did not
-- pass in KEYS (they are known only inside the ledger; passing them would
-- cost a second round trip to read it first). Redis wants every key a script
-- touches declared, so that Cluster can route the script to the node owning
-- them; this is safe only because every key hive writes carries the same
-- {rl} hash tag (redis_store.cc BucketKey/LedgerKey), so the ledger and its
-- buckets are always in one slot on one node (the config refuses a
-- key_prefix with braces, which would move the tag). A key without the tag
-- would break it.
if cmd == 'release' then
  local n = tonumber(redis.call('HGET', ledger, 'n') or '0')
  local c = tonumber(redis.call('HGET', ledger, 'c') or '0')
  for i = 1, c do
    local key = redis.call('HGET', ledger, 'k' .. i)
    local spec = redis.call('HGET', ledger, 'v' .. i)
    local kind, a, cost = string.match(spec, '^(%a):([^:]+):([^:]+)$')
    a = tonumber(a); cost = tonumber(cost)
    local cur = redis.call('GET', key)
    if cur then
      if kind == 'r' then
        local tat = math.max(tonumber(cur) - a * cost, now)
        redis.call('SET', key, fmt(tat), 'KEEPTTL')
      else
        local left = math.max(tonumber(cur) - cost, 0)
        redis.call('SET', key, left, 'KEEPTTL')
      end
    end
  end
  redis.call('DEL', ledger)
  return n
end

local apply = cmd == 'reserve'
local once = ARGV[3]
if apply and ledger ~= '' and once ~= '' and redis.call('HEXISTS', ledger, 't:' .. once) == 1 then
  return {1, 1}
end

local nops = tonumber(ARGV[4])
local ops = {}
for i = 1, nops do
  local base = 4 + (i - 1) * 10
  ops[i] = {
    key = KEYS[i + 1], kind = ARGV[base + 1], a = tonumber(ARGV[base + 2]), b = tonumber(ARGV[base + 3]),
    cost = tonumber(ARGV[base + 4]), group = tonumber(ARGV[base + 5]), rule = ARGV[base + 6],
    token = ARGV[base + 7], expire_at = tonumber(ARGV[base + 8]),
    top = ARGV[base + 9], member = ARGV[base + 10],
    allowed = 0, skipped = 0, remaining = 0, retry = 0, reset = 0, state = nil,
  }
end

local function eval(op)
  if apply and op.token ~= '' and ledger ~= '' and redis.call('HEXISTS', ledger, 't:' .. op.token) == 1 then
    op.allowed = 1; op.skipped = 1
    return
  end
  local cur = tonumber(redis.call('GET', op.key) or '0')
  if op.kind == 'q' then
    if cur + op.cost <= op.a then
      op.allowed = 1; op.remaining = op.a - cur - op.cost
    else
      op.remaining = math.max(0, op.a - cur)
    end
    op.state = cur + op.cost
    return
  end
  local T = op.a
  local tol = T * op.b
  local start = math.max(cur, now)
  local new_tat = start + T * op.cost
  local allow_at = new_tat - tol
  if allow_at <= now then
    op.allowed = 1
    op.remaining = math.floor((now + tol - new_tat) / T + 1e-9)
    op.state = new_tat
    op.reset = new_tat - now
  else
    if op.cost > op.b then op.retry = tol else op.retry = allow_at - now end
    op.remaining = math.max(0, math.floor((now + tol - start) / T + 1e-9))
    op.reset = math.max(0, cur - now)
  end
end

local function write(op)
  if op.skipped == 1 then return end
  if op.kind == 'q' then
    redis.call('SET', op.key, op.state, 'PXAT', op.expire_at + 60000)
  else
    redis.call('SET', op.key, fmt(op.state), 'PX', math.floor((op.state - now) / 1000) + 1000)
  end
end

local groups = {}
local order = {}
for i = 1, nops do
  local g = ops[i].group
  if not groups[g] then groups[g] = {}; table.insert(order, g) end
  table.insert(groups[g], ops[i])
end
table.sort(order)

local allowed = 1
local taken = {}
for _, g in ipairs(order) do
  local all = true
  for _, op in ipairs(groups[g]) do
    eval(op)
    if op.allowed == 0 then all = false end
  end
  if g == 0 and not all then
    allowed = 0
    if apply then break end
  elseif apply and all then
    for _, op in ipairs(groups[g]) do
      write(op)
      if op.skipped == 0 then table.insert(taken, op) end
    end
  end
end

if apply and allowed == 1 and ledger ~= '' and #taken > 0 then
  local c = tonumber(redis.call('HGET', ledger, 'c') or '0')
  local rules = {}
  local nrules = 0
  for _, op in ipairs(taken) do
    c = c + 1
    local a = op.a
    if op.kind == 'q' then a = 0 end
    redis.call('HSET', ledger, 'k' .. c, op.key, 'v' .. c, op.kind .. ':' .. fmt(a) .. ':' .. op.cost)
    if op.top ~= '' then redis.call('HSET', ledger, 'u' .. c, op.top, 'm' .. c, op.member) end
    if op.token ~= '' then redis.call('HSET', ledger, 't:' .. op.token, 1) end
    if not rules[op.rule] then rules[op.rule] = true; nrules = nrules + 1 end
  end
  if once ~= '' then redis.call('HSET', ledger, 't:' .. once, 1) end
  redis.call('HSET', ledger, 'c', c)
  redis.call('HINCRBY', ledger, 'n', nrules)
  redis.call('PEXPIRE', ledger, tonumber(ARGV[2]))
end

local out = {allowed, 0}
for i = 1, nops do
  local op = ops[i]
  table.insert(out, op.allowed); table.insert(out, op.skipped); table.insert(out, op.remaining)
  table.insert(out, math.floor(op.retry)); table.insert(out, math.floor(op.reset))
end
return out
)lua";

}  // namespace hive::policy::ratelimit
