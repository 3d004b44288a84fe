#include "config/snapshot.h"

#include "config/content_config.h"
#include "config/routing_config.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "support/listen_address.h"

namespace hive::policy::config {
namespace {

namespace v1 = hive::config::v1;
using ratelimit::Nanos;

constexpr Nanos kDefaultReservationTtl = std::chrono::minutes(10);
constexpr Nanos kMaxReservationTtl = std::chrono::hours(24);

Nanos ToNanos(const google::protobuf::Duration& d) {
  return std::chrono::seconds(d.seconds()) + Nanos(d.nanos());
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

  match::Matcher Match(const std::string& path, const v1::Match& m, bool limit_rule = false) {
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
    each("message_class", m.message_class(), &match::Matcher::AddMessageClass);
    for (int i = 0; i < m.header_size(); ++i) {
      const v1::HeaderMatch& h = m.header(i);
      const std::string hpath = absl::StrCat(path, ".header[", i, "]");
      if (h.value().empty()) Error(hpath + ".value", "at least one value (glob) is required");
      for (int v = 0; v < h.value_size(); ++v) {
        Check(absl::StrCat(hpath, ".value[", v, "]"), out.AddHeader(h.name(), h.value(v)));
      }
      if (h.value().empty()) Check(hpath + ".name", out.AddHeader(h.name(), "*"));
    }
    if (!limit_rule && m.pool_size() > 0) {
      Error(path + ".pool", "matches the chosen pool: only limit rules can use it");
    }
    each("pool", m.pool(), &match::Matcher::AddPool);
    return out;
  }

  void Server(const v1::PolicyServer& in, PolicySnapshot& out) {
    if (!in.listen().empty()) out.server.listen = in.listen();
    if (in.max_request_bytes() != 0) out.server.max_request_bytes = in.max_request_bytes();
    out.server.tls = in.tls();
    out.server.admin = in.admin();
    if (!in.listen().empty()) Check("server.listen", hive::support::CheckGrpcAddress(in.listen()));
    if (!in.admin().listen().empty()) {
      Check("server.admin.listen", hive::support::CheckGrpcAddress(in.admin().listen()));
    }
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

  void Observability(const v1::Observability& in, ObservabilitySettings& out) {
    out.metrics_listen = in.metrics_listen();
    if (!in.metrics_listen().empty()) {
      Check("observability.metrics_listen", hive::support::CheckHostPort(in.metrics_listen()));
    }
    out.log_json = in.log_format() == v1::LOG_FORMAT_JSON;
    if (in.near_limit_ratio() != 0) {
      if (!(in.near_limit_ratio() > 0 && in.near_limit_ratio() < 1)) {
        Error("observability.near_limit_ratio", "must be between 0 and 1 (exclusive)");
      } else {
        out.near_limit_ratio = in.near_limit_ratio();
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
      rule.match = Match(path + ".match", r.match(), true);
      if (absl::StatusOr<ratelimit::KeyTemplate> key = ratelimit::KeyTemplate::Parse(r.key(), r.strip_subaddress());
          key.ok()) {
        rule.key = *std::move(key);
      } else {
        Check(path + ".key", key.status());
      }
      if (r.windows().empty() && r.quotas().empty()) {
        Error(path + ".windows", "at least one window {limit, period} or quota {limit, period} is needed");
      }
      rule.windows = Windows(path + ".windows", r.windows());
      rule.quotas = Quotas(path + ".quotas", r.quotas());
      for (int o = 0; o < r.overrides_size(); ++o) {
        const v1::LimitOverride& ov = r.overrides(o);
        const std::string opath = absl::StrCat(path, ".overrides[", o, "]");
        ratelimit::LimitOverride out_ov;
        out_ov.match = Match(opath + ".match", ov.match(), true);
        if (out_ov.match.empty()) Error(opath + ".match", "an override needs a match (else it is the rule)");
        if (ov.windows().empty() && ov.quotas().empty()) Error(opath + ".windows", "an override changes no window");
        out_ov.windows = Windows(opath + ".windows", ov.windows());
        out_ov.quotas = Quotas(opath + ".quotas", ov.quotas());
        rule.overrides.push_back(std::move(out_ov));
      }
      switch (r.cost()) {
        case v1::COST_RECIPIENTS: rule.cost = ratelimit::Cost::kRecipients; break;
        case v1::COST_BYTES: rule.cost = ratelimit::Cost::kBytes; break;
        default: rule.cost = ratelimit::Cost::kMessages; break;
      }
      switch (r.action()) {
        case v1::LIMIT_ACTION_REJECT: rule.action = ratelimit::LimitAction::kReject; break;
        case v1::LIMIT_ACTION_SHADOW: rule.action = ratelimit::LimitAction::kShadow; break;
        case v1::LIMIT_ACTION_ROUTE: rule.action = ratelimit::LimitAction::kRoute; break;
        default: rule.action = ratelimit::LimitAction::kTempfail; break;
      }
      if (rule.action == ratelimit::LimitAction::kRoute) {
        if (r.route_pool().empty()) Error(path + ".route_pool", "action route needs a route_pool");
        else route_pools_.push_back({path + ".route_pool", r.route_pool()});
        route_limits_.insert(r.name());
        rule.route_pool = r.route_pool();
      } else if (!r.route_pool().empty()) {
        Error(path + ".route_pool", "only for action: route");
      }
      out.rules.push_back(std::move(rule));
    }
  }

  std::vector<ratelimit::Window> Windows(const std::string& path,
                                        const google::protobuf::RepeatedPtrField<v1::Window>& in) {
    std::vector<ratelimit::Window> out;
    std::set<Nanos::rep> periods;
    for (int w = 0; w < in.size(); ++w) {
      const v1::Window& win = in.Get(w);
      const std::string wpath = absl::StrCat(path, "[", w, "]");
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
      out.push_back({win.limit(), period, burst});
    }
    return out;
  }

  std::vector<ratelimit::Quota> Quotas(const std::string& path,
                                       const google::protobuf::RepeatedPtrField<v1::Quota>& in) {
    std::vector<ratelimit::Quota> out;
    std::set<int> units;
    for (int i = 0; i < in.size(); ++i) {
      const v1::Quota& q = in.Get(i);
      const std::string qpath = absl::StrCat(path, "[", i, "]");
      ratelimit::Quota quota{q.limit(), ratelimit::CalendarUnit::kDay};
      switch (q.period()) {
        case v1::CALENDAR_PERIOD_DAY: quota.unit = ratelimit::CalendarUnit::kDay; break;
        case v1::CALENDAR_PERIOD_WEEK: quota.unit = ratelimit::CalendarUnit::kWeek; break;
        case v1::CALENDAR_PERIOD_MONTH: quota.unit = ratelimit::CalendarUnit::kMonth; break;
        default: Error(qpath + ".period", "is required: day, week or month"); continue;
      }
      if (q.limit() == 0 || q.limit() > (1ull << 53)) {
        Error(qpath + ".limit", "must be between 1 and 2^53");
        continue;
      }
      if (!units.insert(static_cast<int>(quota.unit)).second) {
        Error(qpath + ".period", "two quotas of one rule have the same period");
        continue;
      }
      out.push_back(quota);
    }
    return out;
  }

  void RateLimiting(const v1::RateLimiting& in, PolicySnapshot& out) {
    if (!in.time_zone().empty()) {
      absl::StatusOr<ratelimit::TimeZone> tz = ratelimit::TimeZone::Load(in.time_zone());
      if (tz.ok()) out.limits.zone = *std::move(tz);
      else Check("ratelimit.time_zone", tz.status());
    }
    if (!in.class_header().empty()) {
      match::Matcher probe;
      Check("ratelimit.class_header", probe.AddHeader(in.class_header(), "*"));
      out.class_header = in.class_header();
    }
    for (int i = 0; i < in.sender_classes_size(); ++i) {
      const v1::SenderClass& c = in.sender_classes(i);
      const std::string path = absl::StrCat("ratelimit.sender_classes[", i, "]");
      if (c.match().message_class_size() > 0 || c.match().pool_size() > 0) {
        Error(path + ".match", "cannot use message_class or pool: they come after the class");
      }
      std::string cls = absl::AsciiStrToLower(c.message_class());
      if (cls.empty()) Error(path + ".message_class", "is required");
      out.sender_classes.push_back({Match(path + ".match", c.match()), std::move(cls)});
    }
    const v1::Exemptions& ex = in.exempt();
    auto each = [&](const char* field, const auto& list, match::Matcher& m, auto add) {
      for (int i = 0; i < list.size(); ++i) {
        Check(absl::StrCat("ratelimit.exempt.", field, "[", i, "]"), (m.*add)(list.Get(i)));
      }
    };
    each("sender", ex.sender(), out.limits.exempt.senders, &match::Matcher::AddSender);
    each("client_ip", ex.client_ip(), out.limits.exempt.client_ips, &match::Matcher::AddClientIp);
    each("sasl_user", ex.sasl_user(), out.limits.exempt.sasl_users, &match::Matcher::AddSaslUser);
    each("recipient", ex.recipient(), out.limits.exempt.recipients, &match::Matcher::AddRecipient);
    out.limits.at_end_of_message = in.decide_at() == v1::LIMIT_DECISION_POINT_END_OF_MESSAGE;

    const v1::LimitStore& st = in.store();
    LimitStoreSettings& s = out.limit_store;
    if (st.max_buckets() != 0) s.max_buckets = st.max_buckets();
    s.redis = st.kind() == v1::LIMIT_STORE_KIND_REDIS;
    const v1::RedisStore& r = st.redis();
    if (!s.redis) {
      if (st.has_redis()) Error("ratelimit.store.redis", "set, but store.kind is not redis");
      return;
    }
    if (r.address().empty()) Error("ratelimit.store.redis.address", "is required for store.kind redis");
    else Check("ratelimit.store.redis.address", hive::support::CheckHostPort(r.address()));
    s.redis_address = r.address();
    if (r.pool_size() != 0) s.redis_pool_size = r.pool_size();
    if (r.pool_size() > 256) Error("ratelimit.store.redis.pool_size", "at most 256");
    if (r.has_timeout()) {
      s.redis_timeout = ToNanos(r.timeout());
      if (s.redis_timeout < std::chrono::milliseconds(1) || s.redis_timeout > std::chrono::seconds(5)) {
        Error("ratelimit.store.redis.timeout", "must be between 1ms and 5s (far below the milter's rpc_timeout)");
      }
    }
    if (!r.key_prefix().empty()) s.redis_key_prefix = r.key_prefix();
    if (r.key_prefix().find_first_of("{} \t\r\n") != std::string::npos) {
      Error("ratelimit.store.redis.key_prefix", "must not contain braces or white space");
    }
    s.redis_outage_local = r.on_outage() == v1::REDIS_OUTAGE_LOCAL;
    if (r.fallback_share() != 0) s.redis_fallback_share = r.fallback_share();
    if (r.fallback_share() < 0 || r.fallback_share() > 1) {
      Error("ratelimit.store.redis.fallback_share", "must be in (0, 1]");
    }
    if (r.has_retry_interval()) {
      s.redis_retry_interval = ToNanos(r.retry_interval());
      if (s.redis_retry_interval < std::chrono::milliseconds(10) || s.redis_retry_interval > std::chrono::minutes(5)) {
        Error("ratelimit.store.redis.retry_interval", "must be between 10ms and 5m");
      }
    }
    s.policy_in_redis = !r.policy_in_file();
    if (r.has_policy_poll_interval()) {
      s.policy_poll_interval = ToNanos(r.policy_poll_interval());
      if (s.policy_poll_interval < std::chrono::milliseconds(100) || s.policy_poll_interval > std::chrono::minutes(1)) {
        Error("ratelimit.store.redis.policy_poll_interval", "must be between 100ms and 1m");
      }
    }
  }

  // A learned signal kept in Redis beside the counters: `field` is set.
  bool InRedis(const std::string& field, bool set, bool enabled, const PolicySnapshot& out) {
    if (!set) return false;
    if (!enabled) {
      Error(field, "set, but " + field.substr(0, field.rfind('.')) + ".enabled is not");
    } else if (!out.limit_store.redis) {
      Error(field, "needs ratelimit.store.kind: redis (it is kept beside the counters)");
    }
    return true;
  }

  void LearnedStores(const v1::Content& c, PolicySnapshot& out) {
    out.limit_store.bayes_in_redis =
        InRedis("content.bayes.model_in_redis", c.bayes().model_in_redis(), c.bayes().enabled(), out);
    out.limit_store.fingerprints_in_redis = InRedis("content.fingerprints.list_in_redis",
                                                    c.fingerprints().list_in_redis(), c.fingerprints().enabled(), out);
  }

  void Degraded(const v1::Degraded& in, PolicySnapshot& out) {
    constexpr std::uint32_t kMaxLeaseUnits = 1000;
    std::set<std::string> seen;
    for (int i = 0; i < in.classes_size(); ++i) {
      const v1::DegradedClass& c = in.classes(i);
      const std::string path = absl::StrCat("degraded.classes[", i, "]");
      LeaseClass lease;
      lease.message_class = absl::AsciiStrToLower(c.class_());
      if (lease.message_class.empty()) Error(path + ".class", "is required");
      else if (!seen.insert(lease.message_class).second) Error(path + ".class", "listed twice");
      lease.units = c.lease_messages();
      if (lease.units == 0 || lease.units > kMaxLeaseUnits) Error(path + ".lease_messages", "must be 1..1000");
      lease.ttl = c.has_lease_ttl() ? ToNanos(c.lease_ttl()) : std::chrono::minutes(10);
      if (lease.ttl < std::chrono::seconds(1) || lease.ttl > std::chrono::hours(24)) {
        Error(path + ".lease_ttl", "must be between 1s and 1d");
      }
      out.lease_classes.push_back(std::move(lease));
    }
    // Without a class header no message has a class, so no lease could
    // ever be granted: say so instead of silently doing nothing.
    if (in.classes_size() > 0 && out.class_header.empty()) {
      Error("degraded.classes", "needs ratelimit.class_header (the header naming each message's class)");
    }
  }

  // Route pools named by limit rules must exist in routing.pools.
  void CheckRoutePools(const routing::Router& router) {
    for (const auto& [path, pool] : route_pools_) {
      if (!router.HasPool(pool)) {
        Error(path, absl::StrCat("unknown pool '", pool, "' (define it in routing.pools)"));
      }
    }
  }

  content::Scorer Content(const v1::Content& in, const ratelimit::LimitPolicy& limits) {
    const bool content_hash = std::any_of(limits.rules.begin(), limits.rules.end(),
                                          [](const ratelimit::LimitRule& r) { return r.key.UsesContentHash(); });
    return CompileContent(
        in, [this](const std::string& path, const std::string& problem) { Error(path, problem); }, content_hash);
  }

  routing::Router Routing(const v1::Routing& in) {
    RoutingCompileContext ctx{
        .error = [this](const std::string& path, const std::string& problem) { Error(path, problem); },
        .match = [this](const std::string& path, const v1::Match& m) { return Match(path, m); },
        .name = [this](const std::string& path, const std::string& name, std::set<std::string>& seen) {
          Name(path, name, seen);
        },
        .route_limits = route_limits_,
    };
    return CompileRouting(in, ctx);
  }

 private:
  const hive::config::SourceMap& positions_;
  std::vector<std::string> errors_;
  std::vector<std::pair<std::string, std::string>> route_pools_;  // path, pool
  std::set<std::string> route_limits_;  // names of limit rules with action route
};

}  // namespace

absl::StatusOr<SnapshotPtr> CompileSnapshot(const v1::PolicyConfig& config,
                                            const hive::config::SourceMap& positions, std::string source,
                                            std::string version, std::string text) {
  auto snapshot = std::make_shared<PolicySnapshot>();
  snapshot->source = std::move(source);
  snapshot->version = std::move(version);
  snapshot->text = std::move(text);
  Compiler c(positions);
  c.Server(config.server(), *snapshot);
  c.Observability(config.observability(), snapshot->observability);
  c.Limits(config.limits(), snapshot->limits);
  snapshot->content = c.Content(config.content(), snapshot->limits);
  snapshot->routing = c.Routing(config.routing());
  c.RateLimiting(config.ratelimit(), *snapshot);
  c.LearnedStores(config.content(), *snapshot);
  c.Degraded(config.degraded(), *snapshot);
  c.CheckRoutePools(snapshot->routing);
  if (!c.errors().empty()) return absl::InvalidArgumentError(absl::StrJoin(c.errors(), "\n"));
  return SnapshotPtr(std::move(snapshot));
}

std::string MessageClassOf(const PolicySnapshot& snapshot, const match::Facts& facts) {
  if (!snapshot.class_header.empty()) {
    if (const std::string* c = facts.HeaderValue(snapshot.class_header)) return absl::AsciiStrToLower(*c);
  }
  for (const PolicySnapshot::SenderClass& c : snapshot.sender_classes) {
    if (c.match.Matches(facts)) return c.message_class;
  }
  return "";
}

absl::StatusOr<SnapshotPtr> LoadSnapshotFromText(std::string_view yaml, std::string_view source_name) {
  v1::PolicyConfig config;
  hive::config::SourceMap positions;
  if (absl::Status s = hive::config::YamlToProto(yaml, source_name, config, &positions); !s.ok()) return s;
  return CompileSnapshot(config, positions, std::string(source_name), ConfigVersion(yaml), std::string(yaml));
}

absl::StatusOr<SnapshotPtr> LoadSnapshot(const std::string& path) {
  // Read once, so that the version hash and the parsed config are of the
  // same bytes even when the file is being rewritten.
  absl::StatusOr<std::string> text = hive::config::ReadConfigFile(path);
  if (!text.ok()) return text.status();
  return LoadSnapshotFromText(*text, path);
}

// 64-bit FNV-1a: cheap, stable, enough to tell config versions apart.
std::string ConfigVersion(std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return absl::StrFormat("%016x", h);
}

}  // namespace hive::policy::config
