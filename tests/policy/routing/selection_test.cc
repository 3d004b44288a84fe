// Weighted order, warm-up schedule arithmetic, provider groups: the pure
// pieces of routing (block patterns: delivery_feedback_test.cc).
#include <gtest/gtest.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "routing/provider_groups.h"
#include "routing/warmup_schedule.h"
#include "routing/weighted_order.h"

namespace hive::policy::routing {
namespace {

TEST(WeightedOrderTest, FirstChoiceFollowsTheWeights) {
  const std::vector<WeightedItem> items = {{"ip-1", 1}, {"ip-2", 3}, {"ip-3", 6}};
  std::map<std::size_t, int> first;
  constexpr int kKeys = 20000;
  for (int k = 0; k < kKeys; ++k) ++first[WeightedOrder(items, absl::StrCat("txn-", k)).front()];
  // Binomial standard deviation at n=20000 is <= 71; 4 sigma = ~285.
  EXPECT_NEAR(first[0], kKeys * 0.1, 300);
  EXPECT_NEAR(first[1], kKeys * 0.3, 300);
  EXPECT_NEAR(first[2], kKeys * 0.6, 300);
}

TEST(WeightedOrderTest, DeterministicPermutationAndZeroWeightLast) {
  const std::vector<WeightedItem> items = {{"a", 0}, {"b", 1}, {"c", 1}};
  const std::vector<std::size_t> o1 = WeightedOrder(items, "txn-7");
  EXPECT_EQ(o1, WeightedOrder(items, "txn-7"));
  ASSERT_EQ(o1.size(), 3u);
  EXPECT_EQ(o1.back(), 0u);
}

TEST(WeightedOrderTest, RemovingAMemberMovesOnlyItsMessages) {
  const std::vector<WeightedItem> three = {{"a", 1}, {"b", 1}, {"c", 1}};
  const std::vector<WeightedItem> two = {{"a", 1}, {"b", 1}};
  for (int k = 0; k < 2000; ++k) {
    const std::string key = absl::StrCat("m", k);
    const std::size_t before = WeightedOrder(three, key).front();
    if (before != 2) {
      EXPECT_EQ(WeightedOrder(two, key).front(), before) << key;
    }
  }
}

TEST(WarmupScheduleTest, CapsGrowByTheFactorUntilWarm) {
  WarmupSchedule s{.name = "new", .day_one = 50, .growth = 2, .warm_at = 1000};
  EXPECT_EQ(s.CapForDay(1), 50u);
  EXPECT_EQ(s.CapForDay(2), 100u);
  EXPECT_EQ(s.CapForDay(5), 800u);
  EXPECT_EQ(s.CapForDay(6), std::nullopt);  // 1600 >= 1000: warm
  EXPECT_EQ(s.CapForDay(0), 50u);           // before day 1 counts as day 1
  EXPECT_EQ(s.CapForDay(-3), 50u);
  EXPECT_EQ(s.WarmDay(), 6);
  WarmupSchedule slow{.name = "slow", .day_one = 10, .growth = 1.5, .warm_at = 100};
  EXPECT_EQ(slow.CapForDay(2), 15u);
  EXPECT_EQ(slow.CapForDay(3), 22u);  // 22.5 rounded down
  EXPECT_EQ(slow.CapForDay(1000), std::nullopt);  // no overflow far out
}

TEST(ProviderGroupsTest, SuffixesLongestWinsUnlistedIsItsOwnGroup) {
  ProviderGroups g;
  ASSERT_TRUE(g.Add("google", "gmail.com").ok());
  ASSERT_TRUE(g.Add("google", "googlemail.com").ok());
  ASSERT_TRUE(g.Add("microsoft", "outlook.com").ok());
  ASSERT_TRUE(g.Add("microsoft-eu", "eu.outlook.com").ok());
  EXPECT_FALSE(g.Add("other", "gmail.com").ok());
  EXPECT_FALSE(g.Add("bad", "*.com").ok());
  EXPECT_EQ(g.GroupOf("gmail.com"), "google");
  EXPECT_EQ(g.GroupOf("googlemail.com"), "google");
  EXPECT_EQ(g.GroupOf("mx.eu.outlook.com"), "microsoft-eu");
  EXPECT_EQ(g.GroupOf("outlook.com"), "microsoft");
  EXPECT_EQ(g.GroupOf("notgmail.com"), "notgmail.com");
}

}  // namespace
}  // namespace hive::policy::routing
