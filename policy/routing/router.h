// IP-pool routing: which pool (sending IPs) a message leaves through.
//
// Rules are tried in order, the first whose Match accepts the message's
// facts wins; otherwise default_pool. An empty Router (no pools configured)
// chooses "" and the milter leaves routing to the MTA.
// Immutable after construction: Choose() is thread-safe.
#pragma once

#include <string>
#include <vector>

#include "match/facts.h"
#include "match/matcher.h"

namespace hive::policy::routing {

struct RoutingRule {
  std::string name;
  match::Matcher match;
  std::string pool;
};

struct RouteDecision {
  std::string pool;
  std::string rule;  // "" when the default pool was chosen
};

class Router {
 public:
  Router() = default;
  // The caller (config) has checked that every pool named exists.
  Router(std::vector<std::string> pools, std::vector<RoutingRule> rules, std::string default_pool)
      : pools_(std::move(pools)), rules_(std::move(rules)), default_pool_(std::move(default_pool)) {}

  RouteDecision Choose(const match::Facts& facts) const;
  const std::vector<std::string>& pools() const { return pools_; }

 private:
  std::vector<std::string> pools_;
  std::vector<RoutingRule> rules_;
  std::string default_pool_;
};

}  // namespace hive::policy::routing
