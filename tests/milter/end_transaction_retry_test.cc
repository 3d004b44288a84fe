#include "milter/end_transaction_retry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "milter/milter_metrics.h"
#include "support/metrics.h"
#include "tests/milter/fakes.h"

namespace hive::milter {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::FakePolicyClient;
namespace pb = hive::policy::v1;

pb::EndTransactionRequest End(const std::string& id) {
  pb::EndTransactionRequest r;
  r.set_transaction_id(id);
  r.set_reason(pb::EndTransactionRequest::REASON_REFUSED);
  return r;
}

std::vector<std::string> Ids(const FakePolicyClient& fake) {
  std::vector<std::string> ids;
  for (const pb::EndTransactionRequest& r : fake.end_requests) ids.push_back(r.transaction_id());
  return ids;
}

TEST(EndTransactionRetryTest, AFailedReleaseIsSentAgainAfterTheNextCallThatSucceeds) {
  FakePolicyClient fake;
  EndTransactionRetry policy(fake, 100);
  fake.end_answer = absl::UnavailableError("connection refused");
  EXPECT_FALSE(policy.EndTransaction(End("t1")).ok()) << "the caller still learns that it failed";
  EXPECT_EQ(policy.pending(), 1u);

  // Still down: a failed call sends nothing more.
  fake.sender_answers.push_back(absl::UnavailableError("connection refused"));
  EXPECT_FALSE(policy.CheckSender({}).ok());
  EXPECT_THAT(Ids(fake), ElementsAre("t1"));

  // Back: the next answer brings the release with it, once.
  fake.end_answer = absl::OkStatus();
  EXPECT_TRUE(policy.CheckSender({}).ok());
  EXPECT_THAT(Ids(fake), ElementsAre("t1", "t1"));
  EXPECT_EQ(fake.end_requests[1].reason(), pb::EndTransactionRequest::REASON_REFUSED);
  EXPECT_EQ(policy.pending(), 0u);
  EXPECT_TRUE(policy.CheckRecipient({}).ok());
  EXPECT_EQ(fake.end_requests.size(), 2u);
}

TEST(EndTransactionRetryTest, TheKeptCountIsAGauge) {
  metrics::Registry registry;
  MilterMetrics milter_metrics(registry);
  SetMilterMetrics(&milter_metrics);
  FakePolicyClient fake;
  EndTransactionRetry policy(fake, 100);
  EXPECT_THAT(registry.Render(), ::testing::HasSubstr("\nhive_milter_releases_kept 0\n"));
  fake.end_answer = absl::UnavailableError("down");
  ASSERT_FALSE(policy.EndTransaction(End("t1")).ok());
  ASSERT_FALSE(policy.EndTransaction(End("t2")).ok());
  EXPECT_THAT(registry.Render(), ::testing::HasSubstr("\nhive_milter_releases_kept 2\n"));
  fake.end_answer = absl::OkStatus();
  EXPECT_TRUE(policy.CheckSender({}).ok());
  EXPECT_THAT(registry.Render(), ::testing::HasSubstr("\nhive_milter_releases_kept 0\n"));
  SetMilterMetrics(nullptr);
}

TEST(EndTransactionRetryTest, EveryKindOfSuccessfulCallFlushes) {
  FakePolicyClient fake;
  EndTransactionRetry policy(fake, 100);
  auto fail_one = [&](const std::string& id) {
    fake.end_answer = absl::DeadlineExceededError("deadline");
    EXPECT_FALSE(policy.EndTransaction(End(id)).ok());
    fake.end_answer = absl::OkStatus();
  };
  fail_one("a");
  EXPECT_TRUE(policy.CheckRecipient({}).ok());
  fail_one("b");
  EXPECT_TRUE(policy.CheckMessage({}).ok());
  fail_one("c");
  EXPECT_TRUE(policy.ReportLeaseUsage({}).ok());
  fail_one("d");
  EXPECT_TRUE(policy.EndTransaction(End("e")).ok());
  EXPECT_THAT(Ids(fake), ElementsAre("a", "a", "b", "b", "c", "c", "d", "e", "d"));
  EXPECT_EQ(policy.pending(), 0u);
}

TEST(EndTransactionRetryTest, ARetryThatFailsAgainStaysKeptInItsPlace) {
  FakePolicyClient fake;
  EndTransactionRetry policy(fake, 100);
  fake.end_answer = absl::UnavailableError("down");
  ASSERT_FALSE(policy.EndTransaction(End("t1")).ok());
  ASSERT_FALSE(policy.EndTransaction(End("t2")).ok());
  // The checks answer, but the releases still fail: the first is tried,
  // put back, and the flush stops there.
  EXPECT_TRUE(policy.CheckSender({}).ok());
  EXPECT_THAT(Ids(fake), ElementsAre("t1", "t2", "t1"));
  EXPECT_EQ(policy.pending(), 2u);
  fake.end_answer = absl::OkStatus();
  EXPECT_TRUE(policy.CheckSender({}).ok());
  EXPECT_THAT(Ids(fake), ElementsAre("t1", "t2", "t1", "t1", "t2"));
  EXPECT_EQ(policy.pending(), 0u);
}

TEST(EndTransactionRetryTest, AMalformedRequestIsNotKept) {
  FakePolicyClient fake;
  EndTransactionRetry policy(fake, 100);
  fake.end_answer = absl::InvalidArgumentError("transaction_id is required");
  EXPECT_FALSE(policy.EndTransaction(End("")).ok());
  fake.end_answer = absl::UnimplementedError("old service");
  EXPECT_FALSE(policy.EndTransaction(End("t1")).ok());
  EXPECT_EQ(policy.pending(), 0u);
}

TEST(EndTransactionRetryTest, KeepsAtMostItsBoundDroppingTheOldest) {
  FakePolicyClient fake;
  EndTransactionRetry policy(fake, 2);
  fake.end_answer = absl::UnavailableError("down");
  for (const char* id : {"t1", "t2", "t3"}) ASSERT_FALSE(policy.EndTransaction(End(id)).ok());
  EXPECT_EQ(policy.pending(), 2u);
  fake.end_requests.clear();
  fake.end_answer = absl::OkStatus();
  EXPECT_TRUE(policy.CheckSender({}).ok());
  EXPECT_THAT(Ids(fake), ElementsAre("t2", "t3"));
}

TEST(EndTransactionRetryTest, OneFlushSendsABoundedNumber) {
  FakePolicyClient fake;
  EndTransactionRetry policy(fake, 1000);
  fake.end_answer = absl::UnavailableError("down");
  for (std::size_t i = 0; i < kMaxRetriesPerFlush + 5; ++i) {
    ASSERT_FALSE(policy.EndTransaction(End("t" + std::to_string(i))).ok());
  }
  fake.end_requests.clear();
  fake.end_answer = absl::OkStatus();
  EXPECT_TRUE(policy.CheckSender({}).ok());
  EXPECT_EQ(fake.end_requests.size(), kMaxRetriesPerFlush);
  EXPECT_EQ(policy.pending(), 5u);
  EXPECT_TRUE(policy.CheckSender({}).ok());
  EXPECT_EQ(policy.pending(), 0u);
}

// A slow service: the session that triggered the flush waits for at most
// kMaxFlushTime of retries (each call here outlasts it, so one is sent).
class SlowReleases final : public FakePolicyClient {
 public:
  absl::Status EndTransaction(const pb::EndTransactionRequest& r) override {
    if (end_answer.ok()) std::this_thread::sleep_for(kMaxFlushTime + std::chrono::milliseconds(50));
    return FakePolicyClient::EndTransaction(r);
  }
};

TEST(EndTransactionRetryTest, OneFlushLastsABoundedTime) {
  SlowReleases fake;
  EndTransactionRetry policy(fake, 100);
  fake.end_answer = absl::UnavailableError("down");
  for (const char* id : {"t1", "t2", "t3"}) ASSERT_FALSE(policy.EndTransaction(End(id)).ok());
  fake.end_answer = absl::OkStatus();
  EXPECT_TRUE(policy.CheckSender({}).ok());
  EXPECT_EQ(policy.pending(), 2u);
}

TEST(EndTransactionRetryTest, NothingKeptCostsNothing) {
  FakePolicyClient fake;
  EndTransactionRetry policy(fake, 100);
  EXPECT_TRUE(policy.CheckSender({}).ok());
  EXPECT_TRUE(policy.EndTransaction(End("t1")).ok());
  EXPECT_THAT(Ids(fake), ElementsAre("t1"));
  EXPECT_EQ(fake.sender_requests.size(), 1u);
  EXPECT_THAT(fake.lease_reports, IsEmpty());
}

// A service that is down or up for every call, safe to call from threads.
class SwitchedPolicy final : public PolicyClient {
 public:
  std::atomic<bool> up{false};
  absl::StatusOr<pb::Verdict> CheckSender(const pb::SenderRequest&) override { return Answer(pb::Verdict()); }
  absl::StatusOr<pb::Verdict> CheckRecipient(const pb::RecipientRequest&) override { return Answer(pb::Verdict()); }
  absl::StatusOr<pb::Verdict> CheckMessage(const pb::MessageRequest&) override { return Answer(pb::Verdict()); }
  absl::Status EndTransaction(const pb::EndTransactionRequest& r) override {
    if (!up.load()) return absl::UnavailableError("down");
    std::lock_guard lock(mu);
    ++released[r.transaction_id()];
    return absl::OkStatus();
  }
  std::mutex mu;
  std::map<std::string, int> released;

 private:
  absl::StatusOr<pb::Verdict> Answer(pb::Verdict v) {
    if (!up.load()) return absl::UnavailableError("down");
    return v;
  }
};

TEST(EndTransactionRetryTest, ThreadsKeepingAndFlushingAtOnceReleaseEachTransactionOnce) {
  SwitchedPolicy service;
  EndTransactionRetry policy(service, 100000);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Half the releases fail while the service is down, half after it
        // came back but while others are still flushing.
        static_cast<void>(policy.EndTransaction(End(absl::StrCat("t", t, "-", i))));
        if (t == 0 && i == kPerThread / 2) service.up.store(true);
        static_cast<void>(policy.CheckSender({}));
      }
    });
  }
  for (std::thread& th : threads) th.join();
  service.up.store(true);
  for (int i = 0; i < kThreads * kPerThread && policy.pending() > 0; ++i) ASSERT_TRUE(policy.CheckSender({}).ok());
  EXPECT_EQ(policy.pending(), 0u);
  ASSERT_EQ(service.released.size(), static_cast<std::size_t>(kThreads * kPerThread));
  for (const auto& [id, times] : service.released) EXPECT_EQ(times, 1) << id;
}

}  // namespace
}  // namespace hive::milter
