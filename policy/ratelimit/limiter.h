// The rate limiter: maps limit rules (rule.h) to buckets and drives the
// two-phase accounting of each SMTP transaction through a Store. It keeps
// no state of its own: the reservations live in the store (in memory, or in
// Redis where every hive-policyd replica sees them), so the RCPT and the end
// of message of one transaction may reach different replicas.
//
//   CheckSender     (MAIL FROM) peeks at the rules that need no recipient
//                   or message facts; consumes nothing.
//   CheckRecipient  (RCPT TO) reserves the recipient's cost in every window
//                   of every matching RCPT-stage rule, in one store call,
//                   all-or-nothing across enforcing rules: a refused
//                   recipient reserves nothing. COST_MESSAGES reserves once
//                   per transaction and bucket; COST_RECIPIENTS per
//                   recipient. Asking again for a recipient that already
//                   reserved (an RPC retry) reserves nothing more.
//   CheckMessage    (end of message) the same for message-stage rules
//                   (headers, class, pool, bytes, route), once for the whole
//                   message; a route rule over its limit sets route_pool.
//   Commit          (message delivered) keeps what was reserved.
//   Release         (message refused, tempfailed, RSET, abort, close) gives
//                   it back, so a retried message costs once; idempotent.
// Reservations neither committed nor released within
// LimitPolicy::reservation_ttl are dropped and stay consumed.
//
// The rules come with each call (from the config snapshot the request
// uses); a reservation remembers what it took, so a reload never strands
// one. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "match/facts.h"
#include "ratelimit/clock.h"
#include "ratelimit/rule.h"
#include "ratelimit/store.h"

namespace hive::policy::ratelimit {

// A rule that could not take its cost.
struct LimitHit {
  std::string rule;
  std::string key;  // the expanded key, without the rule name
  LimitAction action = LimitAction::kTempfail;
  Nanos retry_after{0};        // until every window of the rule allows again
  std::int64_t remaining = 0;  // in the tightest window
  std::string route_pool;      // kRoute
};

// One window of one matching rule after the decision, for dashboards and
// the verdict: "limit 2000 per 1h, 1377 remaining, full again at ...".
struct WindowStatus {
  std::string rule;
  std::string key;
  std::string window;  // "3600s", "day", "week", "month"
  std::uint64_t limit = 0;
  std::int64_t remaining = 0;
  Nanos reset_at{0};   // wall clock: the quota window's end; a rate window full again
};

enum class LimitOutcome { kAllow, kTempfail, kReject };

// What charging one leased message did (ChargeLeaseUsage).
struct LeaseCharge {
  bool repeated = false;  // this usage id was charged before: nothing now
  int charged = 0;        // rules that took the message's cost
  // Rules that could not take it (already over their limit): the
  // overshoot the lease allowed, reported, not counted.
  std::vector<std::string> over_limit;
};

struct LimitDecision {
  LimitOutcome outcome = LimitOutcome::kAllow;
  std::vector<LimitHit> hits;  // every rule over its limit, shadow and route too
  // The hit the SMTP reply should name; set unless outcome is kAllow.
  std::optional<LimitHit> refusal;
  std::optional<std::string> route_pool;  // a route rule was over its limit
  std::vector<WindowStatus> windows;
  bool exempt = false;    // the transaction or recipient is exempt
  bool degraded = false;  // decided on the outage fallback store
};

class Limiter {
 public:
  Limiter(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  absl::StatusOr<LimitDecision> CheckSender(const LimitPolicy& policy, const match::Facts& facts);
  // `facts.recipients` holds exactly the recipient being checked.
  absl::StatusOr<LimitDecision> CheckRecipient(const LimitPolicy& policy, const std::string& transaction_id,
                                               const match::Facts& facts);
  // `facts`: every accepted recipient, the headers, message_class, pool and
  // message_bytes.
  absl::StatusOr<LimitDecision> CheckMessage(const LimitPolicy& policy, const std::string& transaction_id,
                                             const match::Facts& facts);
  // Read-only, for the admin API (counter reads, message dry-runs): every
  // rule of either stage that matches `facts`, or only `rule` with bucket
  // key `key` (its match then not checked), evaluated on Store::Peek with
  // `cost` units per window (nullopt: what CheckMessage would count; 0:
  // just read the windows). Reserves and consumes nothing.
  struct PeekOptions {
    std::optional<std::int64_t> cost;
    std::string rule;  // "" = every matching rule
    std::string key;   // with `rule`: the expanded key
  };
  absl::StatusOr<LimitDecision> Peek(const LimitPolicy& policy, const match::Facts& facts,
                                     const PeekOptions& options);
  // The bucket ops of `rule` (by name) for `key`, as the checks build them:
  // what an admin reset forgets. NOT_FOUND for an unknown rule.
  absl::StatusOr<std::vector<BucketOp>> BucketsOf(const LimitPolicy& policy, const std::string& rule,
                                                  const std::string& key, const match::Facts& facts) const;
  // Degraded mode (lease_accounting.cc). Whether every enforcing rule that
  // matches `facts` (sender and class; no recipients) has room for `units`
  // more now (a bytes rule: room for `units` bytes). Changes nothing.
  absl::StatusOr<bool> HasRoomForLease(const LimitPolicy& policy, const match::Facts& facts, std::int64_t units);
  // Charges one message a milter delivered on a lease to every rule that
  // matches `facts` (messages: 1, recipients: `recipients`, bytes:
  // `facts.message_bytes`), each rule on its own so that one full rule does
  // not stop the others. The charge is a reservation never committed, under
  // transaction "lease-usage:<usage_id>": a repeated report of the same id
  // within policy.reservation_ttl finds it and charges nothing; at the TTL
  // it is forgotten with its consumption kept.
  absl::StatusOr<LeaseCharge> ChargeLeaseUsage(const LimitPolicy& policy, const std::string& usage_id,
                                               const match::Facts& facts, std::int64_t recipients);
  // Both return how many rule reservations they settled.
  absl::StatusOr<int> Commit(const std::string& transaction_id) { return store_.Commit(transaction_id); }
  absl::StatusOr<int> Release(const std::string& transaction_id) { return store_.Release(transaction_id); }
  // The store and clock counted in; routing's warm-up caps count there too,
  // so that they are as exact and as shared as the limits.
  Store& store() { return store_; }
  const Clock& clock() const { return clock_; }

 private:
  struct Planned;
  std::vector<BucketOp> OpsFor(const LimitPolicy& policy, const LimitRule& rule, int index,
                               const match::Facts& facts, const std::string& key, std::int64_t cost,
                               Nanos wall) const;
  // `wall`: the caller's one reading of the wall clock for this decision
  // (quota windows and reset times agree, and the clock is read once).
  absl::StatusOr<LimitDecision> Reserve(const LimitPolicy& policy, const std::string& transaction_id,
                                        const std::string& once, std::vector<Planned> planned, Nanos wall);
  // Every planned rule evaluated without taking anything, in ONE store call
  // (a Redis round trip per decision, not per rule).
  absl::StatusOr<LimitDecision> PeekPlanned(std::vector<Planned> planned, Nanos wall);
  // The decision from the store's answers: `ops` and `results` hold each
  // planned rule's buckets in turn. `all_evaluated` false: only the
  // enforcing rules' answers count (group 0 refused, so the store looked at
  // no other group).
  static LimitDecision DecisionFrom(const std::vector<Planned>& planned, std::span<const BucketOp> ops,
                                    std::span<const BucketResult> results, bool all_evaluated, Nanos wall);

  Store& store_;
  const Clock& clock_;
};

// The refusal among hits: reject beats tempfail; among equals the longest
// wait (every window must allow before a retry can pass). Shadow and route
// hits never refuse; the first route hit names the pool.
LimitDecision DecideFromHits(std::vector<LimitHit> hits);

}  // namespace hive::policy::ratelimit
