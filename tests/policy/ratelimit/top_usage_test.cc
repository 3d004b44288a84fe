// Space-Saving top-N: exact while the table has room, bounded when full,
// never under-counting, heavy keys always present.
#include "ratelimit/top_usage.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace hive::policy::ratelimit {
namespace {

TEST(SpaceSavingTest, ExactWhileThereIsRoomLargestFirst) {
  SpaceSaving top(10);
  top.Add("a", 3);
  top.Add("b", 7);
  top.Add("a", 5);
  top.Add("c", 1);
  top.Add("ignored", 0);
  const std::vector<UsageEntry> t = top.Top(10);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].key, "a");
  EXPECT_EQ(t[0].used, 8);
  EXPECT_EQ(t[1].key, "b");
  EXPECT_EQ(t[1].used, 7);
  EXPECT_EQ(t[2].key, "c");
  EXPECT_EQ(top.Top(1).size(), 1u);
}

TEST(SpaceSavingTest, ANewKeyWhenFullReplacesTheSmallestAndInheritsItsCount) {
  SpaceSaving top(2);
  top.Add("a", 10);
  top.Add("b", 2);
  top.Add("c", 1);  // replaces b: 2 + 1
  const std::vector<UsageEntry> t = top.Top(5);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].key, "a");
  EXPECT_EQ(t[1].key, "c");
  EXPECT_EQ(t[1].used, 3);
  EXPECT_EQ(top.size(), 2u);
}

TEST(SpaceSavingTest, HeavyKeysSurviveAStreamOfManyLightOnesAndAreNeverUnderCounted) {
  constexpr std::size_t kCapacity = 100;
  SpaceSaving top(kCapacity);
  std::map<std::string, std::int64_t> truth;
  std::mt19937 rng(7);
  std::int64_t total = 0;
  for (int i = 0; i < 50000; ++i) {
    // 3 heavy senders take ~30% of the traffic, 20,000 others the rest.
    const std::string key = rng() % 10 < 3 ? "heavy" + std::to_string(rng() % 3)
                                           : "light" + std::to_string(rng() % 20000);
    top.Add(key, 1);
    ++truth[key];
    ++total;
  }
  EXPECT_EQ(top.size(), kCapacity);
  const std::vector<UsageEntry> t = top.Top(3);
  ASSERT_EQ(t.size(), 3u);
  for (const UsageEntry& e : t) {
    EXPECT_EQ(e.key.rfind("heavy", 0), 0u) << e.key;
    EXPECT_GE(e.used, truth[e.key]);
    // Over-count bounded by total / capacity.
    EXPECT_LE(e.used - truth[e.key], total / static_cast<std::int64_t>(kCapacity));
  }
}

}  // namespace
}  // namespace hive::policy::ratelimit
