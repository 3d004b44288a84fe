// Where rate-limit buckets live. The limiter speaks only this interface, so
// a shared store (Redis, with the same GCRA in a script) can replace the
// in-memory one without touching the limiter.
//
// Take() is all-or-nothing over its buckets: every bucket must allow its
// cost, else nothing is taken (but each bucket's verdict is reported, so the
// caller can say which window refused and when to retry). Implementations
// must be thread-safe. An unreachable store returns an error status
// (UNAVAILABLE), never a made-up "allowed".
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ratelimit/clock.h"
#include "ratelimit/gcra.h"

namespace hive::policy::ratelimit {

struct BucketOp {
  std::string key;
  GcraParams params;
  std::int64_t cost = 1;
};

struct TakeResult {
  bool allowed = false;
  std::vector<GcraResult> buckets;  // one per op, in order
};

enum class TakeMode {
  kConsume,  // take the cost when every bucket allows
  kPeek,     // evaluate only; change nothing
};

class Store {
 public:
  virtual ~Store() = default;
  virtual absl::StatusOr<TakeResult> Take(std::span<const BucketOp> ops, Nanos now, TakeMode mode) = 0;
  // Returns previously taken cost (a released reservation).
  virtual absl::Status GiveBack(std::span<const BucketOp> ops, Nanos now) = 0;
};

}  // namespace hive::policy::ratelimit
