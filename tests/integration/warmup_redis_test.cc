// Warm-up feedback shared across hive-policyd replicas: two Redis stores
// (two replicas) on one real redis-server (free loopback port). Block
// replies reported to either replica count toward one threshold, the pause
// one replica sets keeps the other's traffic off the member, and the pause
// ends after its TTL on Redis's own clock (TIME; a short bounded sleep).
// The arithmetic on an injected clock is tests/policy/routing/warmup_test.cc.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "harness/redis_server.h"
#include "ratelimit/redis_store.h"
#include "routing/feedback_loop.h"
#include "routing/member_chooser.h"
#include "routing/warmup_ledger.h"

namespace hive::policy::routing {
namespace {

using ratelimit::RedisStore;
using ratelimit::RedisStoreOptions;

RedisStoreOptions Options(const hive::testing::RedisServer& server) {
  RedisStoreOptions o;
  EXPECT_TRUE(ratelimit::ParseRedisAddress(server.address(), o).ok());
  o.timeout = std::chrono::milliseconds(500);  // generous: ctest -j shares 2 cores
  o.key_prefix = "warmup";
  return o;
}

TEST(WarmupRedisTest, ReplicasShareTheBlockCountAndThePauseWhichEndsAfterItsTtl) {
  hive::testing::RedisServer server;
  RedisStore replica_a(Options(server)), replica_b(Options(server));
  ratelimit::SteadyClock clock;
  ratelimit::TimeZone utc;
  FeedbackPolicy feedback;
  feedback.pause = std::chrono::seconds(1);  // the config's minimum is 1m; the ledger takes any
  ProviderGroups groups;
  ASSERT_TRUE(groups.Add("google", "gmail.com").ok());
  const WarmupSchedule schedule{.name = "new", .day_one = 50, .growth = 2, .warm_at = 1000};
  const Router r({Pool{"mkt",
                       {PoolMember{"warm", "127.0.0.11", false, "w.example.com", 1, {}},
                        PoolMember{"cold", "127.0.0.12", false, "c.example.com", 1, schedule}},
                       {},
                       ""}},
                 {}, "mkt", std::move(groups), {"transactional"}, feedback);
  const std::string domains[] = {"gmail.com"};
  int seq = 0;
  const auto member_on = [&](RedisStore& store) {
    const std::string txn = "txn-" + std::to_string(++seq);
    WarmupLedger ledger(store, clock, utc, txn);
    absl::StatusOr<MemberChoice> c = ChooseMember(r, "mkt", txn, false, CountGroups(r.groups(), domains), ledger);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? c->member : "error";
  };
  const auto report_to = [&](RedisStore& store, const std::string& queue_id) {
    WarmupLedger ledger(store, clock, utc, "report:" + queue_id);
    const DeliveryOutcome block{queue_id, "cold", "gmail.com", DeliveryStatus::kDeferred, "4.7.28",
                                "421-4.7.28 unusual rate of unsolicited mail"};
    absl::StatusOr<FeedbackResult> f = ApplyDeliveryOutcome(r, ledger, block);
    EXPECT_TRUE(f.ok()) << f.status();
    return f.value_or(FeedbackResult{});
  };

  EXPECT_EQ(member_on(replica_a), "cold");
  EXPECT_FALSE(report_to(replica_a, "Q1").stepped_back);
  EXPECT_FALSE(report_to(replica_b, "Q2").stepped_back);
  const FeedbackResult third = report_to(replica_a, "Q3");
  EXPECT_EQ(third.blocks_in_window, 3);
  EXPECT_TRUE(third.stepped_back);
  EXPECT_FALSE(report_to(replica_b, "Q4").stepped_back);  // paused already: once per pause
  EXPECT_EQ(member_on(replica_b), "warm");
  EXPECT_EQ(member_on(replica_a), "warm");
  // Redis's clock ends the pause; bounded wait.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::string member;
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    member = member_on(replica_b);
  } while (member != "cold" && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(member, "cold");
}

}  // namespace
}  // namespace hive::policy::routing
