#include "server/warmup_metrics.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "routing/warmup_ledger.h"
#include "support/log.h"

namespace hive::policy::server {
namespace {

using Phase = routing::WarmupLedger::Phase;

constexpr std::pair<Phase, const char*> kPhases[] = {
    {Phase::kCold, "cold"}, {Phase::kWarming, "warming"}, {Phase::kWarm, "warm"}, {Phase::kPaused, "paused"}};

}  // namespace

WarmupMetrics::WarmupMetrics(metrics::Registry& registry, const config::SnapshotHolder& config,
                             ratelimit::Store& store, const ratelimit::Clock& clock)
    : config_(config),
      store_(store),
      clock_(clock),
      cap_(registry.AddGauge("hive_policyd_warmup_cap",
                             "Today's warm-up cap of a pool member for a provider group (absent once warm).",
                             {"member", "group"})),
      sent_(registry.AddGauge("hive_policyd_warmup_sent_today",
                              "Messages a warming pool member sent to a provider group today (local day).",
                              {"member", "group"})),
      day_(registry.AddGauge("hive_policyd_warmup_sending_day",
                             "The warm-up sending day of a pool member for a provider group.", {"member", "group"})),
      state_(registry.AddGauge("hive_policyd_warmup_state",
                               "1 for the warm-up state a pool member is in for a provider group (cold, warming, "
                               "warm, paused), 0 for the others.",
                               {"member", "group", "state"})),
      step_backs_(registry.AddCounter("hive_policyd_warmup_step_backs_total",
                                      "Warm-up step-backs caused by block replies, by member and provider group "
                                      "(\"other\": a domain outside every group).",
                                      {"member", "group"})) {
  registry.AddRefresh([this] { Refresh(); });
}

void WarmupMetrics::Refresh() {
  std::lock_guard lock(refresh_mu_);
  const config::SnapshotPtr snapshot = config_.Get();
  const std::vector<std::string> groups = snapshot->routing.groups().Names();
  routing::WarmupLedger ledger(store_, clock_, snapshot->limits.zone, "metrics");
  for (metrics::GaugeFamily* f : {&cap_, &sent_, &day_, &state_}) f->RemoveAll();
  for (const routing::Pool& pool : snapshot->routing.pools()) {
    for (const routing::PoolMember& m : pool.members) {
      if (!m.warmup || groups.empty()) continue;
      absl::StatusOr<std::vector<routing::WarmupLedger::Status>> statuses = ledger.Statuses(m, groups);
      if (!statuses.ok()) {
        hive::log::Debug(absl::StrCat("warmup metrics member=", m.name, ": ", statuses.status().message()));
        continue;
      }
      for (std::size_t i = 0; i < groups.size(); ++i) {
        const routing::WarmupLedger::Status& s = (*statuses)[i];
        if (s.cap) cap_.WithLabels({m.name, groups[i]}).Set(static_cast<double>(*s.cap));
        sent_.WithLabels({m.name, groups[i]}).Set(static_cast<double>(s.sent_today));
        day_.WithLabels({m.name, groups[i]}).Set(static_cast<double>(s.day));
        for (const auto& [phase, name] : kPhases) {
          state_.WithLabels({m.name, groups[i], name}).Set(phase == s.phase ? 1 : 0);
        }
      }
    }
  }
}

void WarmupMetrics::RecordStepBack(const config::PolicySnapshot& snapshot, const std::string& member,
                                   const std::string& group) {
  const std::vector<std::string> groups = snapshot.routing.groups().Names();
  const bool known = std::find(groups.begin(), groups.end(), group) != groups.end();
  step_backs_.WithLabels({member, known ? group : "other"}).Inc();
}

}  // namespace hive::policy::server
