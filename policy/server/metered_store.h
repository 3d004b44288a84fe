// A ratelimit::Store decorator that times every call to the store it wraps
// and counts failures: hive_policyd_store_operation_duration_seconds{op,
// result} and hive_policyd_store_errors_total{op}. With the in-memory store
// this shows lock contention; with a shared store (Redis) the network and
// the server, and its errors feed the "store errors" alert.
//
// Usage (main): MeteredStore metered(store, registry); Limiter(metered, ...).
// Changes nothing in what the wrapped store answers.
//
// Thread-safety: as thread-safe as the wrapped store (which must be).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "ratelimit/store.h"
#include "support/metrics.h"

namespace hive::policy::server {

class MeteredStore final : public ratelimit::Store {
 public:
  MeteredStore(ratelimit::Store& inner, metrics::Registry& registry);

  absl::StatusOr<ratelimit::ReserveResult> Reserve(const ratelimit::ReserveRequest& request) override;
  absl::StatusOr<std::vector<ratelimit::BucketResult>> Peek(std::span<const ratelimit::BucketOp> ops) override;
  absl::Status Reset(std::span<const ratelimit::BucketOp> ops) override;
  absl::StatusOr<std::vector<ratelimit::UsageEntry>> Top(const std::string& rule, std::size_t n) override;
  absl::StatusOr<int> Commit(const std::string& transaction) override;
  absl::StatusOr<int> Release(const std::string& transaction) override;

 private:
  template <typename F>
  auto Timed(const char* op, F&& call) -> decltype(call());

  ratelimit::Store& inner_;
  metrics::HistogramFamily& seconds_;
  metrics::CounterFamily& errors_;
};

}  // namespace hive::policy::server
