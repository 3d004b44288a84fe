#include "routing/weighted_order.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace hive::policy::routing {
namespace {

// 64-bit FNV-1a then a splitmix64 finaliser: FNV alone mixes the last
// bytes poorly, and member names often differ only there ("ip-1", "ip-2").
std::uint64_t Hash(std::string_view key, std::string_view name) {
  std::uint64_t h = 14695981039346656037ull;
  auto feed = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
  };
  feed(key);
  h ^= 0xff;  // separator: ("ab","c") and ("a","bc") differ
  h *= 1099511628211ull;
  feed(name);
  h += 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

}  // namespace

std::vector<std::size_t> WeightedOrder(std::span<const WeightedItem> items, std::string_view key) {
  std::vector<std::pair<double, std::size_t>> scored;
  scored.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    // 53 random bits into (0, 1): never 0, so the log is finite.
    const double u = (static_cast<double>(Hash(key, items[i].name) >> 11) + 0.5) * 0x1.0p-53;
    const double score = items[i].weight == 0 ? std::numeric_limits<double>::infinity()
                                              : -std::log(u) / static_cast<double>(items[i].weight);
    scored.emplace_back(score, i);
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::size_t> order;
  order.reserve(scored.size());
  for (const auto& [score, i] : scored) order.push_back(i);
  return order;
}

}  // namespace hive::policy::routing
