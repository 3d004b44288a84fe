#include "routing/router.h"

namespace hive::policy::routing {

RouteDecision Router::Choose(const match::Facts& facts) const {
  for (const RoutingRule& rule : rules_) {
    if (rule.match.Matches(facts)) return {rule.pool, rule.name};
  }
  return {default_pool_, ""};
}

}  // namespace hive::policy::routing
