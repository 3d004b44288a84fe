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

-- A transaction's ledger is a hash: 'n' reservations (distinct rules) taken,
-- 'ne' entries, 'e<i>' one entry per reserve call that took something (a
-- MessagePack array of 6 values per bucket taken: key, kind, a, cost, top
-- prefix, top member), 't:<token>' = 1 for every token paid. One field per
-- call, not per bucket: the fields of a hash are what writing it costs.
local function read_ledger()
  local flat = redis.call('HGETALL', ledger)
  local h = {}
  for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
  return h
end

local function for_each_taken(h, fn)
  for i = 1, tonumber(h.ne or '0') do
    local e = cmsgpack.unpack(h['e' .. i])
    for j = 1, #e, 6 do fn(e[j], e[j + 1], e[j + 2], e[j + 3], e[j + 4], e[j + 5]) end
  end
end

-- The top keys are, like the buckets release touches, not declared in KEYS:
-- safe for the same reason (they carry the {rl} tag). A day's key gets its
-- TTL when it is made: its name changes with the day, so it is never
-- written after the day it names.
if cmd == 'commit' then
  local h = read_ledger()
  local cap = tonumber(ARGV[2])
  for_each_taken(h, function(key, kind, a, cost, top, member)
    if top == '' then return end
    local zkey = top .. day
    if not redis.call('ZADD', zkey, 'XX', 'INCR', cost, member) then
      local size = redis.call('ZCARD', zkey)
      if size < cap then
        redis.call('ZADD', zkey, cost, member)
        if size == 0 then redis.call('PEXPIRE', zkey, 2 * 86400000) end
      else
        local smallest = redis.call('ZRANGE', zkey, 0, 0, 'WITHSCORES')
        redis.call('ZREM', zkey, smallest[1])
        redis.call('ZADD', zkey, tonumber(smallest[2]) + cost, member)
      end
    end
  end)
  redis.call('DEL', ledger)
  return tonumber(h.n or '0')
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
  local h = read_ledger()
  for_each_taken(h, function(key, kind, a, cost)
    local cur = redis.call('GET', key)
    if not cur then return end
    if kind == 'r' then
      redis.call('SET', key, fmt(math.max(tonumber(cur) - a * cost, now)), 'KEEPTTL')
    else
      redis.call('SET', key, math.max(tonumber(cur) - cost, 0), 'KEEPTTL')
    end
  end)
  redis.call('DEL', ledger)
  return tonumber(h.n or '0')
end

-- Reserve and peek. Redis calls are what a script pays for (each costs
-- about as much as the arithmetic of a whole op), so every read is one
-- call: the ledger's fields in one HMGET, the buckets in one MGET; and the
-- ledger is written in one HSET.
local apply = cmd == 'reserve'
local once = ARGV[3]
local nops = tonumber(ARGV[4])
local use_ledger = apply and ledger ~= ''

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

-- Tokens already paid in this transaction (field 't:<token>' of the ledger),
-- read before anything is written: two ops of this call with one token both
-- pay, as in MemoryStore.
local paid = {}
local entries, reservations = 0, 0
if use_ledger then
  local fields = {'ne', 'n'}
  if once ~= '' then table.insert(fields, 't:' .. once) end
  for i = 1, nops do
    if ops[i].token ~= '' then table.insert(fields, 't:' .. ops[i].token) end
  end
  local got = redis.call('HMGET', ledger, unpack(fields))
  entries = tonumber(got[1] or '0')
  reservations = tonumber(got[2] or '0')
  for j = 3, #fields do
    if got[j] then paid[string.sub(fields[j], 3)] = true end
  end
  if once ~= '' and paid[once] then return {1, 1} end
end

-- A bucket a group wrote is read by a later group with what it wrote.
local written = {}
if nops > 0 then
  local curs = redis.call('MGET', unpack(KEYS, 2, nops + 1))
  for i = 1, nops do ops[i].cur = tonumber(curs[i] or '0') end
end

local function eval(op)
  if op.token ~= '' and paid[op.token] then
    op.allowed = 1; op.skipped = 1
    return
  end
  local cur = written[op.key] or op.cur
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
  written[op.key] = op.state
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

if use_ledger and allowed == 1 and #taken > 0 then
  local entry = {}
  local fields = {}
  local function put(f, v) fields[#fields + 1] = f; fields[#fields + 1] = v end
  local rules = {}
  local nrules = 0
  for _, op in ipairs(taken) do
    local a = op.a
    if op.kind == 'q' then a = 0 end
    local n = #entry
    entry[n + 1] = op.key; entry[n + 2] = op.kind; entry[n + 3] = a
    entry[n + 4] = op.cost; entry[n + 5] = op.top; entry[n + 6] = op.member
    if op.token ~= '' and not paid[op.token] then paid[op.token] = true; put('t:' .. op.token, 1) end
    if not rules[op.rule] then rules[op.rule] = true; nrules = nrules + 1 end
  end
  if once ~= '' then put('t:' .. once, 1) end
  put('e' .. (entries + 1), cmsgpack.pack(entry))
  put('ne', entries + 1)
  put('n', reservations + nrules)
  redis.call('HSET', ledger, unpack(fields))
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
