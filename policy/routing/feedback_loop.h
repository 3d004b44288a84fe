// What one reported delivery outcome does to the warm-up of the member that
// made it. A block or throttling reply (BlockClassifier: greylisting and the
// like are not blocks) from a provider is counted for that member and
// provider group (WarmupLedger::CountBlock); once feedback.block_threshold
// of them arrived within feedback.block_window, the member steps back and
// pauses for that group for feedback.pause (WarmupLedger::StepBack, logged
// with the replies' count and the last reply), at most once per pause.
// Blocks reported while that pause lasts are not counted (retries of mail
// queued for the member before it: the step-back already answered them),
// and the step-back forgets the blocks it acted on, so the count starts
// afresh when the pause ends.
// Anything else changes nothing (days step forward as the member sends, see
// warmup_ledger.h). Thread-safe if the ledger is.
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
  std::string ignored;  // the ignore pattern that said "not a block", else ""
  std::int64_t blocks_in_window = 0;  // counted blocks (warming members only)
  bool during_pause = false;          // a block while the member is paused for the group: not counted
};

// NotFound when no pool has the member (e.g. removed by a reload).
absl::StatusOr<FeedbackResult> ApplyDeliveryOutcome(const Router& router, WarmupLedger& ledger,
                                                    const DeliveryOutcome& outcome);

}  // namespace hive::policy::routing
