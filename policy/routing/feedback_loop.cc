#include "routing/feedback_loop.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace hive::policy::routing {

absl::StatusOr<FeedbackResult> ApplyDeliveryOutcome(const Router& router, WarmupLedger& ledger,
                                                    const DeliveryOutcome& outcome) {
  const auto [pool, member] = router.FindMember(outcome.member);
  if (member == nullptr) return absl::NotFoundError(absl::StrCat("no pool member '", outcome.member, "'"));
  const FeedbackPolicy& policy = router.feedback();
  FeedbackResult out;
  out.group = router.groups().GroupOf(outcome.recipient_domain);
  BlockClassifier::Classification c = policy.classifier.Classify(outcome.status, outcome.dsn, outcome.reply);
  out.matched = std::move(c.block);
  out.ignored = std::move(c.ignored);
  if (!member->warmup) return out;
  if (!out.matched.empty()) {
    const std::string groups[] = {out.group};
    absl::StatusOr<std::vector<WarmupLedger::Status>> now = ledger.Statuses(*member, groups);
    if (!now.ok()) return now.status();
    out.during_pause = now->front().phase == WarmupLedger::Phase::kPaused;
  }
  if (!out.matched.empty() && !out.during_pause) {
    absl::StatusOr<std::int64_t> blocks = ledger.CountBlock(*member, out.group, policy.block_window);
    if (!blocks.ok()) return blocks.status();
    out.blocks_in_window = *blocks;
    if (*blocks >= policy.block_threshold) {
      absl::StatusOr<WarmupLedger::StepResult> step = ledger.StepBack(
          *member, out.group, policy.pause,
          absl::StrCat(*blocks, " block replies within ", absl::FormatDuration(absl::FromChrono(policy.block_window)),
                       ", the last: queue ", outcome.queue_id, ": ", outcome.dsn, " ", outcome.reply, " (matches ",
                       out.matched, ")"));
      if (!step.ok()) return step.status();
      out.stepped_back = step->stepped;
      if (step->stepped) {
        if (absl::Status forget = ledger.ForgetBlocks(*member, out.group, policy.block_window); !forget.ok()) {
          return forget;
        }
      }
    }
  }
  absl::StatusOr<std::int64_t> day = ledger.Day(*member, out.group);
  if (!day.ok()) return day.status();
  out.warmup_day = *day;
  return out;
}

}  // namespace hive::policy::routing
