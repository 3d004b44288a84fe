#include "ratelimit/top_usage.h"

namespace hive::policy::ratelimit {

void SpaceSaving::Add(const std::string& key, std::int64_t n) {
  if (capacity_ == 0 || n <= 0) return;
  if (auto it = counts_.find(key); it != counts_.end()) {
    // The node moves to its new place: no allocation, no copy of the key
    // (this runs for every committed reservation of a rule).
    auto node = order_.extract({it->second, key});
    it->second += n;
    node.value().first = it->second;
    order_.insert(std::move(node));
    return;
  }
  std::int64_t base = 0;
  if (counts_.size() >= capacity_) {
    // Replace the smallest: the newcomer may have been it all along.
    auto smallest = order_.begin();
    base = smallest->first;
    counts_.erase(smallest->second);
    order_.erase(smallest);
  }
  counts_.emplace(key, base + n);
  order_.insert({base + n, key});
}

std::vector<UsageEntry> SpaceSaving::Top(std::size_t n) const {
  std::vector<UsageEntry> out;
  for (auto it = order_.rbegin(); it != order_.rend() && out.size() < n; ++it) {
    out.push_back({it->second, it->first});
  }
  return out;
}

}  // namespace hive::policy::ratelimit
