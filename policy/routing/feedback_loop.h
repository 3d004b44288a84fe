// What one reported delivery outcome does to the warm-up of the member that
// made it: a block or throttling reply (BlockClassifier) from a provider
// steps that member back for that provider group (WarmupLedger::StepBack,
// logged with the reply); anything else changes nothing (days step forward
// as the member sends, see warmup_ledger.h). Thread-safe if the ledger is.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "routing/router.h"
#include "routing/warmup_ledger.h"

namespace hive::policy::routing {

struct DeliveryOutcome {
  std::string queue_id;
  std::string member;
  std::string recipient_domain;  // normalised
  DeliveryStatus status = DeliveryStatus::kSent;
  std::string dsn;
  std::string reply;
};

struct FeedbackResult {
  bool stepped_back = false;
  std::int64_t warmup_day = 0;  // 0: the member does not warm up
  std::string group;
  std::string matched;  // the block pattern, "" when none
};

// NotFound when no pool has the member (e.g. removed by a reload).
absl::StatusOr<FeedbackResult> ApplyDeliveryOutcome(const Router& router, WarmupLedger& ledger,
                                                    const DeliveryOutcome& outcome);

}  // namespace hive::policy::routing
