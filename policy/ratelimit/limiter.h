// The rate limiter: maps limit rules to buckets and keeps the two-phase
// accounting of each SMTP transaction.
//
//   CheckSender     (MAIL FROM) peeks at the rules that need no recipient
//                   facts; consumes nothing.
//   CheckRecipient  (RCPT TO) reserves one unit in every window of every
//                   matching rule, all-or-nothing across enforcing rules: a
//                   refused recipient reserves nothing. COST_MESSAGES
//                   reserves once per transaction and bucket, so a second
//                   recipient in the same bucket costs nothing more;
//                   COST_RECIPIENTS reserves per recipient. Asking again
//                   for a recipient that already reserved (an RPC retry)
//                   reserves nothing more.
//   Commit          (message delivered) keeps what was reserved.
//   Release         (message refused, RSET, abort) gives it back;
//                   idempotent.
// A transaction whose reservations are neither committed nor released
// within LimitPolicy::reservation_ttl is forgotten and its reservations stay
// consumed: a vanished milter must not hand out allowance.
//
// The rules come with each call (from the config snapshot the request
// uses), so a reload never strands reservations: each remembers the bucket
// parameters it was made with. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "match/facts.h"
#include "match/matcher.h"
#include "ratelimit/clock.h"
#include "ratelimit/key_template.h"
#include "ratelimit/store.h"

namespace hive::policy::ratelimit {

enum class Cost { kMessages, kRecipients };
enum class LimitAction { kTempfail, kReject, kShadow };

struct Window {
  std::uint64_t limit = 0;
  Nanos period{0};
  std::uint64_t burst = 0;  // 0: limit
};

struct LimitRule {
  std::string name;
  match::Matcher match;
  KeyTemplate key;
  std::vector<Window> windows;
  Cost cost = Cost::kMessages;
  LimitAction action = LimitAction::kTempfail;

  // Decidable at MAIL FROM: neither the match nor the key needs a recipient.
  bool SenderStage() const { return !match.UsesRecipient() && !key.UsesRecipient(); }
};

struct LimitPolicy {
  std::vector<LimitRule> rules;
  Nanos reservation_ttl = std::chrono::minutes(10);
};

// A rule that could not take one more unit.
struct LimitHit {
  std::string rule;
  std::string key;  // the expanded key, without the rule name
  LimitAction action = LimitAction::kTempfail;
  Nanos retry_after{0};      // until every window of the rule allows again
  std::int64_t remaining = 0;  // in the tightest window
};

enum class LimitOutcome { kAllow, kTempfail, kReject };

struct LimitDecision {
  LimitOutcome outcome = LimitOutcome::kAllow;
  std::vector<LimitHit> hits;  // every rule over its limit, shadow ones too
  // The hit the SMTP reply should name; set unless outcome is kAllow.
  std::optional<LimitHit> refusal;
};

class Limiter {
 public:
  Limiter(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  absl::StatusOr<LimitDecision> CheckSender(const LimitPolicy& policy, const match::Facts& facts);
  // `facts.recipients` holds exactly the recipient being checked.
  absl::StatusOr<LimitDecision> CheckRecipient(const LimitPolicy& policy, const std::string& transaction_id,
                                               const match::Facts& facts);
  // Both return how many reservations (rule buckets) they settled.
  absl::StatusOr<int> Commit(const std::string& transaction_id);
  absl::StatusOr<int> Release(const std::string& transaction_id);

  // Drops transactions past their TTL; also done lazily by every call.
  std::size_t ExpireReservations();
  std::size_t PendingTransactions() const;

 private:
  struct Transaction {
    std::mutex mu;
    bool closed = false;  // committed, released or expired: start afresh
    std::atomic<Nanos::rep> expires_at{0};
    std::vector<BucketOp> reserved;
    int reservations = 0;
    std::set<std::string> message_buckets;  // COST_MESSAGES buckets already paid
    std::set<std::string> recipients;       // recipients that reserved
  };

  std::shared_ptr<Transaction> Open(const std::string& id);
  std::shared_ptr<Transaction> Close(const std::string& id);
  void MaybeExpire(Nanos now);

  Store& store_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Transaction>> transactions_;
  Nanos next_sweep_{0};
};

// The refusal among hits: reject beats tempfail; among equals the longest
// wait (every window must allow before a retry can pass). Shadow hits never
// refuse.
LimitDecision DecideFromHits(std::vector<LimitHit> hits);

}  // namespace hive::policy::ratelimit
