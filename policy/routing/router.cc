#include "routing/router.h"

#include <algorithm>

namespace hive::policy::routing {
namespace {

bool InBand(const RoutingRule& rule, double score) {
  if (rule.min_score && score < *rule.min_score) return false;
  if (rule.max_score && score >= *rule.max_score) return false;
  return true;
}

bool LaneMatches(const RoutingRule& rule, const std::optional<std::string>& lane) {
  if (!rule.slow_lane) return !lane.has_value();
  if (!lane) return false;
  return rule.slow_lane_limits.empty() ||
         std::find(rule.slow_lane_limits.begin(), rule.slow_lane_limits.end(), *lane) != rule.slow_lane_limits.end();
}

}  // namespace

RouteDecision Router::Choose(const RouteInput& input) const {
  for (const RoutingRule& rule : rules_) {
    if (LaneMatches(rule, input.slow_lane) && InBand(rule, input.score) && rule.match.Matches(input.facts)) {
      return {rule.pool, rule.name};
    }
  }
  if (input.slow_lane) return {"", ""};
  return {default_pool_, ""};
}

const Pool* Router::FindPool(std::string_view name) const {
  for (const Pool& p : pools_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::pair<const Pool*, const PoolMember*> Router::FindMember(std::string_view name) const {
  for (const Pool& p : pools_) {
    for (const PoolMember& m : p.members) {
      if (m.name == name) return {&p, &m};
    }
  }
  return {nullptr, nullptr};
}

bool Router::IsTransactional(std::string_view message_class) const {
  if (message_class.empty()) return false;
  return std::any_of(transactional_classes_.begin(), transactional_classes_.end(),
                     [&](const std::string& glob) { return match::GlobMatch(glob, message_class); });
}

}  // namespace hive::policy::routing
