#include "ratelimit/gcra.h"

#include <gtest/gtest.h>


namespace hive::policy::ratelimit {
namespace {

using std::chrono::seconds;

// Drives one bucket the way a store does.
struct Bucket {
  GcraParams params;
  Nanos tat{0};
  GcraResult Take(Nanos now, std::int64_t cost = 1) {
    GcraResult r = GcraTake(tat, now, params, cost);
    if (r.allowed) tat = r.tat;
    return r;
  }
  int TakeAll(Nanos now) {
    int n = 0;
    while (Take(now).allowed) ++n;
    return n;
  }
};

const Nanos kT0 = seconds(1000);

TEST(GcraTest, IdleBucketAllowsExactlyTheLimitThenOnePerInterval) {
  Bucket b{GcraParams::From(10, seconds(60), 0)};
  EXPECT_EQ(b.params.emission_interval, seconds(6));
  EXPECT_EQ(b.params.burst, 10);
  EXPECT_EQ(b.TakeAll(kT0), 10);
  EXPECT_EQ(b.TakeAll(kT0 + seconds(5)), 0);
  EXPECT_EQ(b.TakeAll(kT0 + seconds(6)), 1);
  EXPECT_EQ(b.TakeAll(kT0 + seconds(6) + seconds(60)), 10);
}

TEST(GcraTest, RemainingCountsDown) {
  Bucket b{GcraParams::From(3, seconds(3), 0)};
  EXPECT_EQ(b.Take(kT0).remaining, 2);
  EXPECT_EQ(b.Take(kT0).remaining, 1);
  EXPECT_EQ(b.Take(kT0).remaining, 0);
  GcraResult refused = b.Take(kT0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0);
}

TEST(GcraTest, NoDoubleBurstAtAWindowBoundary) {
  // A fixed window would allow 10 more at the start of the next minute; GCRA
  // refills steadily, so half a period later only half is back.
  Bucket b{GcraParams::From(10, seconds(60), 0)};
  EXPECT_EQ(b.TakeAll(kT0 + seconds(59)), 10);
  EXPECT_EQ(b.TakeAll(kT0 + seconds(60)), 0);
  EXPECT_EQ(b.TakeAll(kT0 + seconds(89)), 5);
}

TEST(GcraTest, BurstBelowLimitSpreadsTheAllowance) {
  Bucket b{GcraParams::From(10, seconds(60), 2)};
  EXPECT_EQ(b.TakeAll(kT0), 2);
  EXPECT_EQ(b.TakeAll(kT0 + seconds(6)), 1);
  EXPECT_EQ(b.TakeAll(kT0 + seconds(12)), 1);
  // A long idle time refills only up to the burst.
  EXPECT_EQ(b.TakeAll(kT0 + seconds(3600)), 2);
}

TEST(GcraTest, RetryAfterIsTheExactWait) {
  Bucket b{GcraParams::From(10, seconds(60), 0)};
  ASSERT_EQ(b.TakeAll(kT0), 10);
  GcraResult r = b.Take(kT0 + seconds(2));
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.retry_after, seconds(4));
  EXPECT_EQ(r.tat, b.tat);  // a refusal changes nothing
  EXPECT_FALSE(b.Take(kT0 + seconds(2) + r.retry_after - Nanos(1)).allowed);
  EXPECT_TRUE(b.Take(kT0 + seconds(2) + r.retry_after).allowed);
}

TEST(GcraTest, CostAboveBurstNeverPassesButReportsAFiniteWait) {
  Bucket b{GcraParams::From(2, seconds(10), 0)};
  GcraResult r = b.Take(kT0, 3);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.retry_after, seconds(10));
}

TEST(GcraTest, GiveBackReturnsTheUnit) {
  Bucket b{GcraParams::From(2, seconds(60), 0)};
  ASSERT_EQ(b.TakeAll(kT0), 2);
  b.tat = GcraGiveBack(b.tat, kT0, b.params, 1);
  EXPECT_EQ(b.TakeAll(kT0), 1);
  // Giving back more than was taken never makes a bucket hold more than a burst.
  b.tat = GcraGiveBack(b.tat, kT0, b.params, 50);
  EXPECT_EQ(b.tat, kT0);
  EXPECT_EQ(b.TakeAll(kT0), 2);
}

// The stores that keep GCRA state are tested by store_contract.h.

}  // namespace
}  // namespace hive::policy::ratelimit
