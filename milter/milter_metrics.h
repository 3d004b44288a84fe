// hive-milter's Prometheus metrics (names hive_milter_*): decisions by stage
// and action, failure-mode activations, policy RPC latency by RPC and gRPC
// status, config reloads, sessions in flight, and releases kept for a retry. Labels take values from
// enums and gRPC status names only, never from mail.
//
// Usage: main() builds one MilterMetrics over its Registry and installs it
// with SetMilterMetrics before smfi_main; Session and GrpcPolicyClient record
// through CurrentMilterMetrics(), which is null when nothing is installed
// (unit tests), so recording is optional everywhere.
//
// Why a process-wide pointer: sessions are created by libmilter's C
// callbacks, which already reach main()'s objects through one installed
// runtime; metrics follow the same path without widening every
// constructor. The pointer is set once, before any session exists, and the
// object outlives smfi_main.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include "milter/decision.h"
#include "support/metrics.h"

namespace hive::milter {

class MilterMetrics {
 public:
  explicit MilterMetrics(metrics::Registry& registry);

  // One stage's decision, as applied (after the failure mode).
  void RecordDecision(Stage stage, const Decision& decision);
  // One policy RPC: its name ("CheckSender", ...), gRPC status code name
  // ("OK", "UNAVAILABLE", ...) and wall time.
  void RecordRpc(std::string_view rpc, std::string_view code, double seconds);
  void RecordReload(bool ok);
  // Failed EndTransaction calls kept for a retry (end_transaction_retry.h).
  void SetReleasesKept(std::size_t kept);

 private:
  void SetLoadedNow();

  metrics::CounterFamily& decisions_;
  metrics::CounterFamily& failure_mode_;
  metrics::HistogramFamily& rpc_seconds_;
  metrics::CounterFamily& reloads_;
  metrics::GaugeFamily& last_reload_;
  metrics::GaugeFamily& releases_kept_;
};

void SetMilterMetrics(MilterMetrics* metrics);
MilterMetrics* CurrentMilterMetrics();

}  // namespace hive::milter
