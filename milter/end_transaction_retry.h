// A PolicyClient in front of another that keeps a failed EndTransaction
// and sends it again once the service answers: without it, a message whose
// release failed (hive-policyd killed or restarting between the message's
// RCPT and its refusal) keeps its recipients' units consumed (a reservation
// never settled counts as used once its TTL passes, reservation_ttl), and
// its sender's retry is refused for allowance nobody used.
//
// Kept requests are sent after the next call of any kind that succeeded
// (the service is back), oldest first, at most kMaxRetriesPerFlush or
// kMaxFlushTime at a time and by one thread at a time (others skip), so one
// session pays for a few extra round trips once after an outage. A retry that fails again
// stays kept (while releases keep failing and checks succeed, each check
// costs one retry more). EndTransaction is idempotent (a settled, expired or unknown
// transaction releases nothing), so retrying one the service did carry out
// is harmless. A request the service refuses as malformed is not kept.
//
// hive_milter_releases_kept (milter_metrics.h) says how many are kept.
// Bounded: at most `max_pending` kept; beyond that the oldest is dropped
// and its units stay counted, as before this class (the safe side: a
// sender can only lose allowance, never gain it). Kept requests live in memory: a
// milter restart loses them the same way.
//
// Usage: EndTransactionRetry policy(*grpc_client, kMaxPendingReleases);
//        ... sessions use `policy` as their PolicyClient ...
//
// Thread-safety: thread-safe when the wrapped client is.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>

#include "milter/policy_client.h"

namespace hive::milter {

// Sent after one successful call at most, and for at most this long: the
// session whose call triggered the flush waits for it.
inline constexpr std::size_t kMaxRetriesPerFlush = 32;
inline constexpr std::chrono::milliseconds kMaxFlushTime{250};
// Kept at most: far above the transactions in flight at any moment (one
// per SMTP session), so only a long outage with many refusals reaches it.
inline constexpr std::size_t kMaxPendingReleases = 10000;

class EndTransactionRetry final : public PolicyClient {
 public:
  EndTransactionRetry(PolicyClient& inner, std::size_t max_pending);

  absl::StatusOr<hive::policy::v1::Verdict> CheckSender(const hive::policy::v1::SenderRequest& request) override;
  absl::StatusOr<hive::policy::v1::Verdict> CheckRecipient(
      const hive::policy::v1::RecipientRequest& request) override;
  absl::StatusOr<hive::policy::v1::Verdict> CheckMessage(const hive::policy::v1::MessageRequest& request) override;
  absl::Status EndTransaction(const hive::policy::v1::EndTransactionRequest& request) override;
  absl::StatusOr<hive::policy::v1::LeaseUsageReply> ReportLeaseUsage(
      const hive::policy::v1::LeaseUsageReport& report) override;

  // Requests kept for a retry now.
  std::size_t pending() const;

 private:
  // After a call that succeeded: send what is kept.
  void Flush();
  template <typename Result>
  Result FlushedAfter(Result result) {
    if (result.ok()) Flush();
    return result;
  }
  void Keep(const hive::policy::v1::EndTransactionRequest& request);
  // Under mu_, after pending_ changed: the count and its gauge.
  void Counted();

  PolicyClient& inner_;
  const std::size_t max_pending_;
  mutable std::mutex mu_;
  std::deque<hive::policy::v1::EndTransactionRequest> pending_;  // guarded by mu_
  // pending_.size(), read without the lock on every call's fast path.
  std::atomic<std::size_t> pending_count_{0};
  std::atomic<bool> flushing_{false};
};

}  // namespace hive::milter
