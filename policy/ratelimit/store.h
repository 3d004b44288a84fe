// Where rate-limit buckets and the reservations of open transactions live.
// The limiter speaks only this interface, so the in-memory store and the
// Redis store (same arithmetic in a server-side script) are interchangeable;
// both pass tests/policy/ratelimit/store_contract.h.
//
// A bucket is either a GCRA rate window (state: TAT) or a calendar quota
// (state: a count in the window [window_start, window_end), given by the
// caller in wall-clock time, so a new window is simply a new counter).
//
// Reserve() is the whole RCPT (or end-of-message) decision in one call:
//   - `once`: when the transaction's ledger already holds this token (an
//     RPC retry of the same recipient), nothing happens and `repeated` is set;
//   - ops of group 0 are all-or-nothing: every one must allow, else nothing
//     is taken and no other group is looked at;
//   - every other group is all-or-nothing on its own (shadow and route
//     rules: they count when they fit and never refuse the others);
//   - an op whose `token` the ledger already holds is skipped (allowed, cost
//     0): a per-message cost is paid once per transaction and bucket;
//   - what is taken is recorded in the transaction's ledger, with the
//     tokens, and the ledger lives `ttl` from its last change.
// Commit() forgets the ledger (what it took stays consumed, and counts in
// the rules' top-usage lists); Release() gives
// back everything it took and forgets it; both are idempotent and return
// how many rule reservations (distinct `rule` numbers taken) they settled.
// A ledger that reaches its TTL is forgotten with its consumption kept: a
// vanished milter must not hand out allowance.
//
// Time: the store uses its own clock for GCRA (in memory: the injected
// monotonic clock; Redis: the server's TIME), never the caller's.
// Implementations are thread-safe. An unreachable store returns an error
// status (UNAVAILABLE, DEADLINE_EXCEEDED), never a made-up "allowed".
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ratelimit/clock.h"
#include "ratelimit/gcra.h"
#include "ratelimit/top_usage.h"

namespace hive::policy::ratelimit {

enum class BucketKind { kRate, kQuota };

struct BucketOp {
  std::string key;
  BucketKind kind = BucketKind::kRate;
  GcraParams params;               // kRate
  std::int64_t limit = 0;          // kQuota: units per window
  Nanos window_start{0};           // kQuota, wall clock
  Nanos window_end{0};             // kQuota, wall clock
  std::int64_t cost = 1;
  int group = 0;                   // see Reserve()
  int rule = 0;                    // counts reservations; any number per rule
  std::string token;               // "" or: taken at most once per transaction
  // Top-N usage (Top()): set on one op per rule (the limiter: its first
  // window) to the rule's name and the expanded key; when a reservation of
  // this op is committed, its cost counts for that key in that rule's top
  // list. "" = not counted.
  std::string usage_rule;
  std::string usage_key;
};

struct BucketResult {
  bool allowed = false;
  bool skipped = false;            // token already paid in this transaction
  std::int64_t remaining = 0;      // whole units left after this call
  Nanos retry_after{0};            // kRate, when refused: until it would fit
  Nanos reset_after{0};            // kRate: until the bucket is full again
};

struct ReserveRequest {
  std::string transaction;
  std::string once;  // "" for none
  std::vector<BucketOp> ops;
  Nanos ttl = std::chrono::minutes(10);
};

struct ReserveResult {
  bool allowed = false;   // group 0 allowed (true when there is none)
  bool repeated = false;  // `once` was already there: nothing evaluated
  bool degraded = false;  // decided by an outage fallback (outage_store.h)
  std::vector<BucketResult> buckets;  // one per op, in order (empty if repeated)
};

class Store {
 public:
  virtual ~Store() = default;
  virtual absl::StatusOr<ReserveResult> Reserve(const ReserveRequest& request) = 0;
  // Evaluates as Reserve would (group 0 semantics for all ops), changes
  // nothing.
  virtual absl::StatusOr<std::vector<BucketResult>> Peek(std::span<const BucketOp> ops) = 0;
  // Forgets the buckets of `ops` (an operator's reset): they read as idle
  // afterwards. A store that cannot answers UNIMPLEMENTED.
  virtual absl::Status Reset(std::span<const BucketOp> ops) {
    (void)ops;
    return absl::UnimplementedError("this counter store cannot reset buckets");
  }
  // The keys of `rule` whose committed reservations cost the most units
  // since 00:00 UTC today (the store's wall clock), largest first, at most
  // `n`; bounded memory, approximate beyond the top (top_usage.h). A store
  // that cannot answers UNIMPLEMENTED.
  virtual absl::StatusOr<std::vector<UsageEntry>> Top(const std::string& rule, std::size_t n) {
    (void)rule;
    (void)n;
    return absl::UnimplementedError("this counter store keeps no usage ranking");
  }
  virtual absl::StatusOr<int> Commit(const std::string& transaction) = 0;
  virtual absl::StatusOr<int> Release(const std::string& transaction) = 0;
};

}  // namespace hive::policy::ratelimit
