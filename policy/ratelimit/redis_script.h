// The server-side Lua script of RedisStore: one EVALSHA per decision does
// the whole reserve / peek / commit / release for every bucket atomically
// (Redis runs a script alone), with GCRA on the server's own TIME, so that
// replicas with skewed clocks still share one exact limit.
// The same arithmetic as gcra.cc and MemoryStore, in microseconds.
#pragma once

namespace hive::policy::ratelimit {

extern const char kRedisScript[];

}  // namespace hive::policy::ratelimit
