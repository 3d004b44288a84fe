// IP-pool routing: which pool (sending IPs) a message leaves through.
//
// Rules are tried in order, the first whose conditions all hold wins;
// otherwise default_pool. A rule's conditions: its Match on the message's
// facts (sender, sender domain, SASL user = account, a tenant header,
// message class, recipient domain, ...), an optional content-score band,
// and optionally "sent down a rate limit's slow lane". An empty Router (no
// pools configured) chooses "" and the milter leaves routing to the MTA.
//
// The Router also owns the pool catalogue (members, shaping, warm-up
// schedules) and the provider groups, which member_chooser.h and the
// Postfix generator read. Immutable after construction: thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "match/facts.h"
#include "match/matcher.h"
#include "routing/delivery_feedback.h"
#include "routing/pool.h"
#include "routing/provider_groups.h"

namespace hive::policy::routing {

struct RoutingRule {
  std::string name;
  match::Matcher match;
  std::string pool;
  std::optional<double> min_score;  // inclusive
  std::optional<double> max_score;  // exclusive
  // Only messages a route limit sent down its slow lane; when
  // slow_lane_limits is not empty, only those limits' lanes.
  bool slow_lane = false;
  std::vector<std::string> slow_lane_limits;
};

// Everything a routing rule can look at.
struct RouteInput {
  const match::Facts& facts;
  double score = 0;
  // The limit rule whose action route fired, when one did.
  std::optional<std::string> slow_lane;
};

struct RouteDecision {
  std::string pool;
  std::string rule;  // "" when the default pool was chosen
};

class Router {
 public:
  Router() = default;
  // The caller (config) has checked names, references and cycles.
  Router(std::vector<Pool> pools, std::vector<RoutingRule> rules, std::string default_pool,
         ProviderGroups groups = {}, std::vector<std::string> transactional_classes = {"transactional"},
         FeedbackPolicy feedback = {})
      : pools_(std::move(pools)),
        rules_(std::move(rules)),
        default_pool_(std::move(default_pool)),
        groups_(std::move(groups)),
        transactional_classes_(std::move(transactional_classes)),
        feedback_(std::move(feedback)) {}

  // First matching rule, else default_pool. Rules with slow_lane match
  // only when input.slow_lane is set, and then only those rules are tried
  // (a second pass after the limits decided): no match then gives pool ""
  // (the limit's own route_pool applies).
  RouteDecision Choose(const RouteInput& input) const;
  // The first matching rule, compatible with limit-only callers.
  RouteDecision Choose(const match::Facts& facts) const { return Choose(RouteInput{facts}); }

  const std::vector<Pool>& pools() const { return pools_; }
  const Pool* FindPool(std::string_view name) const;
  bool HasPool(std::string_view name) const { return FindPool(name) != nullptr; }
  const ProviderGroups& groups() const { return groups_; }
  bool IsTransactional(std::string_view message_class) const;
  const std::string& default_pool() const { return default_pool_; }
  // Which delivery reports step a warm-up back, and when.
  const FeedbackPolicy& feedback() const { return feedback_; }
  // The member called `name` in any pool, with its pool.
  std::pair<const Pool*, const PoolMember*> FindMember(std::string_view name) const;

 private:
  std::vector<Pool> pools_;
  std::vector<RoutingRule> rules_;
  std::string default_pool_;
  ProviderGroups groups_;
  std::vector<std::string> transactional_classes_;
  FeedbackPolicy feedback_;
};

}  // namespace hive::policy::routing
