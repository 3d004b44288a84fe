// hive-policyd's Prometheus metrics (names hive_policyd_*): request
// handling latency, decisions by stage and action, content rule hits by
// symbol, rate-limit verdicts by rule (within / near_limit / over / shadow /
// route), pool assignments, config version and reload results. Every label
// value comes from the configuration (rule, symbol and pool names) or from
// enums, never from the request, so cardinality is bounded by the config.
//
// Usage: main() builds one over its Registry and hands it to
// PolicyServiceImpl, which calls RecordCheck/RecordEnd once per RPC, and to
// the signal thread for RecordReload. Store metrics: metered_store.h.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <grpcpp/grpcpp.h>

#include "config/snapshot.h"
#include "hive/policy/v1/policy.pb.h"
#include "support/metrics.h"

namespace hive::policy::server {

class PolicyMetrics {
 public:
  explicit PolicyMetrics(metrics::Registry& registry);

  // One CheckSender/CheckRecipient/CheckMessage: the verdict it answered,
  // its status, its handling time, and the snapshot it was decided with
  // (for rule actions and the near-limit ratio).
  void RecordCheck(std::string_view rpc, const hive::policy::v1::Verdict& verdict, const grpc::Status& status,
                   double seconds, const config::PolicySnapshot& snapshot);
  void RecordEnd(const grpc::Status& status, double seconds);
  // Degraded-mode leases: `event` is granted (a lease in a verdict), charged
  // (a leased message charged to its limits), duplicate (a usage reported
  // again, charged nothing) or over_limit (a rule already full when a
  // leased message was charged: the overshoot); `count` of them.
  void RecordLease(std::string_view event, std::uint64_t count);
  // The running config version (start and every successful reload).
  void SetConfigVersion(const std::string& version);
  void RecordReload(bool ok);
  // Policy held in Redis (admin/policy_follower.h): 1 while this replica
  // runs the stored version, 0 while it cannot (refused, or store down).
  void SetPolicyInStep(bool in_step);
  // A TLS listener's files ("server.tls"): 1 while they are sound, 0 after a
  // change that gRPC cannot serve (support/tls_file_watch.h).
  void SetTlsFilesOk(const std::string& listener, bool ok);

 private:
  void RecordLimits(const hive::policy::v1::Verdict& verdict, const config::PolicySnapshot& snapshot);

  metrics::HistogramFamily& request_seconds_;
  metrics::CounterFamily& decisions_;
  metrics::CounterFamily& rule_hits_;
  metrics::CounterFamily& ratelimit_;
  metrics::CounterFamily& pools_;
  metrics::GaugeFamily& config_info_;
  metrics::CounterFamily& reloads_;
  metrics::CounterFamily& leases_;
  metrics::GaugeFamily& last_reload_;
  metrics::GaugeFamily& policy_in_step_;
  metrics::GaugeFamily& tls_files_ok_;
};

}  // namespace hive::policy::server
