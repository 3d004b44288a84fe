#include "routing/feedback_loop.h"

#include "absl/strings/str_cat.h"

namespace hive::policy::routing {

absl::StatusOr<FeedbackResult> ApplyDeliveryOutcome(const Router& router, WarmupLedger& ledger,
                                                    const DeliveryOutcome& outcome) {
  const auto [pool, member] = router.FindMember(outcome.member);
  if (member == nullptr) return absl::NotFoundError(absl::StrCat("no pool member '", outcome.member, "'"));
  FeedbackResult out;
  out.group = router.groups().GroupOf(outcome.recipient_domain);
  out.matched = router.feedback().Match(outcome.status, outcome.dsn, outcome.reply);
  if (!member->warmup) return out;
  if (!out.matched.empty()) {
    absl::StatusOr<WarmupLedger::StepResult> step = ledger.StepBack(
        *member, out.group,
        absl::StrCat("queue ", outcome.queue_id, ": ", outcome.dsn, " ", outcome.reply, " (matches ", out.matched, ")"));
    if (!step.ok()) return step.status();
    out.stepped_back = step->stepped;
  }
  absl::StatusOr<std::int64_t> day = ledger.Day(*member, out.group);
  if (!day.ok()) return day.status();
  out.warmup_day = *day;
  return out;
}

}  // namespace hive::policy::routing
