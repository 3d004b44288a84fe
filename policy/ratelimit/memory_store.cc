#include "ratelimit/memory_store.h"


namespace hive::policy::ratelimit {

absl::StatusOr<TakeResult> MemoryStore::Take(std::span<const BucketOp> ops, Nanos now, TakeMode mode) {
  std::lock_guard lock(mu_);
  MaybeSweep(now);
  TakeResult result;
  result.allowed = true;
  result.buckets.reserve(ops.size());
  for (const BucketOp& op : ops) {
    auto it = tat_.find(op.key);
    const Nanos tat = it == tat_.end() ? Nanos(0) : it->second;
    result.buckets.push_back(GcraTake(tat, now, op.params, op.cost));
    result.allowed = result.allowed && result.buckets.back().allowed;
  }
  if (result.allowed && mode == TakeMode::kConsume) {
    for (std::size_t i = 0; i < ops.size(); ++i) tat_[ops[i].key] = result.buckets[i].tat;
  }
  return result;
}

absl::Status MemoryStore::GiveBack(std::span<const BucketOp> ops, Nanos now) {
  std::lock_guard lock(mu_);
  for (const BucketOp& op : ops) {
    auto it = tat_.find(op.key);
    if (it == tat_.end()) continue;  // already idle: nothing to give back
    it->second = GcraGiveBack(it->second, now, op.params, op.cost);
  }
  return absl::OkStatus();
}

std::size_t MemoryStore::BucketCount() const {
  std::lock_guard lock(mu_);
  return tat_.size();
}

void MemoryStore::MaybeSweep(Nanos now) {
  if (++ops_since_sweep_ < kSweepEvery) return;
  ops_since_sweep_ = 0;
  std::erase_if(tat_, [&](const auto& entry) { return entry.second <= now; });
}

}  // namespace hive::policy::ratelimit
