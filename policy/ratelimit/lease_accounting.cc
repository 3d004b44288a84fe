// Degraded-mode leases in the limiter's terms (declared in limiter.h):
// the room check before a grant and the charge of reported usage. The
// grant policy itself (which classes, how much) is server/leases.cc's.
#include <utility>

#include "absl/strings/str_cat.h"
#include "ratelimit/limiter.h"

namespace hive::policy::ratelimit {

absl::StatusOr<bool> Limiter::HasRoomForLease(const LimitPolicy& policy, const match::Facts& facts,
                                              std::int64_t units) {
  // The admin API's read-only peek with `units` per window: shadow and
  // route rules never refuse, so only enforcing rules can say no.
  absl::StatusOr<LimitDecision> d = Peek(policy, facts, PeekOptions{.cost = units});
  if (!d.ok()) return d.status();
  return d->outcome == LimitOutcome::kAllow;
}

absl::StatusOr<LeaseCharge> Limiter::ChargeLeaseUsage(const LimitPolicy& policy, const std::string& usage_id,
                                                      const match::Facts& facts, std::int64_t recipients) {
  LeaseCharge charge;
  if (policy.exempt.ExemptsTransaction(facts)) return charge;
  const Nanos wall = clock_.Wall();
  ReserveRequest request{absl::StrCat("lease-usage:", usage_id), "usage", {}, policy.reservation_ttl};
  std::vector<const LimitRule*> rule_of_group{nullptr};  // group 0 stays empty
  for (std::size_t i = 0; i < policy.rules.size(); ++i) {
    const LimitRule& rule = policy.rules[i];
    if (!rule.match.Matches(facts)) continue;
    const std::optional<std::string> key = rule.key.Expand(facts);
    if (!key) continue;
    std::int64_t cost = 1;
    if (rule.cost == Cost::kRecipients) cost = recipients;
    if (rule.cost == Cost::kBytes) cost = static_cast<std::int64_t>(facts.message_bytes);
    if (cost <= 0) continue;
    const int group = static_cast<int>(rule_of_group.size());
    rule_of_group.push_back(&rule);
    for (BucketOp& op : OpsFor(policy, rule, static_cast<int>(i), facts, *key, cost, wall)) {
      op.group = group;
      request.ops.push_back(std::move(op));
    }
  }
  if (request.ops.empty()) return charge;
  absl::StatusOr<ReserveResult> r = store_.Reserve(request);
  if (!r.ok()) return r.status();
  if (r->repeated) {
    charge.repeated = true;
    return charge;
  }
  // A group took its cost when every one of its windows allowed.
  std::vector<bool> took(rule_of_group.size(), true);
  for (std::size_t i = 0; i < request.ops.size(); ++i) {
    if (!r->buckets[i].allowed) took[static_cast<std::size_t>(request.ops[i].group)] = false;
  }
  for (std::size_t g = 1; g < took.size(); ++g) {
    if (took[g]) ++charge.charged;
    else charge.over_limit.push_back(rule_of_group[g]->name);
  }
  return charge;
}

}  // namespace hive::policy::ratelimit
