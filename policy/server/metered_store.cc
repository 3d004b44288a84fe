#include "server/metered_store.h"

#include <chrono>

namespace hive::policy::server {

MeteredStore::MeteredStore(ratelimit::Store& inner, metrics::Registry& registry)
    : inner_(inner),
      seconds_(registry.AddHistogram("hive_policyd_store_operation_duration_seconds",
                                     "Rate-limit store calls, by operation and result (ok, error).", {"op", "result"},
                                     metrics::LatencyBuckets())),
      errors_(registry.AddCounter("hive_policyd_store_errors_total",
                                  "Rate-limit store calls that failed (the RPC then answers UNAVAILABLE).", {"op"})) {
  // Present from the start, so alerts on increase() see a zero.
  for (const char* op : {"reserve", "peek", "commit", "release"}) errors_.WithLabels({op});
}

template <typename F>
auto MeteredStore::Timed(const char* op, F&& call) -> decltype(call()) {
  const auto start = std::chrono::steady_clock::now();
  auto result = call();
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  seconds_.WithLabels({op, result.ok() ? "ok" : "error"}).Observe(took.count());
  if (!result.ok()) errors_.WithLabels({op}).Inc();
  return result;
}

absl::StatusOr<ratelimit::ReserveResult> MeteredStore::Reserve(const ratelimit::ReserveRequest& request) {
  return Timed("reserve", [&] { return inner_.Reserve(request); });
}

absl::StatusOr<std::vector<ratelimit::BucketResult>> MeteredStore::Peek(std::span<const ratelimit::BucketOp> ops) {
  return Timed("peek", [&] { return inner_.Peek(ops); });
}

absl::Status MeteredStore::Reset(std::span<const ratelimit::BucketOp> ops) {
  return Timed("reset", [&] { return inner_.Reset(ops); });
}

absl::StatusOr<std::vector<ratelimit::UsageEntry>> MeteredStore::Top(const std::string& rule, std::size_t n) {
  return Timed("top", [&] { return inner_.Top(rule, n); });
}

absl::StatusOr<int> MeteredStore::Commit(const std::string& transaction) {
  return Timed("commit", [&] { return inner_.Commit(transaction); });
}

absl::StatusOr<int> MeteredStore::Release(const std::string& transaction) {
  return Timed("release", [&] { return inner_.Release(transaction); });
}

}  // namespace hive::policy::server
