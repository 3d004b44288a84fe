#include "server/policy_metrics.h"

#include <chrono>
#include <map>
#include <string>

#include "absl/status/status.h"

namespace hive::policy::server {
namespace {

namespace v1 = hive::policy::v1;

constexpr std::string_view kLimitSymbolPrefix = "LIMIT_";

// The SMTP stage, named as hive-milter names it in its metrics and logs.
std::string Stage(std::string_view rpc) {
  if (rpc == "CheckSender") return "mail";
  if (rpc == "CheckRecipient") return "rcpt";
  if (rpc == "CheckMessage") return "eom";
  return std::string(rpc);
}

std::string Action(v1::Action action) {
  switch (action) {
    case v1::ACTION_CONTINUE: return "continue";
    case v1::ACTION_TEMPFAIL: return "tempfail";
    case v1::ACTION_REJECT: return "reject";
    case v1::ACTION_DISCARD: return "discard";
    case v1::ACTION_QUARANTINE: return "quarantine";
    default: return "unspecified";
  }
}

std::string Code(const grpc::Status& status) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()));
}

// How a rule over its limit counts: by what the rule does.
std::string OverVerdict(const std::string& rule, const config::PolicySnapshot& snapshot) {
  for (const ratelimit::LimitRule& r : snapshot.limits.rules) {
    if (r.name != rule) continue;
    if (r.action == ratelimit::LimitAction::kShadow) return "shadow";
    if (r.action == ratelimit::LimitAction::kRoute) return "route";
    return "over";
  }
  return "over";
}

double Now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

}  // namespace

PolicyMetrics::PolicyMetrics(metrics::Registry& registry)
    : request_seconds_(registry.AddHistogram("hive_policyd_request_duration_seconds",
                                             "Time to handle one policy RPC, by RPC and gRPC status.",
                                             {"rpc", "code"}, metrics::LatencyBuckets())),
      decisions_(registry.AddCounter("hive_policyd_decisions_total",
                                     "Verdicts by stage and action (action \"error\": no verdict, an error status).",
                                     {"stage", "action"})),
      rule_hits_(registry.AddCounter("hive_policyd_rule_hits_total",
                                     "Content rules that fired, by symbol (the rule name).", {"symbol"})),
      ratelimit_(registry.AddCounter(
          "hive_policyd_ratelimit_verdicts_total",
          "Rate-limit rules that applied to a decision, by rule and verdict (within, near_limit, over, shadow, "
          "route).",
          {"rule", "verdict"})),
      pools_(registry.AddCounter("hive_policyd_pool_assignments_total", "Messages routed to each IP pool.",
                                 {"pool"})),
      config_info_(registry.AddGauge("hive_policyd_config_info",
                                     "Always 1; the label is the running configuration's version (file hash).",
                                     {"version"})),
      reloads_(registry.AddCounter("hive_policyd_config_reloads_total", "Configuration reloads (SIGHUP, or a new version from the policy store), by result.",
                                   {"result"})),
      leases_(registry.AddCounter("hive_policyd_lease_events_total",
                                  "Degraded-mode leases: granted, charged (leased messages charged on "
                                  "reconciliation), duplicate (usage reported again), over_limit (overshoot).",
                                  {"event"})),
      last_reload_(registry.AddGauge("hive_policyd_config_last_reload_success_timestamp_seconds",
                                     "Unix time of the last successful configuration load.")),
      policy_in_step_(registry.AddGauge("hive_policyd_policy_store_in_step",
                                        "Policy held in Redis: 1 while this replica runs the stored version, 0 "
                                        "while it cannot (version refused, or the store unreachable).")),
      tls_files_ok_(registry.AddGauge("hive_policyd_tls_files_ok",
                                      "1 while a TLS listener's certificate, key and CA files are sound; 0 after a "
                                      "change that new connections cannot use (mismatched key, unreadable file).",
                                      {"listener"})) {
  reloads_.WithLabels({"success"});
  reloads_.WithLabels({"failure"});
  last_reload_.WithLabels({}).Set(Now());
}

void PolicyMetrics::RecordCheck(std::string_view rpc, const v1::Verdict& verdict, const grpc::Status& status,
                                double seconds, const config::PolicySnapshot& snapshot) {
  request_seconds_.WithLabels({std::string(rpc), Code(status)}).Observe(seconds);
  decisions_.WithLabels({Stage(rpc), status.ok() ? Action(verdict.action()) : "error"}).Inc();
  if (!status.ok()) return;
  for (const v1::Symbol& symbol : verdict.symbols()) {
    if (symbol.name().rfind(kLimitSymbolPrefix, 0) != 0) rule_hits_.WithLabels({symbol.name()}).Inc();
  }
  if (!verdict.pool().empty()) pools_.WithLabels({verdict.pool()}).Inc();
  RecordLimits(verdict, snapshot);
}

void PolicyMetrics::RecordLimits(const v1::Verdict& verdict, const config::PolicySnapshot& snapshot) {
  // One verdict per rule: over (by its action) if it was hit, else
  // near_limit if any of its windows is used past the ratio, else within.
  std::map<std::string, std::string> by_rule;
  for (const v1::LimitStatus& w : verdict.limits()) {
    std::string& v = by_rule[w.rule()];
    const double used = w.limit() == 0 ? 1.0 : 1.0 - static_cast<double>(w.remaining()) / w.limit();
    if (used >= snapshot.observability.near_limit_ratio) {
      v = "near_limit";
    } else if (v.empty()) {
      v = "within";
    }
  }
  for (const v1::Symbol& symbol : verdict.symbols()) {
    if (symbol.name().rfind(kLimitSymbolPrefix, 0) != 0) continue;
    const std::string rule = symbol.name().substr(kLimitSymbolPrefix.size());
    by_rule[rule] = OverVerdict(rule, snapshot);
  }
  for (const auto& [rule, v] : by_rule) ratelimit_.WithLabels({rule, v}).Inc();
}

void PolicyMetrics::RecordEnd(const grpc::Status& status, double seconds) {
  request_seconds_.WithLabels({"EndTransaction", Code(status)}).Observe(seconds);
}

void PolicyMetrics::RecordLease(std::string_view event, std::uint64_t count) {
  leases_.WithLabels({std::string(event)}).Inc(count);
}

void PolicyMetrics::SetConfigVersion(const std::string& version) {
  config_info_.RemoveAll();
  config_info_.WithLabels({version}).Set(1);
}

void PolicyMetrics::SetPolicyInStep(bool in_step) { policy_in_step_.WithLabels({}).Set(in_step ? 1 : 0); }

void PolicyMetrics::SetTlsFilesOk(const std::string& listener, bool ok) {
  tls_files_ok_.WithLabels({listener}).Set(ok ? 1 : 0);
}

void PolicyMetrics::RecordReload(bool ok) {
  reloads_.WithLabels({ok ? "success" : "failure"}).Inc();
  if (ok) last_reload_.WithLabels({}).Set(Now());
}

}  // namespace hive::policy::server
