// The rate-limit counter store hive-policyd runs on, chosen once at start
// from ratelimit.store (a reload cannot move counters between stores):
// memory, or Redis behind the OutageStore, which on an outage tempfails or
// falls back to a local memory store with a share of each limit.
//
// Usage (main.cc): absl::StatusOr<std::unique_ptr<CounterStore>> counters =
//   CounterStore::Open(snapshot.limit_store, clock);  limiter(counters->store(), ...)
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "config/snapshot.h"
#include "ratelimit/clock.h"
#include "ratelimit/memory_store.h"
#include "ratelimit/outage_store.h"
#include "ratelimit/redis_store.h"

namespace hive::policy::server {

class CounterStore {
 public:
  // A malformed Redis address is an error; Redis itself is not reached yet.
  static absl::StatusOr<std::unique_ptr<CounterStore>> Open(const config::LimitStoreSettings& settings,
                                                            const ratelimit::Clock& clock);

  ratelimit::Store& store() { return *store_; }
  // "memory", or "redis ADDRESS".
  const std::string& name() const { return name_; }

 private:
  CounterStore(const config::LimitStoreSettings& settings, const ratelimit::Clock& clock);

  ratelimit::MemoryStore memory_;
  std::unique_ptr<ratelimit::RedisStore> redis_;
  std::unique_ptr<ratelimit::MemoryStore> fallback_;
  std::unique_ptr<ratelimit::OutageStore> outage_;
  ratelimit::Store* store_ = &memory_;
  std::string name_ = "memory";
};

}  // namespace hive::policy::server
