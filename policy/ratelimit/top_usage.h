// Top-N usage per limit rule with bounded memory: the Space-Saving
// algorithm (Metwally, Agrawal, El Abbadi 2005). At most `capacity` keys
// are tracked; a new key arriving when the table is full replaces the key
// with the smallest count and inherits that count (+ its own cost), so
//   - a key's reported count is never below its true usage, and above it
//     by at most the smallest count at the time it entered;
//   - every key whose true usage exceeds total / capacity is in the table.
// The Redis store keeps the same structure in a sorted set (redis_script.cc).
//
// Add and Top are O(log capacity). Not thread-safe (MemoryStore locks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace hive::policy::ratelimit {

// Keys tracked per rule and day, in both stores: what an operator sees is
// exact for every key with more than 1/kTopCapacity of a rule's usage.
inline constexpr std::size_t kTopCapacity = 1000;

struct UsageEntry {
  std::string key;
  std::int64_t used = 0;
};

class SpaceSaving {
 public:
  explicit SpaceSaving(std::size_t capacity = kTopCapacity) : capacity_(capacity) {}

  void Add(const std::string& key, std::int64_t n);
  // The `n` largest counts, largest first (ties: by key, descending, as
  // Redis's ZREVRANGE orders them).
  std::vector<UsageEntry> Top(std::size_t n) const;
  std::size_t size() const { return counts_.size(); }

 private:
  std::size_t capacity_;
  absl::flat_hash_map<std::string, std::int64_t> counts_;
  std::set<std::pair<std::int64_t, std::string>> order_;  // ascending
};

}  // namespace hive::policy::ratelimit
