// The live-decision fan-out: filters, a bounded queue per subscriber that
// drops (and counts) instead of blocking the publisher, unsubscribe on
// destruction, and Close() waking a waiting reader.
#include "server/decision_bus.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace hive::policy::server {
namespace {

using std::chrono::milliseconds;

hive::admin::v1::Decision D(const std::string& id, const std::string& sender, const std::string& action,
                            const std::string& pool = "") {
  hive::admin::v1::Decision d;
  d.set_decision_id(id);
  d.set_sender(sender);
  d.set_action(action);
  d.set_pool(pool);
  return d;
}

TEST(DecisionFilterTest, EmptySelectsAllFieldsNarrow) {
  EXPECT_TRUE(DecisionFilter{}.Matches(D("1", "a@x.example", "continue")));
  EXPECT_TRUE(DecisionFilter{.sender = "A@X.example"}.Matches(D("1", "a@x.example", "continue")));
  EXPECT_FALSE(DecisionFilter{.sender = "b@x.example"}.Matches(D("1", "a@x.example", "continue")));
  EXPECT_TRUE(DecisionFilter{.sender = "@x.example"}.Matches(D("1", "a@x.example", "continue")));
  EXPECT_FALSE(DecisionFilter{.sender = "@y.example"}.Matches(D("1", "a@x.example", "continue")));
  EXPECT_TRUE(DecisionFilter{.action = "reject"}.Matches(D("1", "a@x.example", "reject")));
  EXPECT_FALSE(DecisionFilter{.action = "reject"}.Matches(D("1", "a@x.example", "tempfail")));
  EXPECT_TRUE(DecisionFilter{.pool = "bulk"}.Matches(D("1", "a@x.example", "continue", "bulk")));
  EXPECT_FALSE(DecisionFilter{.pool = "bulk"}.Matches(D("1", "a@x.example", "continue", "transactional")));
}

TEST(DecisionBusTest, SubscribersGetWhatTheirFilterSelectsInOrder) {
  DecisionBus bus;
  EXPECT_FALSE(bus.HasSubscribers());
  auto all = bus.Subscribe({}, 16);
  auto rejects = bus.Subscribe({.action = "reject"}, 16);
  EXPECT_TRUE(bus.HasSubscribers());
  bus.Publish(D("1", "a@x.example", "continue"));
  bus.Publish(D("2", "b@x.example", "reject"));
  EXPECT_EQ(all->Next(milliseconds(0))->decision_id(), "1");
  EXPECT_EQ(all->Next(milliseconds(0))->decision_id(), "2");
  EXPECT_FALSE(all->Next(milliseconds(0)).has_value());
  EXPECT_EQ(rejects->Next(milliseconds(0))->decision_id(), "2");
  EXPECT_FALSE(rejects->Next(milliseconds(0)).has_value());
}

TEST(DecisionBusTest, FullQueueDropsAndTheNextDeliveredDecisionCountsTheLoss) {
  DecisionBus bus;
  auto slow = bus.Subscribe({}, 2);
  for (int i = 1; i <= 5; ++i) bus.Publish(D(std::to_string(i), "a@x.example", "continue"));  // never blocks
  EXPECT_EQ(slow->Next(milliseconds(0))->decision_id(), "1");
  EXPECT_EQ(slow->Next(milliseconds(0))->decision_id(), "2");
  EXPECT_FALSE(slow->Next(milliseconds(0)).has_value());
  bus.Publish(D("6", "a@x.example", "continue"));
  std::optional<hive::admin::v1::Decision> after_gap = slow->Next(milliseconds(0));
  ASSERT_TRUE(after_gap.has_value());
  EXPECT_EQ(after_gap->decision_id(), "6");
  EXPECT_EQ(after_gap->dropped_before(), 3u);  // 3, 4, 5
  bus.Publish(D("7", "a@x.example", "continue"));
  EXPECT_EQ(slow->Next(milliseconds(0))->dropped_before(), 0u);
}

TEST(DecisionBusTest, DestroyedSubscriptionLeavesTheBus) {
  DecisionBus bus;
  {
    auto sub = bus.Subscribe({}, 4);
    EXPECT_TRUE(bus.HasSubscribers());
  }
  EXPECT_FALSE(bus.HasSubscribers());
  bus.Publish(D("1", "a@x.example", "continue"));  // nobody to deliver to
}

TEST(DecisionBusTest, NextWaitsForAPublishAndCloseWakesIt) {
  DecisionBus bus;
  auto sub = bus.Subscribe({}, 4);
  std::thread publisher([&] { bus.Publish(D("1", "a@x.example", "continue")); });
  std::optional<hive::admin::v1::Decision> got = sub->Next(milliseconds(10'000));
  publisher.join();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->decision_id(), "1");

  std::thread closer([&] { bus.Close(); });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(sub->Next(milliseconds(10'000)).has_value());
  closer.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(sub->closed());
  EXPECT_TRUE(bus.Subscribe({}, 4)->closed());  // after shutdown: closed at once
}

// gRPC handler threads publish while admin streams subscribe, read and
// leave (run under ThreadSanitizer by tests/run-tsan.sh): a reader with
// room for all of them sees every decision once, each publisher's in order.
TEST(DecisionBusTest, PublishersAndComingAndGoingSubscribersAtOnce) {
  DecisionBus bus;
  constexpr int kPublishers = 3, kEach = 400;
  auto reader = bus.Subscribe({}, kPublishers * kEach);
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int p = 0; p < kPublishers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < kEach; ++i) bus.Publish(D(std::to_string(p * kEach + i), "a@x.example", "continue"));
    });
  }
  threads.emplace_back([&] {
    while (!done.load()) {
      auto passer = bus.Subscribe({.action = "continue"}, 4);
      (void)passer->Next(milliseconds(1));
      (void)bus.HasSubscribers();
    }
  });
  std::uint64_t seen = 0;
  std::vector<int> last(kPublishers, -1);
  bool ordered = true;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (seen < kPublishers * kEach && std::chrono::steady_clock::now() < deadline) {
    std::optional<hive::admin::v1::Decision> d = reader->Next(milliseconds(50));
    if (!d) continue;
    seen += 1;
    EXPECT_EQ(d->dropped_before(), 0u);
    const int id = std::stoi(d->decision_id());
    ordered = ordered && id > last[id / kEach];
    last[id / kEach] = id;
  }
  done = true;
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(seen, static_cast<std::uint64_t>(kPublishers * kEach));
  EXPECT_TRUE(ordered);
}

}  // namespace
}  // namespace hive::policy::server
