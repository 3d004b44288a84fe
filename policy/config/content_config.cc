#include "config/content_config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "content/charset.h"
#include "dns/ares_resolver.h"
#include "dns/caching_resolver.h"

namespace hive::policy::config {
namespace {

namespace v1 = hive::config::v1;

// Symbol names end up in SMTP replies and headers: same rule as rule names.
bool ValidSymbol(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

std::chrono::nanoseconds ToNanos(const google::protobuf::Duration& d) {
  return std::chrono::seconds(d.seconds()) + std::chrono::nanoseconds(d.nanos());
}

// content.bayes and content.fingerprints: thresholds and weights checked,
// the model and the known-bad list opened (a missing file is an empty one;
// an unreadable or corrupt one is a config error, so that a reload never
// silently drops a trained model).
void CompileLearned(const v1::Content& in, content::ScorerOptions& o, const ConfigError& error) {
  const v1::ContentBayes& b = in.bayes();
  if (b.enabled()) {
    content::BayesSymbols& out = o.bayes;
    if (b.has_spam_threshold()) out.spam_threshold = b.spam_threshold();
    if (b.has_ham_threshold()) out.ham_threshold = b.ham_threshold();
    if (b.has_spam_weight()) out.spam_weight = b.spam_weight();
    if (b.has_ham_weight()) out.ham_weight = b.ham_weight();
    if (out.spam_threshold <= 0.5 || out.spam_threshold > 1) {
      error("content.bayes.spam_threshold", "must be above 0.5 and at most 1");
    }
    if (out.ham_threshold < 0 || out.ham_threshold >= 0.5) {
      error("content.bayes.ham_threshold", "must be at least 0 and below 0.5");
    }
    content::ClassifierOptions co;
    co.limits = o.limits;
    if (b.min_learns() != 0) co.min_learns = b.min_learns();
    if (b.min_tokens() != 0) co.min_tokens = b.min_tokens();
    if (b.has_structure_tokens()) co.structure_tokens = b.structure_tokens();
    absl::StatusOr<std::shared_ptr<content::Classifier>> c = content::Classifier::Open(b.stats_db(), co);
    if (c.ok()) out.classifier = *std::move(c);
    else error("content.bayes.stats_db", std::string(c.status().message()));
  }
  const v1::ContentFingerprints& f = in.fingerprints();
  if (f.enabled()) {
    content::FingerprintSymbols& out = o.fingerprints;
    if (f.has_max_distance()) {
      if (f.max_distance() > 32) error("content.fingerprints.max_distance", "must be at most 32 (of 64 bits)");
      out.max_distance = static_cast<int>(std::min<std::uint32_t>(f.max_distance(), 32));
    }
    if (f.has_weight()) out.weight = f.weight();
    if (f.min_tokens() != 0) out.min_tokens = f.min_tokens();
    absl::StatusOr<std::shared_ptr<content::FingerprintStore>> s = content::FingerprintStore::Open(f.store());
    if (s.ok()) out.store = *std::move(s);
    else error("content.fingerprints.store", std::string(s.status().message()));
  }
}

// content.compliance: classes lower-cased, weights of the gate's own symbols.
void CompileCompliance(const v1::ContentCompliance& in, content::ScorerOptions& o, const ConfigError& error) {
  content::ComplianceOptions& out = o.compliance;
  out.enabled = in.enabled();
  if (in.classes_size() > 0) out.classes.clear();
  for (int i = 0; i < in.classes_size(); ++i) {
    std::string c = in.classes(i);
    for (char& ch : c) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (c.empty()) error(absl::StrCat("content.compliance.classes[", i, "]"), "must not be empty");
    out.classes.insert(std::move(c));
  }
  if (in.has_bulk_markers()) out.bulk_markers = in.bulk_markers();
  if (in.has_require_one_click()) out.require_one_click = in.require_one_click();
  out.require_dkim_signature = in.require_dkim_signature();
  out.reject = in.action() != v1::COMPLIANCE_ACTION_SCORE;
  for (int i = 0; i < in.weights_size(); ++i) {
    const v1::ContentSymbolWeight& w = in.weights(i);
    const std::string path = absl::StrCat("content.compliance.weights[", i, "]");
    const auto& symbols = content::ComplianceSymbols();
    if (std::none_of(symbols.begin(), symbols.end(), [&](const auto& b) { return w.name() == b.name; })) {
      error(path + ".name", absl::StrCat("'", w.name(), "' is not a compliance symbol (BULK_...)"));
    } else if (w.weight() < 0) {
      error(path + ".weight", "must not be negative (a requirement met is worth nothing)");
    } else if (!o.symbol_weights.emplace(w.name(), w.weight()).second) {
      error(path + ".name", absl::StrCat("duplicate weight for '", w.name(), "'"));
    }
  }
}

using NameCheck = std::function<void(const std::string& path, const std::string& name)>;

std::optional<std::uint32_t> ParseIpv4(const std::string& text) {
  in_addr a{};
  if (inet_pton(AF_INET, text.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

bool ValidZone(const std::string& zone) {
  if (zone.empty() || zone.size() > 200 || zone.front() == '.' || zone.find("..") != std::string::npos) return false;
  return std::all_of(zone.begin(), zone.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  });
}

// content.dns_lists.cache -> the TTL cache's bounds.
dns::CacheOptions CompileDnsCache(const v1::DnsCache& in, const ConfigError& error) {
  dns::CacheOptions out;
  if (in.has_max_entries()) out.max_entries = in.max_entries();
  auto seconds = [&](const char* field, const google::protobuf::Duration& d, std::chrono::seconds& into) {
    const auto t = ToNanos(d);
    if (t < std::chrono::seconds(1) || t > std::chrono::hours(24 * 7)) {
      error(absl::StrCat("content.dns_lists.cache.", field), "must be between 1s and 1w");
    } else {
      into = std::chrono::duration_cast<std::chrono::seconds>(t);
    }
  };
  if (in.has_min_ttl()) seconds("min_ttl", in.min_ttl(), out.min_ttl);
  if (in.has_max_ttl()) seconds("max_ttl", in.max_ttl(), out.max_ttl);
  if (in.has_negative_ttl()) seconds("negative_ttl", in.negative_ttl(), out.negative_ttl);
  if (out.min_ttl > out.max_ttl) error("content.dns_lists.cache.min_ttl", "must not be above max_ttl");
  return out;
}

// content.dns_lists: zones and return codes checked, the resolver built
// (c-ares with the configured servers behind the TTL cache) so that a bad
// server address is a config error, not a failure of the first message.
void CompileDnsLists(const v1::ContentDnsLists& in, content::ScorerOptions& o, const NameCheck& name,
                     const ConfigError& error) {
  if (!in.enabled()) return;
  content::DnsListOptions out;
  if (in.has_deadline()) {
    const auto t = ToNanos(in.deadline());
    if (t < std::chrono::milliseconds(1) || t > std::chrono::seconds(5)) {
      error("content.dns_lists.deadline", "must be between 1ms and 5s");
    } else {
      out.deadline = std::chrono::duration_cast<std::chrono::milliseconds>(t);
    }
  }
  if (in.max_queries() > 200) error("content.dns_lists.max_queries", "must be at most 200");
  if (in.max_queries() != 0) out.max_queries = std::min<std::uint32_t>(in.max_queries(), 200);
  if (in.max_concurrent() > 10000) error("content.dns_lists.max_concurrent", "must be at most 10000");
  out.timeout_weight = in.timeout_weight();
  out.error_weight = in.error_weight();
  for (int i = 0; i < in.zones_size(); ++i) {
    const v1::DnsListZone& z = in.zones(i);
    const std::string path = absl::StrCat("content.dns_lists.zones[", i, "]");
    content::DnsZone zone;
    zone.symbol = z.symbol();
    zone.weight = z.weight();
    name(path + ".symbol", z.symbol());
    zone.zone = z.zone();
    for (char& c : zone.zone) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    while (!zone.zone.empty() && zone.zone.back() == '.') zone.zone.pop_back();
    if (!ValidZone(zone.zone)) error(path + ".zone", "must be a DNS zone, e.g. dbl.example.org");
    if (z.target() == "url") {
      zone.target = content::DnsZone::Target::kUrl;
    } else if (z.target() == "client_ip") {
      zone.target = content::DnsZone::Target::kClientIp;
    } else {
      error(path + ".target", "must be url or client_ip");
    }
    std::set<std::string> zone_symbols = {z.symbol()};
    for (int j = 0; j < z.returns_size(); ++j) {
      const v1::DnsListReturn& r = z.returns(j);
      const std::string rpath = absl::StrCat(path, ".returns[", j, "]");
      content::DnsReturnCode code;
      if (r.address().empty() == r.bitmask().empty()) {
        error(rpath, "give one of address (127.0.1.2) or bitmask (0.0.0.8)");
      } else if (std::optional<std::uint32_t> a = ParseIpv4(r.address().empty() ? r.bitmask() : r.address())) {
        (r.address().empty() ? code.bitmask : code.address) = *a;
        if (!r.bitmask().empty() && *a == 0) error(rpath + ".bitmask", "must have a bit set");
      } else {
        error(absl::StrCat(rpath, r.address().empty() ? ".bitmask" : ".address"), "must be an IPv4 address");
      }
      code.symbol = r.symbol();
      if (!r.symbol().empty() && zone_symbols.insert(r.symbol()).second) name(rpath + ".symbol", r.symbol());
      if (r.has_weight()) code.weight = r.weight();
      zone.returns.push_back(std::move(code));
    }
    out.zones.push_back(std::move(zone));
  }
  if (out.zones.empty()) error("content.dns_lists.zones", "at least one zone is needed");
  for (int i = 0; i < in.servers_size(); ++i) {
    if (in.servers(i).empty()) error(absl::StrCat("content.dns_lists.servers[", i, "]"), "must not be empty");
  }
  const dns::CacheOptions cache = CompileDnsCache(in.cache(), error);
  dns::AresOptions ares;
  ares.servers.assign(in.servers().begin(), in.servers().end());
  if (in.max_concurrent() != 0) ares.max_concurrent = static_cast<int>(std::min<std::uint32_t>(in.max_concurrent(), 10000));
  // Three tries fit in the deadline: a lost datagram is retried in time.
  ares.try_timeout = std::max(std::chrono::milliseconds(20), out.deadline / 3);
  absl::StatusOr<std::shared_ptr<dns::AresResolver>> resolver = dns::AresResolver::Create(ares);
  if (!resolver.ok()) {
    error("content.dns_lists.servers", std::string(resolver.status().message()));
    return;
  }
  std::shared_ptr<dns::Resolver> r = *std::move(resolver);
  if (cache.max_entries > 0) r = std::make_shared<dns::CachingResolver>(std::move(r), cache);
  o.dns_lists = std::make_shared<const content::DnsLists>(std::move(out), std::move(r));
}

// Each threshold at least 0 (0: never); those set below each other in the
// order they are tried (reject, tempfail, quarantine), or the lower one
// could never apply.
content::ClassThresholds Thresholds(const std::string& path, double reject, double tempfail, double quarantine,
                                    const ConfigError& error) {
  const std::pair<const char*, double> order[] = {
      {"reject_score", reject}, {"tempfail_score", tempfail}, {"quarantine_score", quarantine}};
  const std::pair<const char*, double>* above = nullptr;
  for (const auto& t : order) {
    if (t.second < 0) error(path + t.first, "must not be negative");
    if (t.second <= 0) continue;
    if (above != nullptr && t.second >= above->second) {
      error(path + t.first, absl::StrCat("must be below ", above->first, ", or it can never apply"));
    }
    above = &t;
  }
  return {reject, quarantine, tempfail};
}

}  // namespace

content::Scorer CompileContent(const v1::Content& in, const ConfigError& error, bool content_hash) {
  content::ScorerOptions o;
  std::set<std::string> names;  // every symbol a meta may use
  auto name = [&](const std::string& path, const std::string& n) {
    if (!ValidSymbol(n)) {
      error(path, n.empty() ? "a name is required" : absl::StrCat("'", n, "' is not a name (1-64 of A-Z a-z 0-9 - _ .)"));
    } else if (content::Scorer::FindBuiltin(n) != nullptr || content::Scorer::IsLearnedSymbol(n) ||
               content::DnsLists::IsFact(n)) {
      error(path, absl::StrCat("'", n, "' is a built-in symbol; set its weight in content.checks, .compliance or .dns_lists"));
    } else if (!names.insert(n).second) {
      error(path, absl::StrCat("duplicate name '", n, "'"));
    }
  };
  for (int i = 0; i < in.rules_size(); ++i) {
    const v1::ContentRule& r = in.rules(i);
    const std::string path = absl::StrCat("content.rules[", i, "]");
    content::ContentRule rule;
    rule.name = r.name();
    rule.weight = r.weight();
    name(path + ".name", r.name());
    absl::StatusOr<content::Target> target = content::Target::Parse(r.target());
    if (target.ok()) rule.target = *target;
    else error(path + ".target", std::string(target.status().message()));
    if (r.regex().empty()) {
      error(path + ".regex", "a regex is required");
    } else if (auto re = content::CompileRegex(r.regex()); re.ok()) {
      rule.regex = *std::move(re);
    } else {
      error(path + ".regex", std::string(re.status().message()));
    }
    o.rules.push_back(std::move(rule));
  }

  const v1::ContentChecks& checks = in.checks();
  o.builtin_checks = checks.enabled();
  for (int i = 0; i < checks.weights_size(); ++i) {
    const v1::ContentSymbolWeight& w = checks.weights(i);
    const std::string path = absl::StrCat("content.checks.weights[", i, "]");
    const auto& symbols = content::BuiltinSymbols();
    if (std::none_of(symbols.begin(), symbols.end(), [&](const auto& b) { return w.name() == b.name; })) {
      error(path + ".name", absl::StrCat("'", w.name(), "' is not a built-in symbol"));
    } else if (!o.symbol_weights.emplace(w.name(), w.weight()).second) {
      error(path + ".name", absl::StrCat("duplicate weight for '", w.name(), "'"));
    }
  }
  for (int i = 0; i < checks.url_shorteners_size(); ++i) {
    std::string host = checks.url_shorteners(i);
    for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (host.empty() || host.find_first_of("/: @") != std::string::npos) {
      error(absl::StrCat("content.checks.url_shorteners[", i, "]"), "must be a host name, e.g. bit.ly");
    }
    o.checks.url_shorteners.insert(host);
  }
  if (checks.many_recipients() != 0) o.checks.many_recipients = checks.many_recipients();

  const v1::ContentLimits& l = in.parse_limits();
  auto positive = [&](const char* field, std::uint64_t value, std::uint64_t max) {
    if (value > max) error(absl::StrCat("content.parse_limits.", field), absl::StrCat("must be at most ", max));
    return value != 0 && value <= max;
  };
  if (positive("max_message_bytes", l.max_message_bytes(), 1ull << 30)) o.limits.max_message_bytes = l.max_message_bytes();
  if (positive("max_parts", l.max_parts(), 10000)) o.limits.max_parts = static_cast<int>(l.max_parts());
  // Recursion depth of the parser: bounded so that no config can exhaust the stack.
  if (positive("max_depth", l.max_depth(), 64)) o.limits.max_depth = static_cast<int>(l.max_depth());
  if (positive("max_headers", l.max_headers(), 100000)) o.limits.max_headers = l.max_headers();
  if (positive("max_line_bytes", l.max_line_bytes(), 1u << 30)) o.limits.max_line_bytes = l.max_line_bytes();
  if (positive("max_text_bytes", l.max_text_bytes(), 1ull << 30)) o.limits.max_text_bytes = l.max_text_bytes();
  if (l.has_decode_timeout()) {
    const auto t = ToNanos(l.decode_timeout());
    if (t <= std::chrono::nanoseconds(0) || t > std::chrono::seconds(30)) {
      error("content.parse_limits.decode_timeout", "must be between 1ns and 30s");
    } else {
      o.limits.max_decode_time = t;
    }
  }
  if (!l.fallback_charset().empty()) {
    if (content::CanonicalCharset(l.fallback_charset()).empty()) {
      error("content.parse_limits.fallback_charset",
            absl::StrCat("'", l.fallback_charset(), "' is not a supported charset (e.g. gb18030, windows-1252, utf-8)"));
    } else {
      o.limits.fallback_charset = l.fallback_charset();
    }
  }

  CompileLearned(in, o, error);
  CompileCompliance(in.compliance(), o, error);
  CompileDnsLists(in.dns_lists(), o, name, error);

  for (int i = 0; i < in.metas_size(); ++i) {
    const v1::ContentMetaRule& m = in.metas(i);
    const std::string path = absl::StrCat("content.metas[", i, "]");
    name(path + ".name", m.name());
    auto known = [&](const std::string& n) {
      return n != m.name() && (names.contains(n) || content::Scorer::FindBuiltin(n) != nullptr ||
                               content::Scorer::IsLearnedSymbol(n) || content::DnsLists::IsFact(n));
    };
    absl::StatusOr<content::MetaExpression> e = content::MetaExpression::Parse(m.expression(), known);
    if (!e.ok()) {
      error(path + ".expression", std::string(e.status().message()));
      continue;
    }
    o.metas.push_back({m.name(), *std::move(e), m.weight()});
  }

  const content::ClassThresholds defaults =
      Thresholds("content.", in.reject_score(), in.tempfail_score(), in.quarantine_score(), error);
  o.reject_score = defaults.reject_score;
  o.quarantine_score = defaults.quarantine_score;
  o.tempfail_score = defaults.tempfail_score;
  for (int i = 0; i < in.class_thresholds_size(); ++i) {
    const v1::ContentClassThresholds& c = in.class_thresholds(i);
    const std::string path = absl::StrCat("content.class_thresholds[", i, "]");
    const std::string cls = absl::AsciiStrToLower(c.message_class());
    if (cls.empty()) error(path + ".message_class", "must not be empty");
    else if (o.class_thresholds.contains(cls)) error(path + ".message_class", "'" + cls + "' is given twice");
    o.class_thresholds[cls] = Thresholds(path + ".", c.reject_score(), c.tempfail_score(), c.quarantine_score(), error);
  }
  o.add_header_score = in.add_header_score();
  o.content_hash = content_hash;
  return content::Scorer(std::move(o));
}

}  // namespace hive::policy::config
