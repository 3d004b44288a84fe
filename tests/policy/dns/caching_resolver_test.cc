// The TTL cache: hits cost no query, TTLs are clamped, negative answers are
// kept for negative_ttl, failures never, and the size stays bounded.
#include "dns/caching_resolver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hive::policy::dns {
namespace {

using namespace std::chrono_literals;

// Answers from a table; counts what it was asked.
class TableResolver : public Resolver {
 public:
  std::map<std::string, Answer> table;
  std::vector<std::string> asked;
  std::vector<Answer> LookupA(const std::vector<std::string>& names, Clock::time_point) override {
    std::vector<Answer> out;
    for (const std::string& n : names) {
      asked.push_back(n);
      auto it = table.find(n);
      out.push_back(it == table.end() ? Answer{.status = Answer::Status::kNotFound} : it->second);
    }
    return out;
  }
};

class CachingResolverTest : public ::testing::Test {
 protected:
  CachingResolverTest() {
    inner_->table["listed.test"] = Answer{.status = Answer::Status::kFound, .addresses = {0x7f000002}, .ttl = 5s};
    inner_->table["long.test"] = Answer{.status = Answer::Status::kFound, .addresses = {0x7f000002}, .ttl = 86400s};
    inner_->table["broken.test"] = Answer{.status = Answer::Status::kError, .error = "SERVFAIL"};
    inner_->table["slow.test"] = Answer{.status = Answer::Status::kTimeout};
  }
  std::vector<Answer> Ask(CachingResolver& c, std::vector<std::string> names) {
    return c.LookupA(names, Clock::now() + 1s);
  }
  std::shared_ptr<TableResolver> inner_ = std::make_shared<TableResolver>();
  Clock::time_point now_ = Clock::time_point() + 1000s;
  CachingResolver::Now clock_ = [this] { return now_; };
};

TEST_F(CachingResolverTest, HitsCostNoQueryUntilTheClampedTtlPasses) {
  CachingResolver c(inner_, {.min_ttl = 30s, .max_ttl = 3600s, .negative_ttl = 60s}, clock_);
  EXPECT_EQ(Ask(c, {"listed.test", "clean.test", "long.test"})[0].status, Answer::Status::kFound);
  EXPECT_EQ(inner_->asked.size(), 3u);
  now_ += 29s;  // the 5 s TTL is raised to min_ttl 30 s
  std::vector<Answer> a = Ask(c, {"listed.test", "clean.test"});
  EXPECT_EQ(a[0].status, Answer::Status::kFound);
  EXPECT_EQ(a[1].status, Answer::Status::kNotFound);
  EXPECT_EQ(inner_->asked.size(), 3u);
  now_ += 2s;  // listed.test expired, clean.test (60 s) not yet
  Ask(c, {"listed.test", "clean.test"});
  EXPECT_EQ(inner_->asked.size(), 4u);
  EXPECT_EQ(inner_->asked.back(), "listed.test");
  now_ += 3600s;  // a day-long TTL is cut to max_ttl
  Ask(c, {"long.test"});
  EXPECT_EQ(inner_->asked.back(), "long.test");
}

TEST_F(CachingResolverTest, FailuresAreNeverCached) {
  CachingResolver c(inner_, {}, clock_);
  Ask(c, {"broken.test", "slow.test"});
  Ask(c, {"broken.test", "slow.test"});
  EXPECT_EQ(inner_->asked.size(), 4u);
  EXPECT_EQ(c.size(), 0u);
}

TEST_F(CachingResolverTest, SizeIsBounded) {
  CachingResolver c(inner_, {.max_entries = 3}, clock_);
  for (int i = 0; i < 10; ++i) {
    Ask(c, {"n" + std::to_string(i) + ".test"});
    now_ += 1s;
  }
  EXPECT_EQ(c.size(), 3u);
  // The newest stayed (the ones closest to expiry were dropped).
  const std::size_t before = inner_->asked.size();
  Ask(c, {"n9.test"});
  EXPECT_EQ(inner_->asked.size(), before);
}

}  // namespace
}  // namespace hive::policy::dns
