// admin/shared_model.h against a real redis-server: learns from two
// replicas at once all land (each write checks no other landed since its
// read, else reads again), both end with the same model, and it is the
// model one replica learning everything alone would have.
#include "admin/shared_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "content/parser.h"
#include "harness/redis_server.h"

namespace hive::policy::admin {
namespace {

using hive::testing::RedisServer;

std::vector<std::uint64_t> Features(const content::Classifier& c, int i, bool spam) {
  // Distinct messages sharing most of their words: concurrent learns touch
  // the same tokens.
  const std::string body = spam ? "cheap invoices discount offer call now limited seats number " + std::to_string(i)
                                : "meeting notes project review schedule room three item " + std::to_string(i);
  content::Tokens tokens;
  c.Features(content::Parse(content::Message{{{"Subject", spam ? "offer" : "notes"}}, body}), tokens);
  return tokens.features;
}

std::shared_ptr<content::Classifier> Fresh() {
  return content::Classifier::Open("", {.min_learns = 1}).value();
}

TEST(SharedModelRedisTest, ConcurrentLearnsFromTwoReplicasAllLandAndBothLoadTheSameModel) {
  RedisServer redis;
  redis::RedisClient client_a({.port = redis.port(), .pool_size = 2, .timeout = std::chrono::seconds(2)});
  redis::RedisClient client_b({.port = redis.port(), .pool_size = 2, .timeout = std::chrono::seconds(2)});
  SharedModel a(client_a, "t"), b(client_b, "t");
  auto replica_a = Fresh(), replica_b = Fresh();
  ASSERT_EQ(a.Version().value_or(99), 0u);

  constexpr int kEach = 40;
  std::thread other([&] {
    for (int i = 0; i < kEach; ++i) {
      auto r = b.Learn(*replica_b, Features(*replica_b, i, i % 2 == 0), i % 2 == 0);
      ASSERT_TRUE(r.ok()) << r.status();
    }
  });
  for (int i = kEach; i < 2 * kEach; ++i) {
    ASSERT_TRUE(a.Learn(*replica_a, Features(*replica_a, i, i % 2 == 0), i % 2 == 0).ok());
  }
  other.join();

  absl::StatusOr<std::uint64_t> version = a.Version();
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, 2u * kEach);  // one version per learn: none lost
  auto loaded_a = a.LoadModel(*replica_a);
  auto loaded_b = b.LoadModel(*replica_b);
  ASSERT_TRUE(loaded_a.ok()) << loaded_a.status();
  ASSERT_TRUE(loaded_b.ok()) << loaded_b.status();
  EXPECT_EQ(loaded_a->first.spam_learns(), static_cast<std::uint64_t>(kEach));
  EXPECT_EQ(loaded_a->first.ham_learns(), static_cast<std::uint64_t>(kEach));
  EXPECT_EQ(loaded_a->first.Serialize(), loaded_b->first.Serialize());
  // Counts do not depend on the order of learning: every token's are the
  // ones of one replica learning all the messages alone.
  auto alone = Fresh();
  for (int i = 0; i < 2 * kEach; ++i) alone->Learn(Features(*alone, i, i % 2 == 0), i % 2 == 0);
  const content::TokenStore expected = alone->Model();
  EXPECT_EQ(loaded_a->first.size(), expected.size());
  int differing = 0;
  expected.ForEach([&](std::uint64_t token, const content::TokenCounts& c) {
    const content::TokenCounts got = loaded_a->first.Find(token);
    differing += got.spam != c.spam || got.ham != c.ham;
  });
  EXPECT_EQ(differing, 0);
}

TEST(SharedModelRedisTest, SeedsOnlyAnEmptyRedisAndRefusesAModelOfOtherFeatures) {
  RedisServer redis;
  redis::RedisClient client({.port = redis.port(), .pool_size = 2, .timeout = std::chrono::seconds(2)});
  SharedModel shared(client, "t");
  auto mine = Fresh();
  for (int i = 0; i < 6; ++i) mine->Learn(Features(*mine, i, i % 2 == 0), i % 2 == 0);
  absl::StatusOr<bool> seeded = shared.Seed(mine->Model());
  ASSERT_TRUE(seeded.ok()) << seeded.status();
  EXPECT_TRUE(*seeded);
  EXPECT_FALSE(shared.Seed(Fresh()->Model()).value_or(true));  // something is there: kept
  auto loaded = shared.LoadModel(*mine);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->first.Serialize(), mine->Model().Serialize());
  EXPECT_EQ(loaded->second, 1u);

  auto other_features = content::Classifier::Open("", {.min_learns = 1, .structure_tokens = false}).value();
  EXPECT_THAT(std::string(shared.LoadModel(*other_features).status().message()),
              ::testing::HasSubstr("relearn it"));
  EXPECT_FALSE(shared.Learn(*other_features, Features(*other_features, 1, true), true).ok());
}

}  // namespace
}  // namespace hive::policy::admin
