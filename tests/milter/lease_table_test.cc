// LeaseTable: grants, spending, expiry on an injected clock, the cap, and
// the unreported usage that blocks a new grant until acknowledged.
#include "milter/lease_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace hive::milter {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class LeaseTableTest : public ::testing::Test {
 protected:
  LeaseTable::Clock clock() {
    return [this] { return now_; };
  }
  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
};

TEST_F(LeaseTableTest, GrantThenSpendPerRecipientUntilEmpty) {
  LeaseTable t(10, clock());
  ASSERT_TRUE(t.Grant("Alice@Shop.example", "Transactional", 3, absl::Minutes(10)));
  EXPECT_TRUE(t.HasLease("alice@shop.example"));
  EXPECT_EQ(t.UnitsLeft("alice@shop.example", "transactional"), 3u);
  EXPECT_TRUE(t.Spend("alice@shop.example", "transactional", 2, 100, "u1", "Q1"));
  EXPECT_FALSE(t.Spend("alice@shop.example", "transactional", 2, 100, "u2", "Q2")) << "only 1 unit left";
  EXPECT_TRUE(t.Spend("ALICE@shop.example", "TRANSACTIONAL", 1, 100, "u3", "Q3"));
  EXPECT_EQ(t.UnitsLeft("alice@shop.example", "transactional"), 0u);
  EXPECT_FALSE(t.HasLease("alice@shop.example"));
  const std::vector<LeaseUsage> usages = t.Unreported(10);
  ASSERT_THAT(usages, SizeIs(2));
  EXPECT_EQ(usages[0].usage_id, "u1");
  EXPECT_EQ(usages[0].recipients, 2u);
  EXPECT_EQ(usages[0].message_class, "transactional");
  EXPECT_EQ(usages[1].usage_id, "u3");
}

TEST_F(LeaseTableTest, OtherClassAndOtherSenderHaveNoLease) {
  LeaseTable t(10, clock());
  ASSERT_TRUE(t.Grant("alice@shop.example", "transactional", 5, absl::Minutes(10)));
  EXPECT_FALSE(t.Spend("alice@shop.example", "marketing", 1, 1, "u1", ""));
  EXPECT_FALSE(t.Spend("bob@shop.example", "transactional", 1, 1, "u2", ""));
  EXPECT_FALSE(t.HasLease("alice@shop.exampl"));
  EXPECT_FALSE(t.has_unreported());
}

TEST_F(LeaseTableTest, ExpiredLeaseCannotBeSpent) {
  LeaseTable t(10, clock());
  ASSERT_TRUE(t.Grant("alice@shop.example", "transactional", 5, absl::Minutes(10)));
  now_ += absl::Minutes(10);
  EXPECT_FALSE(t.HasLease("alice@shop.example"));
  EXPECT_FALSE(t.Spend("alice@shop.example", "transactional", 1, 1, "u1", ""));
  EXPECT_EQ(t.UnitsLeft("alice@shop.example", "transactional"), 0u);
}

TEST_F(LeaseTableTest, InvalidGrantsAreRefused) {
  LeaseTable t(10, clock());
  EXPECT_FALSE(t.Grant("", "transactional", 5, absl::Minutes(1)));
  EXPECT_FALSE(t.Grant("a@b", "", 5, absl::Minutes(1)));
  EXPECT_FALSE(t.Grant("a@b", "t", 0, absl::Minutes(1)));
  EXPECT_FALSE(t.Grant("a@b", "t", kMaxLeaseUnits + 1, absl::Minutes(1)));
  EXPECT_FALSE(t.Grant("a@b", "t", 5, absl::ZeroDuration()));
  EXPECT_FALSE(t.Grant("a@b", "t", 5, kMaxLeaseTtl + absl::Seconds(1)));
  EXPECT_FALSE(t.Grant(std::string(600, 'a'), "t", 5, absl::Minutes(1)));
  EXPECT_EQ(t.size(), 0u);
}

TEST_F(LeaseTableTest, GrantIsIgnoredWhileTheBucketHasUnreportedUsage) {
  LeaseTable t(10, clock());
  ASSERT_TRUE(t.Grant("alice@shop.example", "transactional", 2, absl::Minutes(10)));
  ASSERT_TRUE(t.Spend("alice@shop.example", "transactional", 2, 1, "u1", ""));
  // Spent and not yet charged: a renewal now would let a second lease go
  // out before hive-policyd counted the first.
  EXPECT_FALSE(t.Grant("alice@shop.example", "transactional", 2, absl::Minutes(10)));
  EXPECT_EQ(t.UnitsLeft("alice@shop.example", "transactional"), 0u);
  t.Acknowledge({"u1"});
  EXPECT_FALSE(t.has_unreported());
  EXPECT_THAT(t.Unreported(10), IsEmpty());
  EXPECT_TRUE(t.Grant("alice@shop.example", "transactional", 2, absl::Minutes(10)));
  EXPECT_EQ(t.UnitsLeft("alice@shop.example", "transactional"), 2u);
}

TEST_F(LeaseTableTest, CapDropsExpiredThenLeastRecentlyGrantedButNeverUsage) {
  LeaseTable t(2, clock());
  ASSERT_TRUE(t.Grant("a@x", "t", 1, absl::Minutes(1)));
  ASSERT_TRUE(t.Grant("b@x", "t", 1, absl::Minutes(10)));
  now_ += absl::Minutes(2);  // a@x expired
  ASSERT_TRUE(t.Grant("c@x", "t", 1, absl::Minutes(10)));
  EXPECT_EQ(t.size(), 2u);
  EXPECT_TRUE(t.HasLease("b@x"));
  // b@x is the least recently granted: it goes for d@x.
  ASSERT_TRUE(t.Grant("d@x", "t", 1, absl::Minutes(10)));
  EXPECT_FALSE(t.HasLease("b@x"));
  EXPECT_TRUE(t.HasLease("c@x"));
  // Both left hold usage: nothing may be dropped, the grant is refused.
  ASSERT_TRUE(t.Spend("c@x", "t", 1, 1, "uc", ""));
  ASSERT_TRUE(t.Spend("d@x", "t", 1, 1, "ud", ""));
  EXPECT_FALSE(t.Grant("e@x", "t", 1, absl::Minutes(10)));
  EXPECT_THAT(t.Unreported(10), SizeIs(2));
  EXPECT_EQ(t.size(), 2u);
}

TEST_F(LeaseTableTest, UnreportedIsBoundedAndOneReporterAtATime) {
  LeaseTable t(10, clock());
  ASSERT_TRUE(t.Grant("a@x", "t", 5, absl::Minutes(10)));
  for (const char* id : {"u1", "u2", "u3"}) ASSERT_TRUE(t.Spend("a@x", "t", 1, 1, id, ""));
  EXPECT_THAT(t.Unreported(2), SizeIs(2));
  ASSERT_TRUE(t.TryBeginReport());
  EXPECT_FALSE(t.TryBeginReport());
  t.EndReport();
  EXPECT_TRUE(t.TryBeginReport());
  t.EndReport();
  t.Acknowledge({"u2", "unknown"});
  std::vector<std::string> left;
  for (const LeaseUsage& u : t.Unreported(10)) left.push_back(u.usage_id);
  EXPECT_THAT(left, ElementsAre("u1", "u3"));
}

// libmilter runs one thread per SMTP session: spenders, grants at the cap
// and the reporter run at once (run under ThreadSanitizer by
// tests/run-tsan.sh). Every usage is reported exactly once.
TEST(LeaseTableConcurrencyTest, SpendersGrantsAndAReporterNeverLoseNorDoubleAUsage) {
  LeaseTable leases(2000);
  ASSERT_TRUE(leases.Grant("a@x.example", "t", 1000, absl::Minutes(10)));
  std::atomic<int> spent{0};
  std::atomic<bool> done{false};
  std::set<std::string> reported;
  bool duplicate = false;
  auto report = [&] {
    if (!leases.TryBeginReport()) return;
    std::vector<std::string> ids;
    for (const LeaseUsage& u : leases.Unreported(50)) {
      duplicate = duplicate || !reported.insert(u.usage_id).second;
      ids.push_back(u.usage_id);
    }
    leases.Acknowledge(ids);
    leases.EndReport();
  };
  std::thread reporter([&] {
    while (!done.load()) report();
  });
  std::atomic<bool> go{false};  // all start together: real overlap
  std::vector<std::thread> sessions;
  for (int t = 0; t < 4; ++t) {
    sessions.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < 200; ++i) {
        const std::string id = "u" + std::to_string(t) + "-" + std::to_string(i);
        if (leases.Spend("A@x.example", "T", 1, 100, id, "q")) ++spent;
        // Other senders' grants add buckets all along (below the cap, so
        // that a's lease is never the one dropped to make room).
        (void)leases.Grant("b" + std::to_string(t * 200 + i) + "@x.example", "t", 5, absl::Minutes(1));
      }
    });
  }
  // A reader that takes no other lock in between, as a metrics scrape would.
  std::thread observer([&] {
    while (!done.load()) {
      (void)leases.size();
      (void)leases.HasLease("a@x.example");
      (void)leases.UnitsLeft("a@x.example", "t");
    }
  });
  go = true;
  for (std::thread& s : sessions) s.join();
  done = true;
  reporter.join();
  observer.join();
  while (leases.has_unreported()) report();
  EXPECT_EQ(spent.load(), 800);
  EXPECT_EQ(reported.size(), 800u);
  EXPECT_FALSE(duplicate);
  EXPECT_EQ(leases.UnitsLeft("a@x.example", "t"), 200u);
}

}  // namespace
}  // namespace hive::milter
