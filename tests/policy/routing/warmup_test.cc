// Member choice with warm-up caps counted in a real store (the in-memory
// one; Redis passes the same store contract), on an injected clock.
#include <gtest/gtest.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "ratelimit/memory_store.h"
#include "routing/feedback_loop.h"
#include "routing/member_chooser.h"
#include "routing/warmup_ledger.h"

namespace hive::policy::routing {
namespace {

using ratelimit::ManualClock;
using ratelimit::MemoryStore;
using ratelimit::TimeZone;
using std::chrono::hours;

WarmupSchedule Schedule(std::uint64_t day_one, double growth = 2, std::uint64_t warm_at = 1000) {
  return WarmupSchedule{.name = "new", .day_one = day_one, .growth = growth, .warm_at = warm_at};
}

PoolMember Member(std::string name, std::string address, std::optional<WarmupSchedule> w = {},
                  std::uint32_t weight = 1) {
  return PoolMember{std::move(name), std::move(address), false, "h.example.com", weight, std::move(w)};
}

Router MakeRouter(std::vector<Pool> pools, FeedbackPolicy feedback = {}) {
  ProviderGroups groups;
  EXPECT_TRUE(groups.Add("google", "gmail.com").ok());
  EXPECT_TRUE(groups.Add("google", "googlemail.com").ok());
  return Router(std::move(pools), {}, "mkt", std::move(groups), {"transactional"}, std::move(feedback));
}

// Replies as Postfix logs them.
DeliveryOutcome Block(std::string queue_id, std::string domain = "gmail.com") {
  return {std::move(queue_id), "cold", std::move(domain), DeliveryStatus::kDeferred, "4.7.28",
          "421-4.7.28 [127.0.0.12] Our system has detected an unusual rate of unsolicited mail"};
}
DeliveryOutcome Greylist(std::string queue_id) {
  return {std::move(queue_id), "cold", "gmail.com", DeliveryStatus::kDeferred, "4.2.0",
          "450 4.2.0 <bob@gmail.com>: Recipient address rejected: Greylisted"};
}

class WarmupTest : public ::testing::Test {
 protected:
  // 2024-01-01T00:00Z plus a few hours: noon in UTC.
  ManualClock clock_{hours(1), std::chrono::seconds(1704067200) + hours(12)};
  MemoryStore store_{clock_};
  TimeZone utc_;
  int seq_ = 0;

  absl::StatusOr<MemberChoice> Send(const Router& r, const std::string& pool, const std::string& rcpt_domain,
                                    bool transactional = false, const TimeZone* zone = nullptr) {
    const std::string txn = absl::StrCat("txn-", ++seq_);
    WarmupLedger ledger(store_, clock_, zone ? *zone : utc_, txn);
    const std::string domains[] = {rcpt_domain};
    return ChooseMember(r, pool, txn, transactional, CountGroups(r.groups(), domains), ledger);
  }
  std::map<std::string, int> SendMany(const Router& r, int n, const std::string& domain) {
    std::map<std::string, int> got;
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<MemberChoice> c = Send(r, "mkt", domain);
      EXPECT_TRUE(c.ok()) << c.status();
      if (c.ok()) ++got[c->pool + "/" + c->member];
    }
    return got;
  }
};

TEST_F(WarmupTest, ColdMemberTakesExactlyItsCapThenOverflowsToWarm) {
  const Router r = MakeRouter({Pool{"mkt", {Member("warm", "127.0.0.11"), Member("cold", "127.0.0.12", Schedule(5))}, {}, ""}});
  std::map<std::string, int> got = SendMany(r, 12, "gmail.com");
  EXPECT_EQ(got["mkt/cold"], 5);
  EXPECT_EQ(got["mkt/warm"], 7);
  // googlemail.com is the same provider: no more cap today.
  EXPECT_EQ(Send(r, "mkt", "googlemail.com")->member, "warm");
  // Another provider has its own cap.
  got = SendMany(r, 6, "yahoo.com");
  EXPECT_EQ(got["mkt/cold"], 5);
}

TEST_F(WarmupTest, SendingDaysNotCalendarDaysAdvanceTheCap) {
  const Router r = MakeRouter({Pool{"mkt", {Member("warm", "127.0.0.11"), Member("cold", "127.0.0.12", Schedule(5))}, {}, ""}});
  EXPECT_EQ(SendMany(r, 20, "gmail.com")["mkt/cold"], 5);   // day 1: 5
  clock_.Advance(hours(24));
  EXPECT_EQ(SendMany(r, 20, "gmail.com")["mkt/cold"], 10);  // day 2: 10
  clock_.Advance(hours(24 * 3));                             // three idle days
  EXPECT_EQ(SendMany(r, 30, "gmail.com")["mkt/cold"], 20);  // sending day 3: 20, not day 6
  clock_.Advance(hours(24));
  WarmupLedger ledger(store_, clock_, utc_, "probe");
  EXPECT_EQ(*ledger.Day(r.pools()[0].members[1], "google"), 4);
}

TEST_F(WarmupTest, DayBoundaryIsLocalMidnightOfTheZone) {
  absl::StatusOr<TimeZone> shanghai = TimeZone::Load("Asia/Shanghai");
  ASSERT_TRUE(shanghai.ok());
  const Router r = MakeRouter({Pool{"mkt", {Member("warm", "127.0.0.11"), Member("cold", "127.0.0.12", Schedule(3))}, {}, ""}});
  // 12:00Z is 20:00 in Shanghai; 16:00Z is midnight there.
  int cold = 0;
  for (int i = 0; i < 5; ++i) cold += Send(r, "mkt", "qq.com", false, &*shanghai)->member == "cold";
  EXPECT_EQ(cold, 3);
  clock_.Advance(hours(3) + std::chrono::minutes(59));  // 23:59 local: same day
  EXPECT_EQ(Send(r, "mkt", "qq.com", false, &*shanghai)->member, "warm");
  clock_.Advance(std::chrono::minutes(2));  // 00:01 local: sending day 2, cap 6
  cold = 0;
  for (int i = 0; i < 8; ++i) cold += Send(r, "mkt", "qq.com", false, &*shanghai)->member == "cold";
  EXPECT_EQ(cold, 6);
}

TEST_F(WarmupTest, TransactionalMailNeverTakesAColdAddressUnlessAllowed) {
  WarmupSchedule allow = Schedule(5);
  allow.allow_transactional = true;
  const Router r = MakeRouter({Pool{"mkt", {Member("warm", "127.0.0.11"), Member("cold", "127.0.0.12", Schedule(5))}, {}, ""},
                               Pool{"tx", {Member("tx-cold", "127.0.0.21", allow), Member("tx-warm", "127.0.0.22")}, {}, ""}});
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Send(r, "mkt", "gmail.com", /*transactional=*/true)->member, "warm");
  EXPECT_EQ(Send(r, "tx", "gmail.com", /*transactional=*/true)->member, "tx-cold");
}

TEST_F(WarmupTest, AllColdPoolOverflowsToItsFallbackPool) {
  const Router r = MakeRouter({Pool{"mkt", {Member("c1", "127.0.0.11", Schedule(2)), Member("c2", "127.0.0.12", Schedule(2))}, {}, "shared"},
                               Pool{"shared", {Member("s1", "127.0.0.31")}, {}, ""}});
  std::map<std::string, int> got = SendMany(r, 7, "gmail.com");
  EXPECT_EQ(got["mkt/c1"], 2);
  EXPECT_EQ(got["mkt/c2"], 2);
  EXPECT_EQ(got["shared/s1"], 3);
  absl::StatusOr<MemberChoice> c = Send(r, "mkt", "gmail.com");
  EXPECT_EQ(c->why, "overflow from mkt, warm");
}

// The default feedback: 3 blocks within 10 minutes pause for 2 hours.
// Each row reports its replies (a duration first: the clock moves that far
// before the reply) to a fresh store, then checks whether the cold member
// stepped back and whether it still takes Google's mail.
TEST(WarmupFeedbackTest, ItTakesThresholdBlocksWithinTheWindowAndGreylistingNeverCounts) {
  using std::chrono::minutes;
  struct Step {
    std::chrono::nanoseconds wait{0};
    DeliveryOutcome outcome;
  };
  struct Row {
    const char* name;
    std::vector<Step> steps;
    bool paused;
  };
  const std::vector<Row> rows = {
      {"one block", {{{}, Block("Q1")}}, false},
      {"threshold - 1 blocks", {{{}, Block("Q1")}, {minutes(1), Block("Q2")}}, false},
      {"threshold blocks", {{{}, Block("Q1")}, {minutes(1), Block("Q2")}, {minutes(1), Block("Q3")}}, true},
      {"greylisting never counts", {{{}, Greylist("Q1")}, {{}, Greylist("Q2")}, {{}, Greylist("Q3")},
                                    {{}, Greylist("Q4")}}, false},
      {"greylisting between blocks", {{{}, Block("Q1")}, {{}, Greylist("Q2")}, {{}, Block("Q3")},
                                      {{}, Greylist("Q4")}}, false},
      {"blocks wider apart than the window", {{{}, Block("Q1")}, {minutes(6), Block("Q2")},
                                              {minutes(6), Block("Q3")}}, false},
      {"another provider's blocks", {{{}, Block("Q1")}, {{}, Block("Q2", "yahoo.com")}, {{}, Block("Q3")}}, false},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    ManualClock clock{hours(1), std::chrono::seconds(1704067200) + hours(12)};
    MemoryStore store{clock};
    TimeZone utc;
    const Router r = MakeRouter({Pool{"mkt", {Member("warm", "127.0.0.11"), Member("cold", "127.0.0.12", Schedule(50))}, {}, ""}});
    WarmupLedger ledger(store, clock, utc, "report");
    bool stepped = false;
    for (const Step& step : row.steps) {
      clock.Advance(step.wait);
      absl::StatusOr<FeedbackResult> f = ApplyDeliveryOutcome(r, ledger, step.outcome);
      ASSERT_TRUE(f.ok()) << f.status();
      stepped = stepped || f->stepped_back;
    }
    EXPECT_EQ(stepped, row.paused);
    const std::string domains[] = {"gmail.com"};
    WarmupLedger send(store, clock, utc, "txn");
    absl::StatusOr<MemberChoice> c = ChooseMember(r, "mkt", "txn", false, CountGroups(r.groups(), domains), send);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->member, row.paused ? "warm" : "cold");
  }
}

TEST_F(WarmupTest, APauseEndsAfterItsTtlAndStepsBackOncePerPause) {
  FeedbackPolicy feedback;
  feedback.pause = std::chrono::minutes(30);
  const Router r = MakeRouter({Pool{"mkt", {Member("warm", "127.0.0.11"), Member("cold", "127.0.0.12", Schedule(5))}, {}, ""}},
                              feedback);
  // Days 1-3: 5, 10, 20 (sending day 4 today).
  for (int d = 0; d < 3; ++d) {
    SendMany(r, 25, "gmail.com");
    clock_.Advance(hours(24));
  }
  EXPECT_EQ(SendMany(r, 4, "gmail.com")["mkt/cold"], 4);  // day 4 (cap 40): 4 sent
  WarmupLedger ledger(store_, clock_, utc_, "report");
  EXPECT_FALSE(ApplyDeliveryOutcome(r, ledger, Block("Q1"))->stepped_back);
  EXPECT_FALSE(ApplyDeliveryOutcome(r, ledger, Block("Q2"))->stepped_back);
  absl::StatusOr<FeedbackResult> f = ApplyDeliveryOutcome(r, ledger, Block("Q3"));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->stepped_back);
  EXPECT_EQ(f->blocks_in_window, 3);
  EXPECT_EQ(f->warmup_day, 2);  // 4 - step_back_days (2)
  // More blocks while paused: not counted, no second step-back.
  f = ApplyDeliveryOutcome(r, ledger, Block("Q4"));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_FALSE(f->stepped_back);
  EXPECT_TRUE(f->during_pause);
  EXPECT_EQ(f->blocks_in_window, 0);
  EXPECT_EQ(SendMany(r, 20, "gmail.com")["mkt/cold"], 0);
  // Other providers are untouched; a clean delivery changes nothing.
  EXPECT_EQ(SendMany(r, 3, "yahoo.com")["mkt/cold"], 3);
  const DeliveryOutcome sent{"Q5", "cold", "yahoo.com", DeliveryStatus::kSent, "2.0.0", "250 2.0.0 Ok"};
  EXPECT_FALSE(ApplyDeliveryOutcome(r, ledger, sent)->stepped_back);
  // Paused until 30 minutes after the step-back, not until midnight.
  clock_.Advance(std::chrono::minutes(29));
  EXPECT_EQ(SendMany(r, 2, "gmail.com")["mkt/cold"], 0);
  clock_.Advance(std::chrono::minutes(2));
  // Sending day 2's cap is 10, and 4 went out today: 6 more.
  EXPECT_EQ(SendMany(r, 10, "gmail.com")["mkt/cold"], 6);
  // A new burst after the pause steps back again (the window has moved on
  // from the first burst, so it takes three new blocks).
  EXPECT_FALSE(ApplyDeliveryOutcome(r, ledger, Block("Q6"))->stepped_back);
  EXPECT_FALSE(ApplyDeliveryOutcome(r, ledger, Block("Q7"))->stepped_back);
  f = ApplyDeliveryOutcome(r, ledger, Block("Q8"));
  EXPECT_TRUE(f->stepped_back);
  EXPECT_EQ(f->warmup_day, 1);  // never below day 1
  // The next day steps forward again: sending day 2.
  clock_.Advance(hours(24));
  EXPECT_EQ(SendMany(r, 30, "gmail.com")["mkt/cold"], 10);
  // Unknown member (removed by a reload): NotFound.
  DeliveryOutcome gone = Block("Q9");
  gone.member = "gone";
  EXPECT_TRUE(absl::IsNotFound(ApplyDeliveryOutcome(r, ledger, gone).status()));
}

// A window longer than the pause: the burst the step-back acted on, and
// the retries that bounce while the member is paused, do not count toward
// the next step-back; the count starts afresh when the pause ends.
TEST_F(WarmupTest, AfterAPauseTheBlockCountStartsAfresh) {
  FeedbackPolicy feedback;
  feedback.block_window = std::chrono::hours(1);
  feedback.pause = std::chrono::minutes(30);
  const Router r = MakeRouter({Pool{"mkt", {Member("warm", "127.0.0.11"), Member("cold", "127.0.0.12", Schedule(5))}, {}, ""}},
                              feedback);
  SendMany(r, 3, "gmail.com");
  WarmupLedger ledger(store_, clock_, utc_, "report");
  for (const char* q : {"Q1", "Q2"}) EXPECT_FALSE(ApplyDeliveryOutcome(r, ledger, Block(q))->stepped_back);
  EXPECT_TRUE(ApplyDeliveryOutcome(r, ledger, Block("Q3"))->stepped_back);
  clock_.Advance(std::chrono::minutes(10));
  for (const char* q : {"Q4", "Q5", "Q6"}) EXPECT_TRUE(ApplyDeliveryOutcome(r, ledger, Block(q))->during_pause);
  clock_.Advance(std::chrono::minutes(21));  // the pause is over; all six replies are within the hour
  EXPECT_EQ(SendMany(r, 1, "gmail.com")["mkt/cold"], 1);
  absl::StatusOr<FeedbackResult> f = ApplyDeliveryOutcome(r, ledger, Block("Q7"));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_FALSE(f->during_pause);
  EXPECT_EQ(f->blocks_in_window, 1);
  EXPECT_FALSE(f->stepped_back);
  EXPECT_FALSE(ApplyDeliveryOutcome(r, ledger, Block("Q8"))->stepped_back);
  EXPECT_TRUE(ApplyDeliveryOutcome(r, ledger, Block("Q9"))->stepped_back);
}

TEST_F(WarmupTest, StepBackNeverGoesBelowDayOne) {
  const Router r = MakeRouter({Pool{"mkt", {Member("warm", "127.0.0.11"), Member("cold", "127.0.0.12", Schedule(5))}, {}, ""}});
  SendMany(r, 2, "gmail.com");
  WarmupLedger ledger(store_, clock_, utc_, "report");
  absl::StatusOr<WarmupLedger::StepResult> s =
      ledger.StepBack(r.pools()[0].members[1], "google", std::chrono::hours(2), "test");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->day_after, 1);
  // Nothing to step back to on day 1, yet the provider said stop: paused.
  EXPECT_EQ(SendMany(r, 3, "gmail.com")["mkt/cold"], 0);
  clock_.Advance(hours(24));
  EXPECT_EQ(*ledger.Day(r.pools()[0].members[1], "google"), 2);  // back to normal progress
}

TEST_F(WarmupTest, PoolWithoutMembersNamesNoMember) {
  const Router r = MakeRouter({Pool{"mkt", {}, {}, ""}});
  absl::StatusOr<MemberChoice> c = Send(r, "mkt", "gmail.com");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->pool, "mkt");
  EXPECT_EQ(c->member, "");
}

TEST_F(WarmupTest, WarmMembersShareByWeight) {
  const Router r = MakeRouter({Pool{"mkt", {Member("a", "127.0.0.11", {}, 1), Member("b", "127.0.0.12", {}, 3)}, {}, ""}});
  std::map<std::string, int> got = SendMany(r, 4000, "gmail.com");
  EXPECT_NEAR(got["mkt/b"], 3000, 150);
}

}  // namespace
}  // namespace hive::policy::routing
