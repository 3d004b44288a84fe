// Two hive-policyd replicas on one real redis-server enforce one shared
// limit (issue 4) while hive-milter spreads its calls over both (policy
// target list: gRPC round-robin with health checking). One replica is
// SIGKILLed mid-stream: no message is lost (each is delivered or gets a
// 4xx), and the limit still holds exactly.
//
// The fixture reuses HiveStack (Postfix, hive-milter, replica 0, sink) and
// starts replica 1 itself, on the same policy file, before the stack so the
// milter finds both. The milter's --policy flag is given twice: the stack's
// single address, then (the later one wins) the list of both.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness/hive_stack.h"
#include "harness/net.h"
#include "harness/process.h"
#include "harness/redis_server.h"
#include "harness/smtp_client.h"
#include "harness/temp_dir.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kLimit = 30;
constexpr int kThreads = 4;
constexpr int kPerThread = 20;  // 80 offered: the limit is reached after the kill
constexpr int kKillAfter = 16;  // answered messages
constexpr char kSender[] = "stream@shared.example";
constexpr auto kStartTimeout = std::chrono::seconds(15);
constexpr auto kDeliveryTimeout = std::chrono::seconds(30);

// 30 messages an hour: nothing regenerates during the test (one per 2 min).
// A 1 s store deadline so that a loaded CI machine does not turn a slow
// Redis answer into tempfails.
std::string Policy(const std::string& redis_address) {
  return R"(
limits:
  - name: shared
    match: {sender_domain: [shared.example]}
    key: "{sender}"
    cost: messages
    windows:
      - {limit: 30, period: 1h}
ratelimit:
  store:
    kind: redis
    redis: {address: ")" +
         redis_address + "\", timeout: 1s}\n";
}

std::string Subject(int thread, int i) { return "stream " + std::to_string(thread) + "-" + std::to_string(i); }

int CountOf(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (std::size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

// What became of one message, from its SMTP replies.
enum class Fate { kAccepted, kLimited, kUnavailable, kLost };

// The first refusal decides: the limit's own 451 names the rule; any other
// 4xx is the milter's failure mode (the replica died under the call).
Fate FateOf(const Transaction& t, std::string& why) {
  std::vector<const SmtpReply*> steps{&t.greeting, &t.ehlo, &t.mail};
  for (const SmtpReply& r : t.rcpts) steps.push_back(&r);
  steps.push_back(&t.data);
  for (const SmtpReply* r : steps) {
    if (r->code == 250 || r->code == 220 || r->code == 354) continue;
    why = r->ToString();
    if (r->code / 100 != 4) return Fate::kLost;
    return r->text.find("rate limit shared exceeded") != std::string::npos ? Fate::kLimited : Fate::kUnavailable;
  }
  return t.data.code == 250 ? Fate::kAccepted : Fate::kLost;
}

TEST(RateLimitReplicasTest, TwoReplicasOnOneRedisShareTheLimitAndSurviveTheDeathOfOne) {
  RedisServer redis;
  const std::string policy = Policy(redis.address());
  TempDir dir;
  WriteFile(dir.Sub("policyd.yaml"), policy);
  const uint16_t port0 = FreePort();
  const uint16_t port1 = FreePort();
  auto replica1 = std::make_unique<Process>(
      std::vector<std::string>{HIVE_POLICYD_BIN, "--config", dir.Sub("policyd.yaml"), "--listen",
                               "127.0.0.1:" + std::to_string(port1)},
      dir.Sub("replica1.log"));
  ASSERT_TRUE(WaitForListener(port1, kStartTimeout)) << ReadFile(dir.Sub("replica1.log"));
  HiveStack stack(StackOptions{
      .mta = "postfix",
      .policy_yaml = policy,
      .milter_flags = {"--policy", "127.0.0.1:" + std::to_string(port0) + ",127.0.0.1:" + std::to_string(port1)},
      .policy_port = port0});
  auto diagnostics = [&] {
    return stack.Diagnostics() + "\n===== replica1.log\n" + ReadFile(dir.Sub("replica1.log")) +
           "\n===== redis\n" + redis.Log();
  };

  std::vector<std::vector<Transaction>> results(kThreads);
  std::atomic<int> answered{0};
  std::vector<std::thread> senders;
  for (int th = 0; th < kThreads; ++th) {
    senders.emplace_back([&, th] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string rcpt = "r" + std::to_string(th) + "-" + std::to_string(i) + "@dest.example";
        results[th].push_back(
            SendMail(stack.smtp_port(), kSender, {rcpt}, MakeMessage(kSender, rcpt, Subject(th, i), "shared limit")));
        answered.fetch_add(1);
      }
    });
  }
  // Mid-stream, bounded: the stream itself is bounded by the SMTP timeouts.
  const auto kill_deadline = std::chrono::steady_clock::now() + kDeliveryTimeout;
  while (answered.load() < kKillAfter && std::chrono::steady_clock::now() < kill_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const std::string replica0_before = ReadFile(stack.dir().Sub("policyd.log"));
  replica1->Kill();  // SIGKILL by PID: a crash, no graceful drain
  const int answered_at_kill = answered.load();
  for (std::thread& t : senders) t.join();

  // Round-robin used both replicas before the kill.
  EXPECT_GT(CountOf(replica0_before, "rpc=Check"), 0) << diagnostics();
  EXPECT_GT(CountOf(ReadFile(dir.Sub("replica1.log")), "rpc=Check"), 0) << diagnostics();
  ASSERT_LT(answered_at_kill, kLimit) << "the kill came too late to matter";

  std::map<Fate, int> fates;
  std::set<std::string> accepted;
  for (int th = 0; th < kThreads; ++th) {
    for (int i = 0; i < kPerThread; ++i) {
      std::string why;
      const Fate fate = FateOf(results[th][i], why);
      ++fates[fate];
      if (fate == Fate::kAccepted) accepted.insert(Subject(th, i));
      EXPECT_NE(fate, Fate::kLost) << Subject(th, i) << ": " << why << diagnostics();
    }
  }

  // Every accepted message arrives, once; nothing else does.
  ASSERT_TRUE(stack.mta().WaitForEmptyQueue(kDeliveryTimeout)) << diagnostics();
  std::multiset<std::string> delivered;
  for (const std::string& m : stack.sink().Messages()) {
    for (int th = 0; th < kThreads; ++th) {
      for (int i = 0; i < kPerThread; ++i) {
        // "stream 0-1" is a prefix of "stream 0-10": match the line end too.
        if (m.find("Subject: " + Subject(th, i) + "\r\n") != std::string::npos ||
            m.find("Subject: " + Subject(th, i) + "\n") != std::string::npos) {
          delivered.insert(Subject(th, i));
        }
      }
    }
  }
  EXPECT_EQ(std::set<std::string>(delivered.begin(), delivered.end()), accepted) << diagnostics();
  EXPECT_EQ(delivered.size(), accepted.size()) << "a message was delivered twice";

  // The limit holds across both replicas: never above it. A call whose
  // replica died under it may have reserved or committed in Redis before
  // its reply was lost (kept: strict), so each such 4xx may cost one unit;
  // only the messages in flight at the kill (one per sender thread) can.
  const int unavailable = fates[Fate::kUnavailable];
  std::cout << "accepted " << accepted.size() << ", limited " << fates[Fate::kLimited] << ", unavailable "
            << unavailable << ", killed after " << answered_at_kill << " answers\n";
  EXPECT_LE(unavailable, kThreads) << diagnostics();
  EXPECT_LE(static_cast<int>(accepted.size()), kLimit) << diagnostics();
  EXPECT_GE(static_cast<int>(accepted.size()), kLimit - unavailable) << diagnostics();
  EXPECT_EQ(fates[Fate::kAccepted] + fates[Fate::kLimited] + unavailable, kThreads * kPerThread);
  // The survivor decided the rest on the shared counters.
  EXPECT_GT(CountOf(ReadFile(stack.dir().Sub("policyd.log")), "rpc=Check"), CountOf(replica0_before, "rpc=Check"));
}

}  // namespace
}  // namespace hive::testing
