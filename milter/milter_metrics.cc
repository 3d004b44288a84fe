#include "milter/milter_metrics.h"

#include <atomic>
#include <chrono>
#include <string>

namespace hive::milter {
namespace {

std::atomic<MilterMetrics*> g_metrics{nullptr};

std::string S(std::string_view v) { return std::string(v); }

}  // namespace

MilterMetrics::MilterMetrics(metrics::Registry& registry)
    : decisions_(registry.AddCounter("hive_milter_decisions_total",
                                     "Stage decisions applied to the MTA, by stage and action.",
                                     {"stage", "action"})),
      failure_mode_(registry.AddCounter(
          "hive_milter_failure_mode_total",
          "Decisions taken by the configured failure mode because the policy service failed or was too slow.",
          {"stage", "mode"})),
      rpc_seconds_(registry.AddHistogram("hive_milter_policy_rpc_duration_seconds",
                                         "Policy RPC wall time seen by the milter, by RPC and gRPC status.",
                                         {"rpc", "code"}, metrics::LatencyBuckets())),
      reloads_(registry.AddCounter("hive_milter_config_reloads_total",
                                   "Configuration reloads (SIGUSR1), by result.", {"result"})),
      last_reload_(registry.AddGauge("hive_milter_config_last_reload_success_timestamp_seconds",
                                     "Unix time of the last successful configuration load.")),
      releases_kept_(registry.AddGauge(
          "hive_milter_releases_kept",
          "EndTransaction calls that failed and wait to be sent again once the policy service answers.")) {
  // Both results exist from the start, so rate() and alerts see a zero.
  reloads_.WithLabels({"success"});
  reloads_.WithLabels({"failure"});
  SetLoadedNow();  // the configuration read at start
  SetReleasesKept(0);
}

void MilterMetrics::RecordDecision(Stage stage, const Decision& decision) {
  decisions_.WithLabels({S(StageName(stage)), S(DispositionName(decision.disposition))}).Inc();
  if (decision.policy_failed) {
    const std::string mode = decision.unchecked ? "accept" : "tempfail";
    failure_mode_.WithLabels({S(StageName(stage)), mode}).Inc();
  }
}

void MilterMetrics::RecordRpc(std::string_view rpc, std::string_view code, double seconds) {
  rpc_seconds_.WithLabels({S(rpc), S(code)}).Observe(seconds);
}

void MilterMetrics::RecordReload(bool ok) {
  reloads_.WithLabels({ok ? "success" : "failure"}).Inc();
  if (ok) SetLoadedNow();
}

void MilterMetrics::SetReleasesKept(std::size_t kept) {
  releases_kept_.WithLabels({}).Set(static_cast<double>(kept));
}

void MilterMetrics::SetLoadedNow() {
  last_reload_.WithLabels({}).Set(
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
}

void SetMilterMetrics(MilterMetrics* metrics) { g_metrics.store(metrics); }

MilterMetrics* CurrentMilterMetrics() { return g_metrics.load(std::memory_order_relaxed); }

}  // namespace hive::milter
