// Compiles the `routing` section of the policy config into a Router: pools
// and their members (addresses, HELO names, weights, warm-up schedules,
// shaping, overflow), rules (match, score band, slow lane), provider groups,
// warm-up schedules and feedback patterns. Every problem is reported against
// its field path ("routing.pools[1].members[0].address") so the caller
// can name file:line:col.
//
// Thread-safety: a pure function (the callbacks must be usable from it).
#pragma once

#include <functional>
#include <set>
#include <string>

#include "config/content_config.h"
#include "hive/config/v1/policy_config.pb.h"
#include "match/matcher.h"
#include "routing/router.h"

namespace hive::policy::config {

struct RoutingCompileContext {
  ConfigError error;
  // Compiles a Match (shared with the limit rules), reporting through error.
  std::function<match::Matcher(const std::string& path, const hive::config::v1::Match& m)> match;
  // Checks a name's syntax and uniqueness in `seen`.
  std::function<void(const std::string& path, const std::string& name, std::set<std::string>& seen)> name;
  // Limit rules whose action is route (what slow_lane_limits may name).
  std::set<std::string> route_limits;
};

routing::Router CompileRouting(const hive::config::v1::Routing& in, const RoutingCompileContext& ctx);

}  // namespace hive::policy::config
