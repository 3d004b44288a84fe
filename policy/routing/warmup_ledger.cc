#include "routing/warmup_ledger.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "support/log.h"

namespace hive::policy::routing {
namespace {

using ratelimit::BucketKind;
using ratelimit::BucketOp;
using ratelimit::Nanos;

// Counters that never reset: a quota whose window spans the epoch to ~2170
// (Redis stores them with an expiry at the window's end). 2^53 is the
// largest limit the Redis script counts exactly (Lua numbers).
constexpr std::int64_t kCounterLimit = std::int64_t{1} << 53;
constexpr Nanos kForever = std::chrono::hours(24 * 365 * 200);

std::string Key(const PoolMember& m, const std::string& group, std::string_view what) {
  return absl::StrCat("wu:", m.name, ":", group, ":", std::string(what));
}

BucketOp Counter(std::string key, std::int64_t cost, int group = 0) {
  BucketOp op;
  op.key = std::move(key);
  op.kind = BucketKind::kQuota;
  op.limit = kCounterLimit;
  op.window_start = Nanos(0);
  op.window_end = kForever;
  op.cost = cost;
  op.group = group;
  return op;
}

BucketOp Daily(std::string key, std::int64_t limit, std::int64_t cost, const ratelimit::CalendarWindow& today,
               int group = 0) {
  BucketOp op;
  op.key = std::move(key);
  op.kind = BucketKind::kQuota;
  op.limit = limit;
  op.window_start = today.start;
  op.window_end = today.end;
  op.cost = cost;
  op.group = group;
  return op;
}

// The pause: one unit per `pause`, so taking it empties the bucket until
// the pause has passed. Whatever `pause` a peek uses, it reports 0 units
// left while the bucket's pause lasts and 1 after (gcra.h), so readers need
// not know the configured length (which a reload may have changed).
BucketOp Pause(std::string key, Nanos pause, std::int64_t cost) {
  BucketOp op;
  op.key = std::move(key);
  op.kind = BucketKind::kRate;
  op.params.emission_interval = pause;
  op.params.burst = 1;
  op.cost = cost;
  return op;
}
constexpr Nanos kPeekPause = std::chrono::hours(1);

// Block replies are counted in slots of a tenth of the window (whole
// seconds); a slot's counter lives until the window no longer reaches it.
constexpr std::int64_t kBlockSlots = 10;

}  // namespace

absl::StatusOr<std::vector<WarmupLedger::State>> WarmupLedger::Read(const PoolMember& member,
                                                                    std::span<const std::string> groups,
                                                                    const ratelimit::CalendarWindow& today) {
  // Cost 0: Peek reports the counts without a change.
  constexpr std::size_t kPerGroup = 5;
  std::vector<BucketOp> ops;
  for (const std::string& g : groups) {
    ops.push_back(Counter(Key(member, g, "days"), 0));
    ops.push_back(Counter(Key(member, g, "back"), 0));
    ops.push_back(Daily(Key(member, g, "first"), 1, 0, today));
    ops.push_back(Pause(Key(member, g, "pause"), kPeekPause, 0));
    ops.push_back(Daily(Key(member, g, "sent"), kCounterLimit, 0, today));
  }
  absl::StatusOr<std::vector<ratelimit::BucketResult>> peek = store_.Peek(ops);
  if (!peek.ok()) return peek.status();
  std::vector<State> out;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const std::int64_t days = kCounterLimit - (*peek)[kPerGroup * i].remaining;
    const std::int64_t back = kCounterLimit - (*peek)[kPerGroup * i + 1].remaining;
    State s;
    s.sent_today = (*peek)[kPerGroup * i + 2].remaining == 0;
    s.paused = (*peek)[kPerGroup * i + 3].remaining == 0;
    s.day = std::max<std::int64_t>(1, days + (s.sent_today ? 0 : 1) - back);
    s.started = days > 0;
    s.sent = kCounterLimit - (*peek)[kPerGroup * i + 4].remaining;
    out.push_back(s);
  }
  return out;
}

absl::StatusOr<bool> WarmupLedger::TryTake(const PoolMember& member, std::span<const GroupCount> counts) {
  if (!member.warmup) return true;
  const WarmupSchedule& schedule = *member.warmup;
  const ratelimit::CalendarWindow today = zone_.WindowAt(ratelimit::CalendarUnit::kDay, clock_.Wall());
  std::vector<std::string> groups;
  for (const GroupCount& c : counts) groups.push_back(c.group);
  absl::StatusOr<std::vector<State>> states = Read(member, groups, today);
  if (!states.ok()) return states.status();
  // The provider pushed back: nothing more to it from this address until
  // the pause has passed (see StepBack).
  for (const State& s : *states) {
    if (s.paused) return false;
  }

  // Group 0: every capped group's count for today, all or nothing. Groups
  // 1..n: the day's first message marks the day and counts it, once.
  ratelimit::ReserveRequest request;
  request.transaction = absl::StrCat("wu:", transaction_, ":", member.name);
  std::vector<std::optional<std::uint64_t>> caps;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    caps.push_back(schedule.CapForDay((*states)[i].day));
    if (!caps.back()) continue;  // warm for this provider: uncapped
    request.ops.push_back(Daily(Key(member, counts[i].group, "sent"), static_cast<std::int64_t>(*caps.back()),
                                counts[i].count, today));
  }
  const std::size_t first_flag = request.ops.size();
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const int g = static_cast<int>(i) + 1;
    request.ops.push_back(Daily(Key(member, counts[i].group, "first"), 1, 1, today, g));
    request.ops.push_back(Counter(Key(member, counts[i].group, "days"), 1, g));
  }
  absl::StatusOr<ratelimit::ReserveResult> r = store_.Reserve(request);
  if (!r.ok()) return r.status();
  // Nothing to give back later: the message is already accepted.
  if (absl::StatusOr<int> c = store_.Commit(request.transaction); !c.ok()) return c.status();
  if (!r->allowed) return false;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (!r->buckets[first_flag + 2 * i].allowed) continue;
    hive::log::Info(absl::StrCat("warmup member=", member.name, " group=", counts[i].group, " sending_day=",
                                 (*states)[i].day, " cap=", caps[i] ? absl::StrCat(*caps[i]) : "warm",
                                 " reason=\"first message of a new sending day\""));
  }
  return true;
}

absl::StatusOr<std::int64_t> WarmupLedger::Day(const PoolMember& member, const std::string& group) {
  const ratelimit::CalendarWindow today = zone_.WindowAt(ratelimit::CalendarUnit::kDay, clock_.Wall());
  const std::string groups[] = {group};
  absl::StatusOr<std::vector<State>> s = Read(member, groups, today);
  if (!s.ok()) return s.status();
  return s->front().day;
}

absl::StatusOr<std::vector<WarmupLedger::Status>> WarmupLedger::Statuses(const PoolMember& member,
                                                                         std::span<const std::string> groups) {
  std::vector<Status> out;
  if (!member.warmup) return out;
  const ratelimit::CalendarWindow today = zone_.WindowAt(ratelimit::CalendarUnit::kDay, clock_.Wall());
  absl::StatusOr<std::vector<State>> states = Read(member, groups, today);
  if (!states.ok()) return states.status();
  for (const State& s : *states) {
    Status st;
    st.day = s.day;
    st.cap = member.warmup->CapForDay(s.day);
    st.sent_today = s.sent;
    st.phase = s.paused                 ? Phase::kPaused
               : !st.cap            ? Phase::kWarm
               : s.started          ? Phase::kWarming
                                    : Phase::kCold;
    out.push_back(st);
  }
  return out;
}

std::vector<BucketOp> WarmupLedger::BlockSlots(const PoolMember& member, const std::string& group, Nanos window,
                                               std::int64_t add) const {
  const std::int64_t slot =
      std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(window).count() / kBlockSlots);
  const std::int64_t current = std::chrono::duration_cast<std::chrono::seconds>(clock_.Wall()).count() / slot;
  std::vector<BucketOp> ops;
  for (std::int64_t k = current - kBlockSlots + 1; k <= current; ++k) {
    const std::int64_t start = k * slot;
    BucketOp op = Counter(Key(member, group, absl::StrCat("blocks:", start)), k == current ? add : 0);
    op.window_start = std::chrono::seconds(start);
    op.window_end = std::chrono::seconds(start + kBlockSlots * slot);
    ops.push_back(std::move(op));
  }
  return ops;
}

absl::StatusOr<std::int64_t> WarmupLedger::CountBlock(const PoolMember& member, const std::string& group,
                                                      Nanos window) {
  ratelimit::ReserveRequest request;
  request.transaction = absl::StrCat("wu-block:", transaction_, ":", member.name, ":", group);
  request.ops = BlockSlots(member, group, window, 1);
  absl::StatusOr<ratelimit::ReserveResult> r = store_.Reserve(request);
  if (!r.ok()) return r.status();
  if (absl::StatusOr<int> c = store_.Commit(request.transaction); !c.ok()) return c.status();
  std::int64_t blocks = 0;
  for (const ratelimit::BucketResult& b : r->buckets) blocks += kCounterLimit - b.remaining;
  return blocks;
}

absl::Status WarmupLedger::ForgetBlocks(const PoolMember& member, const std::string& group, Nanos window) {
  return store_.Reset(BlockSlots(member, group, window, 0));
}

absl::StatusOr<WarmupLedger::StepResult> WarmupLedger::StepBack(const PoolMember& member, const std::string& group,
                                                                Nanos pause, std::string_view reason) {
  StepResult out;
  if (!member.warmup) return out;
  const ratelimit::CalendarWindow today = zone_.WindowAt(ratelimit::CalendarUnit::kDay, clock_.Wall());
  const std::string groups[] = {group};
  absl::StatusOr<std::vector<State>> before = Read(member, groups, today);
  if (!before.ok()) return before.status();
  out.day_before = out.day_after = before->front().day;

  ratelimit::ReserveRequest request;
  request.transaction = absl::StrCat("wu-back:", transaction_, ":", member.name, ":", group);
  request.ops.push_back(Pause(Key(member, group, "pause"), pause, 1));
  // Never below day 1: a back counter larger than the days sent would
  // pin the address to day 1 for days after it recovered.
  const std::int64_t step = std::min<std::int64_t>(member.warmup->step_back_days, out.day_before - 1);
  request.ops.push_back(Counter(Key(member, group, "back"), step));
  absl::StatusOr<ratelimit::ReserveResult> r = store_.Reserve(request);
  if (!r.ok()) return r.status();
  if (absl::StatusOr<int> c = store_.Commit(request.transaction); !c.ok()) return c.status();
  if (!r->allowed) return out;  // an earlier pause still lasts
  out.stepped = true;
  out.day_after = out.day_before - step;
  const std::optional<std::uint64_t> cap = member.warmup->CapForDay(out.day_after);
  hive::log::Info(absl::StrCat("warmup member=", member.name, " group=", group, " step-back sending_day=",
                               out.day_before, "->", out.day_after, " cap=", cap ? absl::StrCat(*cap) : "warm",
                               " paused=", absl::FormatDuration(absl::FromChrono(pause)), " reason=\"",
                               hive::log::Sanitize(reason, 300), "\""));
  return out;
}

}  // namespace hive::policy::routing
