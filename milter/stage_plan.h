// Which policy calls the milter makes: what hive-policyd said on its latest
// verdict (policy.proto Stages). Each call costs the MTA, the milter and the
// service a round trip (issue 9), so a stage the policy does not decide at
// is not asked: no CheckSender when no enforcing limit is decided at MAIL
// FROM, no CheckRecipient when no limit is decided per recipient (the
// recipients still go with the end-of-message call). Until a verdict says
// otherwise (start, or an older service that does not say) every stage is
// asked; every verdict says it again, so a reload of the policy reaches the
// milter with the next answer.
//
// Usage: StagePlan stages;  // main(), shared by every session
//   if (stages.sender()) ... CheckSender ...;  stages.Learn(verdict);
//
// Thread-safety: thread-safe (two relaxed atomics; a session that reads the
// plan while a reload lands asks once more or once less, as it would had
// it started a moment earlier or later).
#pragma once

#include <atomic>

#include "hive/policy/v1/policy.pb.h"

namespace hive::milter {

class StagePlan {
 public:
  bool sender() const { return sender_.load(std::memory_order_relaxed); }
  bool recipient() const { return recipient_.load(std::memory_order_relaxed); }
  // A verdict without stages (an older service) changes nothing.
  void Learn(const hive::policy::v1::Verdict& verdict) {
    if (!verdict.has_stages()) return;
    sender_.store(verdict.stages().sender(), std::memory_order_relaxed);
    recipient_.store(verdict.stages().recipient(), std::memory_order_relaxed);
  }

 private:
  std::atomic<bool> sender_{true};
  std::atomic<bool> recipient_{true};
};

}  // namespace hive::milter
