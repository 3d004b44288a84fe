#include "config/routing_config.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "match/ip.h"

namespace hive::policy::config {
namespace {

namespace v1 = hive::config::v1;

// warm_at bound: keeps WarmDay() and the store's counters small.
constexpr std::uint64_t kMaxWarmAt = std::uint64_t{1} << 40;

// An EHLO name: dot-separated labels of letters, digits and '-'.
bool ValidHostName(const std::string& name) {
  if (name.empty() || name.size() > 253 || name.front() == '.' || name.back() == '.') return false;
  std::size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-') || ++label > 63) return false;
  }
  return name.find('.') != std::string::npos;
}

class RoutingCompiler {
 public:
  explicit RoutingCompiler(const RoutingCompileContext& ctx) : ctx_(ctx) {}

  routing::Router Compile(const v1::Routing& in) {
    Schedules(in.warmups());
    routing::ProviderGroups groups = Groups(in.provider_groups());
    std::vector<routing::Pool> pools = Pools(in.pools());
    std::set<std::string> pool_names;
    for (const routing::Pool& p : pools) pool_names.insert(p.name);
    const std::string known = pool_names.empty() ? "none configured" : absl::StrJoin(pool_names, ", ");
    auto check_pool = [&](const std::string& path, const std::string& pool) {
      if (pool.empty()) ctx_.error(path, "a pool is required");
      else if (!pool_names.contains(pool)) ctx_.error(path, absl::StrCat("unknown pool '", pool, "' (pools: ", known, ")"));
    };
    for (int i = 0; i < in.pools_size(); ++i) {
      if (!in.pools(i).overflow_pool().empty()) {
        check_pool(absl::StrCat("routing.pools[", i, "].overflow_pool"), in.pools(i).overflow_pool());
      }
    }
    CheckOverflowChains(pools);

    std::vector<routing::RoutingRule> rules;
    std::set<std::string> names;
    for (int i = 0; i < in.rules_size(); ++i) {
      const v1::RoutingRule& r = in.rules(i);
      const std::string path = absl::StrCat("routing.rules[", i, "]");
      ctx_.name(path + ".name", r.name(), names);
      check_pool(path + ".pool", r.pool());
      routing::RoutingRule rule{r.name(), ctx_.match(path + ".match", r.match()), r.pool()};
      if (r.has_min_score()) rule.min_score = r.min_score();
      if (r.has_max_score()) rule.max_score = r.max_score();
      if (rule.min_score && rule.max_score && *rule.min_score >= *rule.max_score) {
        ctx_.error(path + ".max_score", "must be greater than min_score");
      }
      rule.slow_lane = r.slow_lane() || r.slow_lane_limits_size() > 0;
      for (int k = 0; k < r.slow_lane_limits_size(); ++k) {
        if (!ctx_.route_limits.contains(r.slow_lane_limits(k))) {
          ctx_.error(absl::StrCat(path, ".slow_lane_limits[", k, "]"),
                     absl::StrCat("'", r.slow_lane_limits(k), "' is not a limit rule with action route"));
        }
        rule.slow_lane_limits.push_back(r.slow_lane_limits(k));
      }
      rules.push_back(std::move(rule));
    }
    if (!pools.empty() || !in.default_pool().empty()) check_pool("routing.default_pool", in.default_pool());

    std::vector<std::string> transactional;
    for (const std::string& c : in.transactional_classes()) transactional.push_back(absl::AsciiStrToLower(c));
    if (transactional.empty()) transactional.push_back("transactional");

    return routing::Router(std::move(pools), std::move(rules), in.default_pool(), std::move(groups),
                           std::move(transactional), Feedback(in.feedback()));
  }

 private:
  routing::FeedbackPolicy Feedback(const v1::Feedback& in) {
    routing::FeedbackPolicy out;
    const auto patterns = [&](const std::string& path, const google::protobuf::RepeatedPtrField<std::string>& given,
                              std::vector<std::string> defaults) {
      std::vector<std::string> list(given.begin(), given.end());
      absl::StatusOr<routing::BlockClassifier::Patterns> compiled =
          routing::BlockClassifier::Compile(list.empty() ? defaults : list);
      if (compiled.ok()) return *std::move(compiled);
      ctx_.error(path, std::string(compiled.status().message()));
      return *routing::BlockClassifier::Compile(defaults);
    };
    out.classifier = routing::BlockClassifier(
        patterns("routing.feedback.block_patterns", in.block_patterns(), routing::BlockClassifier::DefaultBlockPatterns()),
        patterns("routing.feedback.ignore_patterns", in.ignore_patterns(),
                 routing::BlockClassifier::DefaultIgnorePatterns()));
    if (in.block_threshold() != 0) out.block_threshold = in.block_threshold();
    if (in.block_threshold() > 1000) ctx_.error("routing.feedback.block_threshold", "at most 1000");
    const auto duration = [&](const std::string& path, bool given, const google::protobuf::Duration& d,
                              std::chrono::nanoseconds fallback, std::chrono::seconds min, std::chrono::seconds max,
                              const char* range) {
      if (!given) return fallback;
      const std::chrono::nanoseconds n = std::chrono::seconds(d.seconds()) + std::chrono::nanoseconds(d.nanos());
      if (n < min || n > max) ctx_.error(path, absl::StrCat("must be between ", range));
      return n;
    };
    out.block_window = duration("routing.feedback.block_window", in.has_block_window(), in.block_window(),
                                out.block_window, std::chrono::seconds(10), std::chrono::hours(24), "10s and 1d");
    out.pause = duration("routing.feedback.pause", in.has_pause(), in.pause(), out.pause, std::chrono::minutes(1),
                         std::chrono::hours(24 * 7), "1m and 7d");
    return out;
  }

  void Schedules(const google::protobuf::RepeatedPtrField<v1::WarmupSchedule>& in) {
    std::set<std::string> names;
    for (int i = 0; i < in.size(); ++i) {
      const v1::WarmupSchedule& w = in.Get(i);
      const std::string path = absl::StrCat("routing.warmups[", i, "]");
      ctx_.name(path + ".name", w.name(), names);
      routing::WarmupSchedule s;
      s.name = w.name();
      s.day_one = w.day_one();
      if (w.day_one() == 0) ctx_.error(path + ".day_one", "must be at least 1");
      if (w.growth() != 0) s.growth = w.growth();
      if (!(s.growth > 1.0 && s.growth <= 10.0)) ctx_.error(path + ".growth", "must be above 1 and at most 10");
      s.warm_at = w.warm_at();
      if (w.warm_at() <= w.day_one() || w.warm_at() > kMaxWarmAt) {
        ctx_.error(path + ".warm_at", "is required, above day_one and at most 2^40");
      }
      s.allow_transactional = w.allow_transactional();
      if (w.step_back_days() != 0) s.step_back_days = w.step_back_days();
      if (s.step_back_days > 365) ctx_.error(path + ".step_back_days", "at most 365");
      schedules_[s.name] = s;
    }
  }

  routing::ProviderGroups Groups(const google::protobuf::RepeatedPtrField<v1::ProviderGroup>& in) {
    routing::ProviderGroups out;
    std::set<std::string> names;
    for (int i = 0; i < in.size(); ++i) {
      const std::string path = absl::StrCat("routing.provider_groups[", i, "]");
      ctx_.name(path + ".name", in.Get(i).name(), names);
      if (in.Get(i).domains().empty()) ctx_.error(path + ".domains", "at least one domain is required");
      for (int d = 0; d < in.Get(i).domains_size(); ++d) {
        if (absl::Status s = out.Add(in.Get(i).name(), in.Get(i).domains(d)); !s.ok()) {
          ctx_.error(absl::StrCat(path, ".domains[", d, "]"), std::string(s.message()));
        }
      }
    }
    return out;
  }

  std::vector<routing::Pool> Pools(const google::protobuf::RepeatedPtrField<v1::Pool>& in) {
    std::vector<routing::Pool> out;
    std::set<std::string> names, members;
    std::map<std::string, std::string> addresses;  // address -> member
    for (int i = 0; i < in.size(); ++i) {
      const v1::Pool& p = in.Get(i);
      const std::string path = absl::StrCat("routing.pools[", i, "]");
      ctx_.name(path + ".name", p.name(), names);
      routing::Pool pool{p.name(), {}, {}, p.overflow_pool()};
      for (int m = 0; m < p.members_size(); ++m) {
        pool.members.push_back(Member(absl::StrCat(path, ".members[", m, "]"), p.members(m), members, addresses));
      }
      pool.shaping.destination_concurrency = p.shaping().destination_concurrency();
      if (p.shaping().has_destination_rate_delay()) {
        const google::protobuf::Duration& d = p.shaping().destination_rate_delay();
        if (d.nanos() != 0 || d.seconds() < 0 || d.seconds() > 3600) {
          ctx_.error(path + ".shaping.destination_rate_delay", "whole seconds between 0s and 1h (Postfix's unit)");
        }
        pool.shaping.destination_rate_delay = std::chrono::seconds(d.seconds());
      }
      out.push_back(std::move(pool));
    }
    return out;
  }

  routing::PoolMember Member(const std::string& path, const v1::PoolMember& in, std::set<std::string>& names,
                             std::map<std::string, std::string>& addresses) {
    routing::PoolMember m;
    m.name = in.name();
    ctx_.name(path + ".name", in.name(), names);
    absl::StatusOr<match::IpAddress> ip = match::IpAddress::Parse(in.address());
    if (!ip.ok()) {
      ctx_.error(path + ".address", in.address().empty() ? "a source address is required"
                                                          : absl::StrCat("'", in.address(), "' is not an IP address"));
    } else {
      m.address = ip->ToString();
      m.ipv6 = ip->is_v6();
      if (auto [it, fresh] = addresses.emplace(m.address, m.name); !fresh) {
        ctx_.error(path + ".address", absl::StrCat(m.address, " is already member '", it->second, "'"));
      }
    }
    m.helo = in.helo();
    if (!ValidHostName(in.helo())) {
      ctx_.error(path + ".helo", "a host name (the address's PTR) is required");
    }
    if (in.weight() != 0) m.weight = in.weight();
    if (in.weight() > 1'000'000) ctx_.error(path + ".weight", "at most 1000000");
    if (!in.warmup().empty()) {
      auto it = schedules_.find(in.warmup());
      if (it == schedules_.end()) ctx_.error(path + ".warmup", absl::StrCat("unknown warm-up schedule '", in.warmup(), "'"));
      else m.warmup = it->second;
    }
    return m;
  }

  // A pool whose every member is cold needs an overflow_pool, and
  // following overflow_pool must never come back to a pool.
  void CheckOverflowChains(const std::vector<routing::Pool>& pools) {
    std::map<std::string, std::string> next;
    for (const routing::Pool& p : pools) next[p.name] = p.overflow_pool;
    for (int i = 0; i < static_cast<int>(pools.size()); ++i) {
      const routing::Pool& p = pools[i];
      const std::string path = absl::StrCat("routing.pools[", i, "]");
      const bool all_cold = !p.members.empty() && std::all_of(p.members.begin(), p.members.end(),
                                                               [](const auto& m) { return m.warmup.has_value(); });
      if (all_cold && p.overflow_pool.empty()) {
        ctx_.error(path + ".overflow_pool", "every member warms up: an overflow_pool must take what their caps refuse");
      }
      std::set<std::string> seen{p.name};
      for (std::string at = p.overflow_pool; !at.empty() && next.contains(at); at = next[at]) {
        if (!seen.insert(at).second) {
          ctx_.error(path + ".overflow_pool", absl::StrCat("overflow pools form a cycle through '", at, "'"));
          break;
        }
      }
    }
  }

  const RoutingCompileContext& ctx_;
  std::map<std::string, routing::WarmupSchedule> schedules_;
};

}  // namespace

routing::Router CompileRouting(const v1::Routing& in, const RoutingCompileContext& ctx) {
  return RoutingCompiler(ctx).Compile(in);
}

}  // namespace hive::policy::config
