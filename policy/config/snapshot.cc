#include "config/snapshot.h"

#include "config/content_config.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace hive::policy::config {
namespace {

namespace v1 = hive::config::v1;
using ratelimit::Nanos;

constexpr Nanos kDefaultReservationTtl = std::chrono::minutes(10);
constexpr Nanos kMaxReservationTtl = std::chrono::hours(24);

Nanos ToNanos(const google::protobuf::Duration& d) {
  return std::chrono::seconds(d.seconds()) + Nanos(d.nanos());
}

// 64-bit FNV-1a: cheap, stable, enough to tell config versions apart.
std::string HashVersion(std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return absl::StrFormat("%016x", h);
}

// Rule names end up in SMTP replies, symbol names and bucket keys.
bool ValidRuleName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

class Compiler {
 public:
  explicit Compiler(const hive::config::SourceMap& positions) : positions_(positions) {}

  void Error(const std::string& path, const std::string& problem) {
    errors_.push_back(positions_.Describe(path, problem));
  }
  void Check(const std::string& path, const absl::Status& status) {
    if (!status.ok()) Error(path, std::string(status.message()));
  }
  const std::vector<std::string>& errors() const { return errors_; }

  void Name(const std::string& path, const std::string& name, std::set<std::string>& seen) {
    if (!ValidRuleName(name)) {
      Error(path, name.empty() ? "a name is required"
                               : absl::StrCat("'", name, "' is not a name (1-64 of A-Z a-z 0-9 - _ .)"));
    } else if (!seen.insert(name).second) {
      Error(path, absl::StrCat("duplicate name '", name, "'"));
    }
  }

  match::Matcher Match(const std::string& path, const v1::Match& m) {
    match::Matcher out;
    auto each = [&](const char* field, const auto& list, auto add) {
      for (int i = 0; i < list.size(); ++i) {
        Check(absl::StrCat(path, ".", field, "[", i, "]"), (out.*add)(list.Get(i)));
      }
    };
    each("sender", m.sender(), &match::Matcher::AddSender);
    each("sender_domain", m.sender_domain(), &match::Matcher::AddSenderDomain);
    each("sasl_user", m.sasl_user(), &match::Matcher::AddSaslUser);
    each("client_ip", m.client_ip(), &match::Matcher::AddClientIp);
    each("recipient_domain", m.recipient_domain(), &match::Matcher::AddRecipientDomain);
    return out;
  }

  void Server(const v1::PolicyServer& in, PolicySnapshot& out) {
    if (!in.listen().empty()) out.server.listen = in.listen();
    if (in.max_request_bytes() != 0) out.server.max_request_bytes = in.max_request_bytes();
    if (in.max_request_bytes() != 0 && in.max_request_bytes() < 1024) {
      Error("server.max_request_bytes", "must be at least 1024");
    }
    out.limits.reservation_ttl = kDefaultReservationTtl;
    if (in.has_reservation_ttl()) {
      const Nanos ttl = ToNanos(in.reservation_ttl());
      if (ttl < std::chrono::seconds(1) || ttl > kMaxReservationTtl) {
        Error("server.reservation_ttl", "must be between 1s and 1d");
      } else {
        out.limits.reservation_ttl = ttl;
      }
    }
  }

  void Limits(const google::protobuf::RepeatedPtrField<v1::LimitRule>& in, ratelimit::LimitPolicy& out) {
    std::set<std::string> names;
    for (int i = 0; i < in.size(); ++i) {
      const v1::LimitRule& r = in.Get(i);
      const std::string path = absl::StrCat("limits[", i, "]");
      ratelimit::LimitRule rule;
      rule.name = r.name();
      Name(path + ".name", r.name(), names);
      rule.match = Match(path + ".match", r.match());
      if (absl::StatusOr<ratelimit::KeyTemplate> key = ratelimit::KeyTemplate::Parse(r.key()); key.ok()) {
        rule.key = *std::move(key);
      } else {
        Check(path + ".key", key.status());
      }
      if (r.windows().empty()) Error(path + ".windows", "at least one window {limit, period} is needed");
      std::set<Nanos::rep> periods;
      for (int w = 0; w < r.windows_size(); ++w) {
        const v1::Window& win = r.windows(w);
        const std::string wpath = absl::StrCat(path, ".windows[", w, "]");
        const Nanos period = ToNanos(win.period());
        bool ok = true;
        if (win.limit() == 0) Error(wpath + ".limit", "must be at least 1"), ok = false;
        if (period <= Nanos(0)) Error(wpath + ".period", "is missing or zero"), ok = false;
        if (!ok) continue;
        if (win.limit() > static_cast<std::uint64_t>(period.count())) {
          Error(wpath + ".limit", "more than one event per nanosecond of the period");
          continue;
        }
        const std::uint64_t burst = win.burst() == 0 ? win.limit() : win.burst();
        const Nanos interval = period / static_cast<Nanos::rep>(win.limit());
        if (burst > static_cast<std::uint64_t>(std::numeric_limits<Nanos::rep>::max() / 4 / interval.count())) {
          Error(wpath + ".burst", "too large for the period");
          continue;
        }
        if (!periods.insert(period.count()).second) {
          Error(wpath + ".period", "two windows of one rule have the same period");
          continue;
        }
        rule.windows.push_back({win.limit(), period, burst});
      }
      rule.cost = r.cost() == v1::COST_RECIPIENTS ? ratelimit::Cost::kRecipients : ratelimit::Cost::kMessages;
      switch (r.action()) {
        case v1::LIMIT_ACTION_REJECT: rule.action = ratelimit::LimitAction::kReject; break;
        case v1::LIMIT_ACTION_SHADOW: rule.action = ratelimit::LimitAction::kShadow; break;
        default: rule.action = ratelimit::LimitAction::kTempfail; break;
      }
      out.rules.push_back(std::move(rule));
    }
  }

  content::Scorer Content(const v1::Content& in) {
    return CompileContent(in, [this](const std::string& path, const std::string& problem) { Error(path, problem); });
  }

  routing::Router Routing(const v1::Routing& in) {
    std::vector<std::string> pools;
    std::set<std::string> pool_names;
    for (int i = 0; i < in.pools_size(); ++i) {
      Name(absl::StrCat("routing.pools[", i, "].name"), in.pools(i).name(), pool_names);
      pools.push_back(in.pools(i).name());
    }
    const std::string known = pools.empty() ? "none configured" : absl::StrJoin(pools, ", ");
    auto check_pool = [&](const std::string& path, const std::string& pool) {
      if (pool.empty()) Error(path, "a pool is required");
      else if (!pool_names.contains(pool)) Error(path, absl::StrCat("unknown pool '", pool, "' (pools: ", known, ")"));
    };
    std::vector<routing::RoutingRule> rules;
    std::set<std::string> names;
    for (int i = 0; i < in.rules_size(); ++i) {
      const v1::RoutingRule& r = in.rules(i);
      const std::string path = absl::StrCat("routing.rules[", i, "]");
      Name(path + ".name", r.name(), names);
      check_pool(path + ".pool", r.pool());
      rules.push_back({r.name(), Match(path + ".match", r.match()), r.pool()});
    }
    if (!pools.empty() || !in.default_pool().empty()) check_pool("routing.default_pool", in.default_pool());
    return routing::Router(std::move(pools), std::move(rules), in.default_pool());
  }

 private:
  const hive::config::SourceMap& positions_;
  std::vector<std::string> errors_;
};

}  // namespace

absl::StatusOr<SnapshotPtr> CompileSnapshot(const v1::PolicyConfig& config,
                                            const hive::config::SourceMap& positions, std::string source,
                                            std::string version) {
  auto snapshot = std::make_shared<PolicySnapshot>();
  snapshot->source = std::move(source);
  snapshot->version = std::move(version);
  Compiler c(positions);
  c.Server(config.server(), *snapshot);
  c.Limits(config.limits(), snapshot->limits);
  snapshot->content = c.Content(config.content());
  snapshot->routing = c.Routing(config.routing());
  if (!c.errors().empty()) return absl::InvalidArgumentError(absl::StrJoin(c.errors(), "\n"));
  return SnapshotPtr(std::move(snapshot));
}

absl::StatusOr<SnapshotPtr> LoadSnapshotFromText(std::string_view yaml, std::string_view source_name) {
  v1::PolicyConfig config;
  hive::config::SourceMap positions;
  if (absl::Status s = hive::config::YamlToProto(yaml, source_name, config, &positions); !s.ok()) return s;
  return CompileSnapshot(config, positions, std::string(source_name), HashVersion(yaml));
}

absl::StatusOr<SnapshotPtr> LoadSnapshot(const std::string& path) {
  // Read once, so that the version hash and the parsed config are of the
  // same bytes even when the file is being rewritten.
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return LoadSnapshotFromText(text.str(), path);
}

}  // namespace hive::policy::config
