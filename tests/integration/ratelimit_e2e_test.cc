// Rate limits end to end (issue 4): one sender's limit of 10 recipients,
// 15 parallel SMTP sessions through a real MTA, hive-milter and hive-policyd.
// Exactly 10 are delivered, the other 5 get 451 4.7.1 at RCPT, and once the
// window has moved on the 5 retries go through. Every MTA on the in-memory
// store; Postfix on a real redis-server (the store a cluster of policyd
// replicas shares; ratelimit_replicas_test.cc runs two of them).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <latch>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness/hive_stack.h"
#include "harness/redis_server.h"
#include "harness/smtp_client.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kLimit = 10;
constexpr int kRecipients = 15;
// 10 per 4 s: GCRA frees one recipient every 400 ms after the burst. The
// sessions send their RCPT at one moment (a latch), so the burst is decided
// well inside 400 ms even on a loaded CI machine, and the retries need only
// ~2 s of waiting.
constexpr char kRule[] = R"(
limits:
  - name: burst10
    match: {sender_domain: [burst.example]}
    key: "{sender}"
    cost: recipients
    windows:
      - {limit: 10, period: 4s}
)";
constexpr char kSender[] = "mass@burst.example";
constexpr auto kDeliveryTimeout = std::chrono::seconds(20);
// The window (4 s) plus a wide margin for a slow machine; polled, not slept.
constexpr auto kRetryDeadline = std::chrono::seconds(15);
constexpr auto kRetryPause = std::chrono::milliseconds(200);

std::string Recipient(int i) { return "r" + std::to_string(i) + "@dest.example"; }

struct Session {
  SmtpReply mail, rcpt, data;
};

// One session per recipient, all at once: each goes through MAIL FROM, then
// every session sends its RCPT together, then DATA where it was accepted.
std::vector<Session> SendInParallelSessions(uint16_t port, const std::vector<std::string>& rcpts) {
  std::vector<Session> out(rcpts.size());
  std::latch at_rcpt(static_cast<std::ptrdiff_t>(rcpts.size()));
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < rcpts.size(); ++i) {
    threads.emplace_back([&, i] {
      SmtpClient client;
      Session& s = out[i];
      if (client.Connect(port).positive() && client.Command("EHLO burst.example").positive()) {
        s.mail = client.Command(std::string("MAIL FROM:<") + kSender + ">");
      }
      // Everyone arrives, failed or not, or the others would wait forever.
      at_rcpt.arrive_and_wait();
      if (!s.mail.positive()) return;
      s.rcpt = client.Command("RCPT TO:<" + rcpts[i] + ">");
      if (s.rcpt.positive()) {
        s.data = client.Data(MakeMessage(kSender, rcpts[i], "burst to " + rcpts[i], "one of fifteen"));
      }
      client.Command("QUIT");
    });
  }
  for (std::thread& t : threads) t.join();
  return out;
}

// The recipients of the delivered burst messages, each as often as it arrived.
std::multiset<std::string> DeliveredRecipients(const Sink& sink) {
  std::multiset<std::string> out;
  for (const std::string& m : sink.Messages()) {
    for (int i = 0; i < kRecipients; ++i) {
      // "r1@" is no prefix of "r11@": the subject names one recipient.
      if (m.find("Subject: burst to " + Recipient(i)) != std::string::npos) out.insert(Recipient(i));
    }
  }
  return out;
}

// The scenario, on whatever store the stack's policy uses.
void ExpectTenOfFifteenThenTheRestAfterTheWindow(HiveStack& stack) {
  std::vector<std::string> rcpts;
  for (int i = 0; i < kRecipients; ++i) rcpts.push_back(Recipient(i));
  const std::vector<Session> sessions = SendInParallelSessions(stack.smtp_port(), rcpts);

  std::set<std::string> accepted, refused;
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    const Session& s = sessions[i];
    // MAIL consumes nothing, so every session gets that far.
    ASSERT_EQ(s.mail.code, 250) << rcpts[i] << ": " << s.mail.ToString() << stack.Diagnostics();
    if (s.rcpt.code == 250) {
      EXPECT_EQ(s.data.code, 250) << rcpts[i] << ": " << s.data.ToString() << stack.Diagnostics();
      accepted.insert(rcpts[i]);
    } else {
      EXPECT_EQ(s.rcpt.code, 451) << rcpts[i] << ": " << s.rcpt.ToString() << stack.Diagnostics();
      EXPECT_THAT(s.rcpt.text, HasSubstr("4.7.1"));
      EXPECT_THAT(s.rcpt.text, HasSubstr("rate limit burst10 exceeded"));
      refused.insert(rcpts[i]);
    }
  }
  EXPECT_EQ(accepted.size(), static_cast<std::size_t>(kLimit)) << stack.Diagnostics();
  EXPECT_EQ(refused.size(), static_cast<std::size_t>(kRecipients - kLimit));
  ASSERT_TRUE(stack.mta().WaitForEmptyQueue(kDeliveryTimeout)) << stack.Diagnostics();
  const std::multiset<std::string> first = DeliveredRecipients(stack.sink());
  EXPECT_EQ(std::set<std::string>(first.begin(), first.end()), accepted);
  EXPECT_EQ(first.size(), accepted.size()) << "a recipient was delivered twice";

  // The refused ones retry, as a client would, until the window lets them
  // through; a refusal on the way may only be the limit's own 451.
  std::set<std::string> pending = refused;
  const auto deadline = std::chrono::steady_clock::now() + kRetryDeadline;
  while (!pending.empty() && std::chrono::steady_clock::now() < deadline) {
    for (auto it = pending.begin(); it != pending.end();) {
      Transaction t = SendMail(stack.smtp_port(), kSender, {*it}, MakeMessage(kSender, *it, "burst to " + *it, "retry"));
      if (t.data.code == 250) {
        it = pending.erase(it);
        continue;
      }
      const SmtpReply& no = t.mail.code != 250 ? t.mail : t.rcpts.empty() ? t.mail : t.rcpts[0];
      EXPECT_EQ(no.code, 451) << *it << ": " << no.ToString() << stack.Diagnostics();
      ++it;
    }
    if (!pending.empty()) std::this_thread::sleep_for(kRetryPause);
  }
  EXPECT_TRUE(pending.empty()) << pending.size() << " still refused after the window" << stack.Diagnostics();
  ASSERT_TRUE(stack.mta().WaitForEmptyQueue(kDeliveryTimeout)) << stack.Diagnostics();
  const std::multiset<std::string> all = DeliveredRecipients(stack.sink());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kRecipients)) << stack.Diagnostics();
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()), std::set<std::string>(rcpts.begin(), rcpts.end()));
}

class RateLimitEndToEndTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RateLimitEndToEndTest, ParallelSessionsGetExactlyTheLimitThenTheRestAfterTheWindow) {
  HiveStack stack(StackOptions{.mta = GetParam(), .policy_yaml = kRule});
  ExpectTenOfFifteenThenTheRestAfterTheWindow(stack);
}

INSTANTIATE_TEST_SUITE_P(Mtas, RateLimitEndToEndTest, ::testing::ValuesIn(AllMtas()),
                         [](const ::testing::TestParamInfo<std::string>& mta) { return mta.param; });

// The same through Postfix with the counters in a real redis-server.
TEST(RateLimitRedisEndToEndTest, ParallelSessionsGetExactlyTheLimitThenTheRestAfterTheWindow) {
  RedisServer redis;
  // A 1 s store deadline: a loaded CI machine must not turn a slow Redis
  // answer into a tempfail this test would count as a refusal.
  const std::string policy = std::string(kRule) + "ratelimit:\n  store:\n    kind: redis\n    redis: {address: \"" +
                             redis.address() + "\", timeout: 1s}\n";
  HiveStack stack(StackOptions{.mta = "postfix", .policy_yaml = policy});
  ExpectTenOfFifteenThenTheRestAfterTheWindow(stack);
  EXPECT_THAT(ReadFile(stack.dir().Sub("policyd.log")), HasSubstr("rate-limit store: redis"));
}

}  // namespace
}  // namespace hive::testing
