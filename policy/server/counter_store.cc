#include "server/counter_store.h"

#include "absl/strings/str_cat.h"

namespace hive::policy::server {

CounterStore::CounterStore(const config::LimitStoreSettings& settings, const ratelimit::Clock& clock)
    : memory_(clock, {.max_buckets = settings.max_buckets}) {}

absl::StatusOr<std::unique_ptr<CounterStore>> CounterStore::Open(const config::LimitStoreSettings& settings,
                                                                 const ratelimit::Clock& clock) {
  std::unique_ptr<CounterStore> out(new CounterStore(settings, clock));
  if (!settings.redis) return out;
  ratelimit::RedisStoreOptions options{
      .pool_size = settings.redis_pool_size, .timeout = settings.redis_timeout, .key_prefix = settings.redis_key_prefix};
  if (absl::Status s = ratelimit::ParseRedisAddress(settings.redis_address, options); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("ratelimit.store.redis.address: ", s.message()));
  }
  out->redis_ = std::make_unique<ratelimit::RedisStore>(options);
  if (settings.redis_outage_local) out->fallback_ = std::make_unique<ratelimit::MemoryStore>(clock);
  out->outage_ = std::make_unique<ratelimit::OutageStore>(
      *out->redis_, out->fallback_.get(), clock,
      ratelimit::OutageOptions{
          .mode = settings.redis_outage_local ? ratelimit::OutageMode::kLocal : ratelimit::OutageMode::kTempfail,
          .share = settings.redis_fallback_share,
          .retry_interval = settings.redis_retry_interval});
  out->store_ = out->outage_.get();
  out->name_ = absl::StrCat("redis ", settings.redis_address);
  return out;
}

}  // namespace hive::policy::server
