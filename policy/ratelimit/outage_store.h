// The configured failure mode of a shared store (Redis): OutageStore wraps
// it and decides, in one place, what happens while it is unreachable.
//
//   kTempfail  every call fails with UNAVAILABLE: hive-policyd answers an
//              error and the milter applies its failure mode (default
//              451 4.7.1). Nothing passes unchecked.
//   kLocal     calls go to a local store (MemoryStore) with every limit
//              scaled by `share`: N replicas together grant at most
//              N x share x limit per window during the outage (the bounded
//              overshoot), and each such result is marked degraded (the
//              verdict carries RATELIMIT_FALLBACK and the log says so).
// After a failure the primary is not tried again for `retry_interval`, so
// an outage costs one deadline per interval, not one per message.
// Commit/Release go to both stores (a transaction may have reserved on
// either); a primary failure there is reported only when the local store
// held nothing of it. Thread-safe.
#pragma once

#include <atomic>

#include "ratelimit/clock.h"
#include "ratelimit/store.h"

namespace hive::policy::ratelimit {

enum class OutageMode { kTempfail, kLocal };

struct OutageOptions {
  OutageMode mode = OutageMode::kTempfail;
  double share = 0.5;
  Nanos retry_interval = std::chrono::seconds(1);
};

class OutageStore final : public Store {
 public:
  // `local` is required for kLocal; both must outlive this.
  OutageStore(Store& primary, Store* local, const Clock& clock, OutageOptions options)
      : primary_(primary), local_(local), clock_(clock), options_(options) {}

  absl::StatusOr<ReserveResult> Reserve(const ReserveRequest& request) override;
  absl::StatusOr<std::vector<BucketResult>> Peek(std::span<const BucketOp> ops) override;
  // Resets the primary (and the local fallback, whose counters would
  // otherwise resurface at the next outage).
  absl::Status Reset(std::span<const BucketOp> ops) override;
  absl::StatusOr<std::vector<UsageEntry>> Top(const std::string& rule, std::size_t n) override;
  absl::StatusOr<int> Commit(const std::string& transaction) override;
  absl::StatusOr<int> Release(const std::string& transaction) override;

  bool primary_down() const { return clock_.Now().count() < down_until_.load(); }

 private:
  static bool IsOutage(const absl::Status& s);
  void MarkDown(const absl::Status& s);
  std::vector<BucketOp> Scaled(std::span<const BucketOp> ops) const;
  absl::Status Refuse(const absl::Status& cause) const;

  Store& primary_;
  Store* local_;
  const Clock& clock_;
  const OutageOptions options_;
  std::atomic<Nanos::rep> down_until_{0};
  std::atomic<bool> logged_down_{false};
};

}  // namespace hive::policy::ratelimit
