#include "milter/end_transaction_retry.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "milter/milter_metrics.h"
#include "support/log.h"

namespace hive::milter {
namespace {

namespace pb = hive::policy::v1;

// A request the service will never take as it is: kept, it would only be
// refused again.
bool Retryable(const absl::Status& status) {
  return !absl::IsInvalidArgument(status) && !absl::IsUnimplemented(status);
}

}  // namespace

EndTransactionRetry::EndTransactionRetry(PolicyClient& inner, std::size_t max_pending)
    : inner_(inner), max_pending_(max_pending) {}

absl::StatusOr<pb::Verdict> EndTransactionRetry::CheckSender(const pb::SenderRequest& request) {
  return FlushedAfter(inner_.CheckSender(request));
}

absl::StatusOr<pb::Verdict> EndTransactionRetry::CheckRecipient(const pb::RecipientRequest& request) {
  return FlushedAfter(inner_.CheckRecipient(request));
}

absl::StatusOr<pb::Verdict> EndTransactionRetry::CheckMessage(const pb::MessageRequest& request) {
  return FlushedAfter(inner_.CheckMessage(request));
}

absl::StatusOr<pb::LeaseUsageReply> EndTransactionRetry::ReportLeaseUsage(const pb::LeaseUsageReport& report) {
  return FlushedAfter(inner_.ReportLeaseUsage(report));
}

absl::Status EndTransactionRetry::EndTransaction(const pb::EndTransactionRequest& request) {
  absl::Status status = inner_.EndTransaction(request);
  if (status.ok()) {
    Flush();
  } else if (Retryable(status)) {
    Keep(request);
  }
  return status;
}

std::size_t EndTransactionRetry::pending() const { return pending_count_.load(); }

void EndTransactionRetry::Counted() {
  pending_count_.store(pending_.size());
  if (MilterMetrics* metrics = CurrentMilterMetrics()) metrics->SetReleasesKept(pending_.size());
}

void EndTransactionRetry::Keep(const pb::EndTransactionRequest& request) {
  if (max_pending_ == 0) return;
  bool dropped = false;
  {
    std::lock_guard lock(mu_);
    if (pending_.size() >= max_pending_) {
      pending_.pop_front();
      dropped = true;
    }
    pending_.push_back(request);
    Counted();
  }
  if (dropped) {
    hive::log::Warning(absl::StrCat("end retry: ", max_pending_,
                                    " releases kept already; the oldest dropped (its units stay counted, as an unsettled reservation's do)"));
  }
}

void EndTransactionRetry::Flush() {
  if (pending_count_.load(std::memory_order_relaxed) == 0 || flushing_.exchange(true)) return;
  std::size_t released = 0;
  std::size_t refused = 0;
  const auto stop_at = std::chrono::steady_clock::now() + kMaxFlushTime;
  for (std::size_t i = 0; i < kMaxRetriesPerFlush && std::chrono::steady_clock::now() < stop_at; ++i) {
    pb::EndTransactionRequest request;
    {
      std::lock_guard lock(mu_);
      if (pending_.empty()) break;
      request = std::move(pending_.front());
      pending_.pop_front();
      Counted();
    }
    const absl::Status status = inner_.EndTransaction(request);
    if (!status.ok() && Retryable(status)) {
      std::lock_guard lock(mu_);
      pending_.push_front(std::move(request));
      Counted();
      break;
    }
    ++(status.ok() ? released : refused);
  }
  flushing_.store(false);
  if (released + refused > 0) {
    hive::log::Info(absl::StrCat("end retry: ", released, " transactions released after their EndTransaction had failed",
                                 refused > 0 ? absl::StrCat(", ", refused, " refused as malformed") : "", ", ",
                                 pending_count_.load(), " still kept"));
  }
}

}  // namespace hive::milter
