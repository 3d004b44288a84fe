// Weighted selection inside a pool, as a deterministic order: rendezvous
// (highest random weight) hashing. Each member gets the score
// -ln(u) / weight, with u a hash of (key, member) mapped into (0, 1); the
// members sorted by ascending score. The first of the order is member i
// with probability weight_i / sum(weights), and dropping a member (spent
// cap, step-back) moves only the messages that would have gone to it.
//
// Pure function of its arguments: the same message key always gives the
// same order on every replica, with no shared round-robin state. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hive::policy::routing {

struct WeightedItem {
  std::string_view name;
  std::uint32_t weight = 1;  // 0 never comes first unless all are 0
};

// Indices into `items`, most preferred first.
std::vector<std::size_t> WeightedOrder(std::span<const WeightedItem> items, std::string_view key);

}  // namespace hive::policy::routing
