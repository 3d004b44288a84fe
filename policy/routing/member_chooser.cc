#include "routing/member_chooser.h"

#include "absl/strings/str_cat.h"
#include "routing/weighted_order.h"

namespace hive::policy::routing {
namespace {

// Overflow chains are checked for cycles by config; this bound only keeps
// a broken hand-built Router from looping.
constexpr int kMaxOverflowHops = 8;

std::vector<std::size_t> Order(const Pool& pool, std::string_view key, bool cold) {
  std::vector<WeightedItem> items;
  std::vector<std::size_t> index;
  for (std::size_t i = 0; i < pool.members.size(); ++i) {
    if (pool.members[i].warmup.has_value() != cold) continue;
    items.push_back({pool.members[i].name, pool.members[i].weight});
    index.push_back(i);
  }
  std::vector<std::size_t> out;
  for (std::size_t k : WeightedOrder(items, key)) out.push_back(index[k]);
  return out;
}

}  // namespace

std::vector<GroupCount> CountGroups(const ProviderGroups& groups, std::span<const std::string> domains) {
  std::vector<GroupCount> out;
  for (const std::string& domain : domains) {
    const std::string g = groups.GroupOf(domain);
    bool found = false;
    for (GroupCount& c : out) {
      if (c.group == g) ++c.count, found = true;
    }
    if (!found) out.push_back({g, 1});
  }
  return out;
}

absl::StatusOr<MemberChoice> ChooseMember(const Router& router, const std::string& pool_name, std::string_view key,
                                          bool transactional, std::span<const GroupCount> groups,
                                          WarmupGate& gate) {
  std::string why;
  std::string name = pool_name;
  for (int hop = 0; hop <= kMaxOverflowHops; ++hop) {
    const Pool* pool = router.FindPool(name);
    if (pool == nullptr) return absl::InternalError(absl::StrCat("unknown pool '", name, "'"));
    if (pool->members.empty()) return MemberChoice{pool->name, "", false, why.empty() ? "no members" : why};
    for (std::size_t i : Order(*pool, key, /*cold=*/true)) {
      const PoolMember& m = pool->members[i];
      if (transactional && !m.warmup->allow_transactional) continue;
      absl::StatusOr<bool> taken = gate.TryTake(m, groups);
      if (!taken.ok()) return taken.status();
      if (*taken) return MemberChoice{pool->name, m.name, true, why.empty() ? "cold" : why + ", cold"};
    }
    const std::vector<std::size_t> warm = Order(*pool, key, /*cold=*/false);
    if (!warm.empty()) {
      return MemberChoice{pool->name, pool->members[warm.front()].name, false, why.empty() ? "warm" : why + ", warm"};
    }
    if (pool->overflow_pool.empty()) {
      return absl::ResourceExhaustedError(
          absl::StrCat("pool '", pool->name, "': every member is cold and capped, and no overflow_pool"));
    }
    absl::StrAppend(&why, why.empty() ? "" : ", ", "overflow from ", pool->name);
    name = pool->overflow_pool;
  }
  return absl::InternalError(absl::StrCat("pool '", pool_name, "': overflow chain too long"));
}

}  // namespace hive::policy::routing
