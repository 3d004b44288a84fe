// The single-node Store: buckets in a hash map under one mutex.
//
// A bucket whose TAT is in the past is indistinguishable from a new one, so
// such entries are swept (every kSweepEvery operations) to bound memory to
// the buckets that are actually busy. Thread-safe.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

#include "ratelimit/store.h"

namespace hive::policy::ratelimit {

class MemoryStore final : public Store {
 public:
  absl::StatusOr<TakeResult> Take(std::span<const BucketOp> ops, Nanos now, TakeMode mode) override;
  absl::Status GiveBack(std::span<const BucketOp> ops, Nanos now) override;

  std::size_t BucketCount() const;

 private:
  static constexpr std::size_t kSweepEvery = 4096;
  void MaybeSweep(Nanos now);  // requires mu_

  mutable std::mutex mu_;
  std::unordered_map<std::string, Nanos> tat_;
  std::size_t ops_since_sweep_ = 0;
};

}  // namespace hive::policy::ratelimit
