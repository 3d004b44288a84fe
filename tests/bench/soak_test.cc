// Soak (issue 8): the full path — SMTP client, Postfix, hive-milter,
// hive-policyd with limits, content rules and pools — at a steady, bounded
// rate for HIVE_SOAK_SECONDS (default 60, what CI runs; longer by hand:
// HIVE_SOAK_SECONDS=1800 ctest -L soak). After a warm-up (the first quarter),
// hive-milter's and hive-policyd's resident memory (VmRSS) and open file
// descriptors (/proc/<pid>/fd) are sampled; at the end neither may exceed
// its warm-up value by more than a small bound, every message must have
// been answered 250 and delivered, and both daemons must still be the
// processes the test started.
//
// Under AddressSanitizer freed memory sits in ASan's quarantine (256 MB by
// default) and would read as growth: the daemons get a 1 MB quarantine here
// (leaks are still reported by LeakSanitizer at their exit).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <tuple>

#include "harness/hive_stack.h"
#include "harness/smtp_client.h"
#include "proc_stats.h"

namespace hive::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMessagesPerSecond = 10;
constexpr long kRssGrowthKib = 8 * 1024;  // allocator noise, not a leak
constexpr long kFdGrowth = 4;             // a reconnect in flight at most

// Rotating over a bounded set of senders and recipient domains: the rate
// limiter's buckets stop growing after warm-up, like a real steady load.
constexpr int kSenders = 40;
constexpr char kPolicy[] = R"(
limits:
  - name: per-sender
    key: "{sender}"
    cost: messages
    windows:
      - {limit: 1000000, period: 1h}
  - name: per-domain
    key: "{recipient_domain}"
    cost: recipients
    windows:
      - {limit: 1000000, period: 1m}
content:
  rules:
    - {name: PHARMA_BODY, target: body, regex: "(?i)cheap v[i1]agra", weight: 8}
  checks: {enabled: true}
  reject_score: 10
routing:
  pools:
    - {name: transactional}
    - {name: marketing}
  rules:
    - {name: receipts, match: {sender_domain: [shop.example]}, pool: transactional}
  default_pool: marketing
)";

struct Sample {
  long rss_kib = 0;
  long fds = 0;
};

Sample Measure(pid_t pid) { return {hive::bench::RssKib(pid), hive::bench::OpenFds(pid)}; }

int SoakSeconds() {
  const char* env = std::getenv("HIVE_SOAK_SECONDS");
  const int s = env != nullptr ? std::atoi(env) : 0;
  return s > 0 ? s : 60;
}

TEST(SoakTest, SteadyLoadKeepsMemoryAndDescriptorsFlat) {
  std::string asan = std::getenv("ASAN_OPTIONS") != nullptr ? std::getenv("ASAN_OPTIONS") : "";
  setenv("ASAN_OPTIONS", (asan + (asan.empty() ? "" : ":") + "quarantine_size_mb=1").c_str(), 1);
  HiveStack stack(StackOptions{.policy_yaml = kPolicy});
  const pid_t milter = stack.milter_pid();
  const pid_t policyd = stack.policyd_pid();

  const auto duration = std::chrono::seconds(SoakSeconds());
  const auto start = Clock::now();
  const auto warm_at = start + duration / 4;
  const auto interval = std::chrono::microseconds(1'000'000 / kMessagesPerSecond);
  Sample milter_warm, policyd_warm, milter_peak, policyd_peak;
  bool warm = false;
  int sent = 0, accepted = 0;
  for (auto next = start; Clock::now() < start + duration; next += interval) {
    std::this_thread::sleep_until(next);
    const int i = sent++;
    const std::string sender = "s" + std::to_string(i % kSenders) + (i % 3 == 0 ? "@shop.example" : "@news.example");
    const std::string rcpt = "r" + std::to_string(i % 7) + "@d" + std::to_string(i % 5) + ".example";
    Transaction t = SendMail(stack.smtp_port(), sender, {rcpt},
                             MakeMessage(sender, rcpt, "soak " + std::to_string(i), std::string(2000, 'x')));
    accepted += t.data.code == 250 ? 1 : 0;
    if (!warm && Clock::now() >= warm_at) {
      warm = true;
      milter_warm = milter_peak = Measure(milter);
      policyd_warm = policyd_peak = Measure(policyd);
    } else if (warm && i % kMessagesPerSecond == 0) {
      const Sample m = Measure(milter), p = Measure(policyd);
      milter_peak = {std::max(milter_peak.rss_kib, m.rss_kib), std::max(milter_peak.fds, m.fds)};
      policyd_peak = {std::max(policyd_peak.rss_kib, p.rss_kib), std::max(policyd_peak.fds, p.fds)};
    }
  }
  const Sample milter_end = Measure(milter), policyd_end = Measure(policyd);
  std::printf("soak: %d messages in %llds (%d accepted); milter rss %ld -> %ld KiB (peak %ld), fds %ld -> %ld; "
              "policyd rss %ld -> %ld KiB (peak %ld), fds %ld -> %ld\n",
              sent, static_cast<long long>(duration.count()), accepted, milter_warm.rss_kib, milter_end.rss_kib,
              milter_peak.rss_kib, milter_warm.fds, milter_end.fds, policyd_warm.rss_kib, policyd_end.rss_kib,
              policyd_peak.rss_kib, policyd_warm.fds, policyd_end.fds);

  ASSERT_TRUE(warm);
  EXPECT_EQ(accepted, sent) << stack.Diagnostics();
  EXPECT_TRUE(stack.mta().WaitForEmptyQueue(std::chrono::seconds(60))) << stack.Diagnostics();
  EXPECT_EQ(static_cast<int>(stack.sink().Messages().size()), accepted);
  EXPECT_TRUE(stack.DaemonsRunning());
  EXPECT_EQ(stack.milter_pid(), milter);
  EXPECT_EQ(stack.policyd_pid(), policyd);
  for (const auto& [name, w, end] : {std::tuple{"hive-milter", milter_warm, milter_end},
                                     std::tuple{"hive-policyd", policyd_warm, policyd_end}}) {
    SCOPED_TRACE(name);
    EXPECT_GT(w.rss_kib, 0);
    EXPECT_LE(end.rss_kib - w.rss_kib, kRssGrowthKib);
    EXPECT_GE(w.fds, 0);
    EXPECT_LE(end.fds - w.fds, kFdGrowth);
  }
  if (asan.empty()) {
    unsetenv("ASAN_OPTIONS");
  } else {
    setenv("ASAN_OPTIONS", asan.c_str(), 1);
  }
}

}  // namespace
}  // namespace hive::testing
