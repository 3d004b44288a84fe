// Issue 4 features of the limiter over the in-memory store, with an
// injected clock: calendar quotas, several windows, overrides, exemptions,
// message-stage rules (bytes, headers, route), window statuses, and
// exactness under concurrency.
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "absl/time/civil_time.h"
#include "ratelimit/limiter.h"
#include "ratelimit/memory_store.h"

namespace hive::policy::ratelimit {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

Nanos Local(const char* zone, absl::CivilSecond cs) {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone(zone, &tz));
  return Nanos(absl::ToUnixNanos(absl::FromCivil(cs, tz)));
}

class LimiterFeaturesTest : public ::testing::Test {
 protected:
  LimitRule& Add(const std::string& name, const std::string& key, Cost cost = Cost::kRecipients) {
    LimitRule r;
    r.name = name;
    r.key = KeyTemplate::Parse(key).value();
    r.cost = cost;
    policy_.rules.push_back(std::move(r));
    return policy_.rules.back();
  }
  match::Facts Facts(const std::string& rcpt, const std::string& sender = "alice@example.com",
                     const std::string& ip = "192.0.2.1") {
    match::Facts f = match::MakeFacts(sender, "", ip);
    if (!rcpt.empty()) f.recipients.push_back(match::MakeRecipient(rcpt));
    return f;
  }
  LimitOutcome Rcpt(const std::string& txn, const std::string& rcpt, const std::string& sender = "alice@example.com") {
    return limiter_.CheckRecipient(policy_, txn, Facts(rcpt, sender)).value().outcome;
  }
  // n recipients in n transactions, each committed; returns how many passed.
  int Send(int n, const std::string& sender = "alice@example.com") {
    int ok = 0;
    for (int i = 0; i < n; ++i) {
      const std::string txn = "s" + std::to_string(seq_++);
      if (Rcpt(txn, "r" + std::to_string(i) + "@x.org", sender) == LimitOutcome::kAllow) ++ok;
      EXPECT_TRUE(limiter_.Commit(txn).ok());
    }
    return ok;
  }

  ManualClock clock_;
  MemoryStore store_{clock_};
  Limiter limiter_{store_, clock_};
  LimitPolicy policy_;
  int seq_ = 0;
};

TEST_F(LimiterFeaturesTest, DailyQuotaResetsAtShanghaiMidnightNotUtc) {
  policy_.zone = TimeZone::Load("Asia/Shanghai").value();
  Add("daily", "{sender}").quotas = {{3, CalendarUnit::kDay}};
  clock_.SetWall(Local("Asia/Shanghai", absl::CivilSecond(2024, 5, 1, 23, 59, 0)));
  EXPECT_EQ(Send(5), 3);
  LimitDecision d = limiter_.CheckRecipient(policy_, "t", Facts("z@x.org")).value();
  ASSERT_EQ(d.outcome, LimitOutcome::kTempfail);
  EXPECT_EQ(d.refusal->retry_after, seconds(60));  // until local midnight
  clock_.Advance(seconds(60));                     // 00:00 local = 16:00 UTC
  EXPECT_EQ(Send(5), 3);
}

TEST_F(LimiterFeaturesTest, DailyQuotaAcrossNewYorkFallBackDayLasts25Hours) {
  policy_.zone = TimeZone::Load("America/New_York").value();
  Add("daily", "{sender}").quotas = {{2, CalendarUnit::kDay}};
  clock_.SetWall(Local("America/New_York", absl::CivilSecond(2024, 11, 3, 0, 0, 0)));
  EXPECT_EQ(Send(3), 2);
  clock_.Advance(hours(24));  // 23:00 local on the same (25-hour) day
  EXPECT_EQ(Send(1), 0);
  clock_.Advance(hours(1));  // midnight
  EXPECT_EQ(Send(3), 2);
}

// A wall-clock step (NTP, an operator) moves neither way a rate window:
// GCRA runs on the monotonic clock (docs/failure-modes.md, "Clock jump").
TEST_F(LimiterFeaturesTest, WallClockStepsNeitherRefillNorLockARateWindow) {
  Add("rate", "{sender}").windows = {{3, seconds(6), 0}};
  const Nanos wall = clock_.Wall();
  EXPECT_EQ(Send(4), 3);
  clock_.SetWall(wall - hours(2));  // back: no new burst
  EXPECT_EQ(Send(1), 0);
  clock_.SetWall(wall + hours(26));  // forward: no new burst either
  EXPECT_EQ(Send(1), 0);
  clock_.Advance(seconds(2));  // one emission interval: one unit, no lockout
  EXPECT_EQ(Send(2), 1);
}

// A step forward past midnight starts the new day once; a step back across
// it finds the old day's count (kept quota_grace after the window ends, even
// when a sweep ran in between), and forward again the new day's.
TEST_F(LimiterFeaturesTest, DailyQuotaAcrossWallClockStepsOverMidnight) {
  Add("daily", "{sender}").quotas = {{3, CalendarUnit::kDay}};
  clock_.SetWall(Local("UTC", absl::CivilSecond(2024, 5, 1, 23, 50, 0)));
  EXPECT_EQ(Send(2), 2);
  clock_.SetWall(Local("UTC", absl::CivilSecond(2024, 5, 2, 0, 10, 0)));
  EXPECT_EQ(Send(5), 3);
  clock_.Advance(seconds(30));  // past the sweep interval: ended windows swept
  EXPECT_EQ(Send(1), 0);
  // Touch every shard (a sweep runs on the shards a call locks).
  for (int i = 0; i < 1000; ++i) Send(1, "other" + std::to_string(i) + "@example.com");
  clock_.SetWall(Local("UTC", absl::CivilSecond(2024, 5, 1, 23, 55, 0)));
  EXPECT_EQ(Send(5), 1);  // 2 of May 1st's 3 were used before the step
  clock_.SetWall(Local("UTC", absl::CivilSecond(2024, 5, 2, 0, 20, 0)));
  EXPECT_EQ(Send(1), 0);  // May 2nd's count is kept too: no second reset
}

TEST_F(LimiterFeaturesTest, EveryWindowAndQuotaMustAllow) {
  LimitRule& r = Add("multi", "{sender}");
  r.windows = {{2, seconds(1), 0}, {5, hours(1), 0}};
  r.quotas = {{7, CalendarUnit::kDay}};
  EXPECT_EQ(Send(3), 2);  // 2/s
  clock_.Advance(seconds(1));
  EXPECT_EQ(Send(3), 2);
  clock_.Advance(seconds(1));
  EXPECT_EQ(Send(3), 1);  // 5/h
  clock_.Advance(hours(1));
  EXPECT_EQ(Send(3), 2);  // 7/day: 5 + 2
  clock_.Advance(hours(1));
  EXPECT_EQ(Send(3), 0);
  LimitDecision d = limiter_.CheckRecipient(policy_, "w", Facts("q@x.org")).value();
  ASSERT_EQ(d.windows.size(), 3u);
  EXPECT_EQ(d.windows[0].window, "1s");
  EXPECT_EQ(d.windows[1].window, "1h");
  EXPECT_EQ(d.windows[2].window, "day");
  EXPECT_EQ(d.windows[2].limit, 7u);
  EXPECT_EQ(d.windows[2].remaining, 0);
  EXPECT_EQ(d.windows[2].reset_at, Local("UTC", absl::CivilSecond(2024, 1, 2, 0, 0, 0)));
}

TEST_F(LimiterFeaturesTest, AllOrNothingAcrossRules) {
  Add("a", "{sender}").windows = {{3, hours(1), 0}};
  Add("b", "{recipient_domain}").windows = {{1, hours(1), 0}};
  EXPECT_EQ(Rcpt("t1", "x@gmail.com"), LimitOutcome::kAllow);
  EXPECT_EQ(Rcpt("t1", "y@gmail.com"), LimitOutcome::kTempfail);  // b full: a not charged
  EXPECT_EQ(Rcpt("t1", "z@yahoo.com"), LimitOutcome::kAllow);
  EXPECT_EQ(Rcpt("t1", "w@aol.com"), LimitOutcome::kAllow);
  EXPECT_EQ(Rcpt("t1", "v@web.de"), LimitOutcome::kTempfail);  // a at 3
  EXPECT_EQ(limiter_.Release("t1").value(), 6);  // 3 recipients x 2 rules
}

TEST_F(LimiterFeaturesTest, OverrideGivesOneSenderMoreWithoutCopyingTheRule) {
  LimitRule& r = Add("per-sender", "{sender}");
  r.windows = {{2, hours(1), 0}};
  LimitOverride big;
  ASSERT_TRUE(big.match.AddSender("*@bigcustomer.example").ok());
  big.windows = {{5, hours(1), 0}};
  r.overrides.push_back(std::move(big));
  EXPECT_EQ(Send(10), 2);
  EXPECT_EQ(Send(10, "news@bigcustomer.example"), 5);
  EXPECT_EQ(Send(10, "ops@bigcustomer.example"), 5);  // still one bucket per sender
}

TEST_F(LimiterFeaturesTest, ExemptionsCountNothing) {
  Add("per-sender", "{sender}").windows = {{1, hours(1), 0}};
  ASSERT_TRUE(policy_.exempt.recipients.AddRecipient("postmaster@*").ok());
  ASSERT_TRUE(policy_.exempt.recipients.AddRecipient("abuse@*").ok());
  ASSERT_TRUE(policy_.exempt.client_ips.AddClientIp("10.0.0.0/8").ok());
  EXPECT_EQ(Rcpt("t1", "Postmaster@x.org"), LimitOutcome::kAllow);
  EXPECT_EQ(Rcpt("t1", "abuse@y.org"), LimitOutcome::kAllow);
  EXPECT_EQ(Rcpt("t1", "a@x.org"), LimitOutcome::kAllow);
  EXPECT_EQ(Rcpt("t1", "b@x.org"), LimitOutcome::kTempfail);
  EXPECT_EQ(limiter_.Commit("t1").value(), 1);
  EXPECT_TRUE(limiter_.CheckRecipient(policy_, "t2", Facts("c@x.org", "alice@example.com", "10.1.2.3"))->exempt);
  EXPECT_EQ(Rcpt("t3", "abuse@z.org"), LimitOutcome::kAllow);  // even when the sender is over
}

TEST_F(LimiterFeaturesTest, SubaddressStripSharesOneBucket) {
  LimitRule& r = Add("per-sender", "{sender}");
  r.key = KeyTemplate::Parse("{sender}", true).value();
  r.windows = {{2, hours(1), 0}};
  EXPECT_EQ(Send(1, "bob+a@example.com"), 1);
  EXPECT_EQ(Send(1, "bob+b@example.com"), 1);
  EXPECT_EQ(Send(1, "bob@example.com"), 0);
}

TEST_F(LimiterFeaturesTest, BytesAndHeaderRulesAreDecidedAtEndOfMessage) {
  LimitRule& bytes = Add("bytes", "{header:X-Tenant}", Cost::kBytes);
  bytes.windows = {{1000, hours(1), 0}};
  EXPECT_TRUE(bytes.MessageStage());
  auto message = [&](const std::string& txn, const std::string& tenant, std::uint64_t size) {
    match::Facts f = Facts("a@x.org");
    match::AddHeader(f, "X-Tenant", tenant);
    f.message_bytes = size;
    EXPECT_EQ(Rcpt(txn, "a@x.org"), LimitOutcome::kAllow);  // not an RCPT-stage rule
    return limiter_.CheckMessage(policy_, txn, f).value();
  };
  EXPECT_EQ(message("m1", "acme", 600).outcome, LimitOutcome::kAllow);
  ASSERT_TRUE(limiter_.Commit("m1").ok());
  LimitDecision d = message("m2", "ACME ", 600);  // same tenant after normalisation
  EXPECT_EQ(d.outcome, LimitOutcome::kTempfail);
  EXPECT_EQ(d.refusal->key, "acme");
  ASSERT_TRUE(limiter_.Release("m2").ok());
  EXPECT_EQ(message("m3", "acme", 400).outcome, LimitOutcome::kAllow);
  EXPECT_EQ(message("m4", "globex", 600).outcome, LimitOutcome::kAllow);
  // A retried CheckMessage of one transaction costs once.
  EXPECT_EQ(message("m4", "globex", 600).outcome, LimitOutcome::kAllow);
}

TEST_F(LimiterFeaturesTest, RouteRuleSendsOverflowToItsPoolAndNeverRefuses) {
  LimitRule& r = Add("slow-lane", "{sender}", Cost::kMessages);
  r.windows = {{1, hours(1), 0}};
  r.action = LimitAction::kRoute;
  r.route_pool = "slow";
  ASSERT_TRUE(r.match.AddPool("bulk").ok());
  auto eom = [&](const std::string& txn, const std::string& pool) {
    match::Facts f = Facts("a@x.org");
    f.pool = pool;
    LimitDecision d = limiter_.CheckMessage(policy_, txn, f).value();
    EXPECT_TRUE(limiter_.Commit(txn).ok());
    return d;
  };
  EXPECT_FALSE(eom("m1", "bulk").route_pool.has_value());
  LimitDecision second = eom("m2", "bulk");
  EXPECT_EQ(second.outcome, LimitOutcome::kAllow);
  ASSERT_TRUE(second.route_pool.has_value());
  EXPECT_EQ(*second.route_pool, "slow");
  EXPECT_FALSE(eom("m3", "transactional").route_pool.has_value());  // the rule matches pool bulk only
}

TEST_F(LimiterFeaturesTest, ExactUnderConcurrency) {
  Add("per-sender", "{sender}").windows = {{100, hours(1), 0}};
  Add("per-ip", "{client_ip}").windows = {{1000, hours(1), 0}};
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string txn = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (limiter_.CheckRecipient(policy_, txn, Facts("r@x.org")).value().outcome == LimitOutcome::kAllow) {
          ++allowed;
        }
        (void)limiter_.Commit(txn);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 100);  // 400 attempts, limit 100: exactly 100
  EXPECT_EQ(Rcpt("after", "r@x.org"), LimitOutcome::kTempfail);

  // Reservations that are released give back exactly what they took.
  Add("per-domain", "{recipient_domain}").windows = {{50, hours(1), 0}};
  std::atomic<int> committed{0};
  threads.clear();
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        const std::string txn = "u" + std::to_string(t) + "-" + std::to_string(i);
        match::Facts f = Facts("r@y.org", "s" + std::to_string(t) + "@example.com");
        if (limiter_.CheckRecipient(policy_, txn, f).value().outcome != LimitOutcome::kAllow) continue;
        if (i % 3 == 0) {
          (void)limiter_.Release(txn);
        } else {
          (void)limiter_.Commit(txn);
          ++committed;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  int more = 0;
  while (Rcpt("m" + std::to_string(more), "r@y.org", "x" + std::to_string(more) + "@example.com") ==
         LimitOutcome::kAllow) {
    ++more;
    ASSERT_LT(more, 100);
  }
  EXPECT_EQ(committed.load() + more, 50);
}

}  // namespace
}  // namespace hive::policy::ratelimit
