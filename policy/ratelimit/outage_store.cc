#include "ratelimit/outage_store.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "support/log.h"

namespace hive::policy::ratelimit {

bool OutageStore::IsOutage(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s);
}

void OutageStore::MarkDown(const absl::Status& s) {
  down_until_ = (clock_.Now() + options_.retry_interval).count();
  if (!logged_down_.exchange(true)) {
    hive::log::Error(absl::StrCat("rate-limit store unreachable (", s.message(), "): ",
                                  options_.mode == OutageMode::kLocal
                                      ? "deciding on the local fallback store (bounded overshoot)"
                                      : "every limited decision fails (tempfail)"));
  }
}

absl::Status OutageStore::Refuse(const absl::Status& cause) const {
  return absl::UnavailableError(absl::StrCat("rate-limit store unreachable, failure mode tempfail: ",
                                             cause.message()));
}

std::vector<BucketOp> OutageStore::Scaled(std::span<const BucketOp> ops) const {
  std::vector<BucketOp> out(ops.begin(), ops.end());
  for (BucketOp& op : out) {
    if (op.kind == BucketKind::kQuota) {
      op.limit = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::floor(op.limit * options_.share)));
    } else {
      // share x the rate and share x the burst.
      op.params.emission_interval = Nanos(static_cast<Nanos::rep>(op.params.emission_interval.count() / options_.share));
      op.params.burst = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::floor(op.params.burst * options_.share)));
    }
  }
  return out;
}

absl::StatusOr<ReserveResult> OutageStore::Reserve(const ReserveRequest& request) {
  absl::Status cause = absl::UnavailableError("marked down");
  if (!primary_down()) {
    absl::StatusOr<ReserveResult> r = primary_.Reserve(request);
    if (r.ok() || !IsOutage(r.status())) {
      if (r.ok() && logged_down_.exchange(false)) hive::log::Info("rate-limit store reachable again");
      return r;
    }
    cause = r.status();
    MarkDown(cause);
  }
  if (options_.mode == OutageMode::kTempfail || local_ == nullptr) return Refuse(cause);
  ReserveRequest local = request;
  local.ops = Scaled(request.ops);
  absl::StatusOr<ReserveResult> r = local_->Reserve(local);
  if (r.ok()) r->degraded = true;
  return r;
}

absl::StatusOr<std::vector<BucketResult>> OutageStore::Peek(std::span<const BucketOp> ops) {
  absl::Status cause = absl::UnavailableError("marked down");
  if (!primary_down()) {
    absl::StatusOr<std::vector<BucketResult>> r = primary_.Peek(ops);
    if (r.ok() || !IsOutage(r.status())) return r;
    cause = r.status();
    MarkDown(cause);
  }
  if (options_.mode == OutageMode::kTempfail || local_ == nullptr) return Refuse(cause);
  return local_->Peek(Scaled(ops));
}

absl::Status OutageStore::Reset(std::span<const BucketOp> ops) {
  if (local_ != nullptr) local_->Reset(Scaled(ops)).IgnoreError();
  return primary_.Reset(ops);
}

// The shared ranking only: the local fallback's counts are a share of an
// outage, not usage an operator ranks senders by.
absl::StatusOr<std::vector<UsageEntry>> OutageStore::Top(const std::string& rule, std::size_t n) {
  return primary_.Top(rule, n);
}

absl::StatusOr<int> OutageStore::Commit(const std::string& transaction) {
  int local = 0;
  if (local_ != nullptr) local = local_->Commit(transaction).value_or(0);
  if (primary_down()) return local;
  absl::StatusOr<int> r = primary_.Commit(transaction);
  if (!r.ok() && IsOutage(r.status())) {
    MarkDown(r.status());
    // An unreachable primary keeps the reservation until its TTL: consumed,
    // which is what a commit means anyway.
    return local;
  }
  if (!r.ok()) return r;
  return *r + local;
}

absl::StatusOr<int> OutageStore::Release(const std::string& transaction) {
  int local = 0;
  if (local_ != nullptr) local = local_->Release(transaction).value_or(0);
  if (primary_down()) {
    return local > 0 || options_.mode == OutageMode::kLocal ? absl::StatusOr<int>(local)
                                                            : absl::StatusOr<int>(Refuse(absl::UnavailableError("marked down")));
  }
  absl::StatusOr<int> r = primary_.Release(transaction);
  if (!r.ok() && IsOutage(r.status())) {
    MarkDown(r.status());
    if (local > 0 || options_.mode == OutageMode::kLocal) return local;  // the rest expires consumed: strict
    return Refuse(r.status());
  }
  if (!r.ok()) return r;
  return *r + local;
}

}  // namespace hive::policy::ratelimit
