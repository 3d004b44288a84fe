// hive-policyd's warm-up metrics: where every cold pool member stands with
// every configured provider group, read from the rate-limit store when
// Prometheus scrapes (so every replica on one Redis reports the same), and
// the step-backs block replies caused.
//
//   hive_policyd_warmup_cap{member,group}          today's cap (absent: warm)
//   hive_policyd_warmup_sent_today{member,group}   messages counted today
//   hive_policyd_warmup_sending_day{member,group}  the sending day
//   hive_policyd_warmup_state{member,group,state}  1 for the current state
//       (cold: no sending day yet, warming: capped, warm, paused: block
//       replies paused it, for routing.feedback.pause), 0 for the others
//   hive_policyd_warmup_step_backs_total{member,group}
//
// Labels come from the configuration only: members with a warm-up schedule
// times the configured provider groups. A recipient domain outside every
// group is its own group for warm-up but has no gauges, and its step-backs
// count under group="other". So series stay bounded by the config.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <mutex>
#include <string>

#include "config/snapshot_holder.h"
#include "ratelimit/clock.h"
#include "ratelimit/store.h"
#include "support/metrics.h"

namespace hive::policy::server {

class WarmupMetrics {
 public:
  // Registers the families and a refresh that Render calls; `config`,
  // `store` and `clock` must outlive the registry's last Render.
  WarmupMetrics(metrics::Registry& registry, const config::SnapshotHolder& config, ratelimit::Store& store,
                const ratelimit::Clock& clock);

  // Sets the gauges from the store (a store error keeps the last values).
  void Refresh();
  // A block reply stepped `member` back for `group`.
  void RecordStepBack(const config::PolicySnapshot& snapshot, const std::string& member, const std::string& group);

 private:
  const config::SnapshotHolder& config_;
  ratelimit::Store& store_;
  const ratelimit::Clock& clock_;
  metrics::GaugeFamily& cap_;
  metrics::GaugeFamily& sent_;
  metrics::GaugeFamily& day_;
  metrics::GaugeFamily& state_;
  metrics::CounterFamily& step_backs_;
  std::mutex refresh_mu_;  // one refresh at a time
};

}  // namespace hive::policy::server
