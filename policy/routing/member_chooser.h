// Chooses the member (source address) of a pool that delivers a message,
// honouring warm-up caps:
//
//   1. cold members (with a warm-up schedule) come first, in weighted
//      order: the schedule, not the weight, sets a new address's volume,
//      and warming up means filling each day's cap. A cold member takes
//      the message only if the message may use a cold address
//      (transactional mail only with allow_transactional) and the gate
//      grants its cap for every recipient's provider group;
//   2. then warm members, in weighted order (weighted_order.h): the first
//      one takes it;
//   3. no member: the pool's overflow_pool, tried the same way.
//
// The algorithm is pure; the gate (warmup_ledger.h in production, a fake
// in tests) is the only state. Thread-safe if the gate is.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "routing/router.h"

namespace hive::policy::routing {

struct GroupCount {
  std::string group;
  std::int64_t count = 0;  // recipients of the message in that group
};

// The warm-up state the chooser consults. TryTake is all-or-nothing: it
// either counts `counts` against the member's caps of today and returns
// true, or changes nothing and returns false.
class WarmupGate {
 public:
  virtual ~WarmupGate() = default;
  virtual absl::StatusOr<bool> TryTake(const PoolMember& member, std::span<const GroupCount> counts) = 0;
};

struct MemberChoice {
  std::string pool;    // may differ from the routed pool (overflow)
  std::string member;  // "" when the pool has no members
  bool cold = false;   // a warming-up member took it
  std::string why;     // "warm", "cold", "overflow from <pool>", ...
};

// Recipient domains (normalised) -> recipients per provider group, in
// first-seen order.
std::vector<GroupCount> CountGroups(const ProviderGroups& groups, std::span<const std::string> domains);

// `key` makes the weighted order stable per message (the transaction id).
absl::StatusOr<MemberChoice> ChooseMember(const Router& router, const std::string& pool, std::string_view key,
                                          bool transactional, std::span<const GroupCount> groups,
                                          WarmupGate& gate);

}  // namespace hive::policy::routing
