// The warm-up state of every cold pool member, kept in the rate-limit store
// (ratelimit/store.h) so that caps are exact and shared by every hive-policyd
// replica on one Redis. Per member x provider group it keeps these buckets:
//
//   sent:<day>   messages today (a calendar quota: local day of
//                ratelimit.time_zone); its limit is the day's cap;
//   first:<day>  0 or 1: whether today is already a sending day;
//   days         sending days so far (+1 with the first message of a day);
//   back         sending days taken back by feedback (StepBack);
//   blocks:<t>   block replies reported in the slot starting at t (unix
//                seconds); a slot is a tenth of the block window, so the
//                last ten slots are the replies "within the window";
//   pause        a GCRA bucket holding one unit per pause: taken, it is
//                empty until the pause has passed (the store's own clock:
//                Redis TIME with Redis, so replicas agree).
//
// The current sending day is days - back (+1 before today's first message),
// at least 1; its cap comes from the member's WarmupSchedule. A day on which
// the address sends steps it forward by one (logged). Enough block replies
// (feedback_loop.h counts them with CountBlock) step it back by
// step_back_days and pause it for that group for the configured time, at
// most once per pause (logged with the reply). A paused member takes no mail
// for the group; days it does not send are not sending days.
//
// Why pause rather than only shrink today's cap: the provider has just said
// "not from this address", and on sending day 1 (nothing to step back to) a
// smaller cap would change nothing at all.
//
// One WarmupLedger serves one request (it names the store ledger after the
// transaction); it is cheap to build. Peek-then-reserve is not one atomic
// step: two replicas racing on a day's first message compute the same day,
// and the `first` flag makes the day count once; two replicas counting the
// threshold's block at once both try to pause, and the pause bucket lets
// one of them step back.
// Thread-safe as far as the store is (every store is).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ratelimit/calendar.h"
#include "ratelimit/clock.h"
#include "ratelimit/store.h"
#include "routing/member_chooser.h"

namespace hive::policy::routing {

class WarmupLedger final : public WarmupGate {
 public:
  // `transaction` names the store's reservation ledger (the message's id).
  WarmupLedger(ratelimit::Store& store, const ratelimit::Clock& clock, const ratelimit::TimeZone& zone,
               std::string transaction)
      : store_(store), clock_(clock), zone_(zone), transaction_(std::move(transaction)) {}

  absl::StatusOr<bool> TryTake(const PoolMember& member, std::span<const GroupCount> counts) override;

  // The sending day the member's next message to `group` counts on.
  absl::StatusOr<std::int64_t> Day(const PoolMember& member, const std::string& group);

  // Where a member stands with one provider group today (for metrics):
  // kCold before its first sending day, kWarming while capped, kWarm once
  // uncapped, kPaused while a pause after block replies lasts.
  enum class Phase { kCold, kWarming, kWarm, kPaused };
  struct Status {
    std::int64_t day = 1;
    std::optional<std::uint64_t> cap;  // today's cap; nullopt when warm
    std::int64_t sent_today = 0;
    Phase phase = Phase::kCold;
  };
  // One Status per group, read without changing anything.
  absl::StatusOr<std::vector<Status>> Statuses(const PoolMember& member, std::span<const std::string> groups);

  struct StepResult {
    bool stepped = false;  // false: already paused
    std::int64_t day_before = 0;
    std::int64_t day_after = 0;
  };
  // Counts one block reply from `group` and returns how many arrived
  // within the last `window` (this one included; counted in tenths of the
  // window, so a reply up to a tenth older may still count).
  absl::StatusOr<std::int64_t> CountBlock(const PoolMember& member, const std::string& group,
                                          ratelimit::Nanos window);

  // Forgets the block replies counted within the last `window` (after a
  // step-back, so that the burst it acted on does not count again once the
  // pause is over).
  absl::Status ForgetBlocks(const PoolMember& member, const std::string& group, ratelimit::Nanos window);

  // Moves the member's warm-up for `group` back by its schedule's
  // step_back_days and pauses it for that group for `pause`; does nothing
  // (stepped = false) while an earlier pause lasts. `reason` goes into the
  // log line.
  absl::StatusOr<StepResult> StepBack(const PoolMember& member, const std::string& group, ratelimit::Nanos pause,
                                      std::string_view reason);

 private:
  struct State {
    std::int64_t day = 1;
    bool sent_today = false;
    bool paused = false;
    bool started = false;       // at least one sending day
    std::int64_t sent = 0;      // messages counted today
  };
  // The counters of the block slots within `window` of now, adding `add`
  // to the current one.
  std::vector<ratelimit::BucketOp> BlockSlots(const PoolMember& member, const std::string& group,
                                              ratelimit::Nanos window, std::int64_t add) const;
  absl::StatusOr<std::vector<State>> Read(const PoolMember& member, std::span<const std::string> groups,
                                          const ratelimit::CalendarWindow& today);

  ratelimit::Store& store_;
  const ratelimit::Clock& clock_;
  const ratelimit::TimeZone& zone_;
  std::string transaction_;
};

}  // namespace hive::policy::routing
