// Clock jump on the policy host (issue 8, docs/failure-modes.md): the real
// hive-policyd runs under libfaketime, whose offset (a file) the test moves
// mid-run, behind real hive-milter and Postfix. Only the wall clock moves,
// as in an NTP step or an operator's `date -s`: the monotonic clock is not
// faked (FAKETIME_DONT_FAKE_MONOTONIC). Asserted: a rate window (GCRA) gets
// no new burst from a step back or forward and is not locked for the step's
// length; a day quota keeps its count across a step back inside the day,
// starts the new day once when the clock steps past local midnight, and
// finds the old day's count when it steps back across midnight; the daemon
// never stops. Postfix only: what is tested is hive-policyd's arithmetic;
// the milter's replies travel through Sendmail alike (rogue_policyd_test,
// fault_matrix_test run on both).
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <thread>

#include "fault/traffic.h"
#include "harness/hive_stack.h"
#include "harness/smtp_client.h"
#include "harness/temp_dir.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using std::chrono::seconds;

constexpr char kLibFaketime[] = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

// 3 messages per 30 s (one every 10 s, a burst of 3); 2 messages a UTC day.
constexpr char kPolicy[] = R"(
limits:
  - name: rate
    match: {sender_domain: [rate.example]}
    key: "{sender}"
    cost: messages
    windows:
      - {limit: 3, period: 30s}
  - name: daily
    match: {sender_domain: [daily.example]}
    key: "{sender}"
    cost: messages
    quotas:
      - {limit: 2, period: day}
)";

// libfaketime reads its file on every clock call (FAKETIME_NO_CACHE: its
// cache lags a step by a second or more, and after a step back by up to the
// step); a short pause lets calls in flight finish first.
constexpr auto kSeen = std::chrono::milliseconds(300);

class ClockJumpTest : public ::testing::Test {
 protected:
  static std::vector<std::string> FaketimeEnv(const std::string& file) {
    const char* asan = std::getenv("ASAN_OPTIONS");
    return {std::string("LD_PRELOAD=") + kLibFaketime,
            "FAKETIME_TIMESTAMP_FILE=" + file,
            "FAKETIME_NO_CACHE=1",
            // A clock step moves CLOCK_REALTIME only (both spellings: the
            // variable was renamed in libfaketime 0.9.10).
            "FAKETIME_DONT_FAKE_MONOTONIC=1",
            "DONT_FAKE_MONOTONIC=1",
            // libfaketime is preloaded ahead of the ASan runtime.
            "ASAN_OPTIONS=" + std::string(asan != nullptr ? asan : "") + ":verify_asan_link_order=0"};
  }

  // Moves hive-policyd's wall clock to `fake` (Unix seconds, UTC) now.
  void StepTo(std::time_t fake) {
    const long offset = static_cast<long>(fake - std::time(nullptr));
    const std::string next = faketime_file_ + ".next";
    WriteFile(next, (offset >= 0 ? "+" : "") + std::to_string(offset) + "\n");
    std::filesystem::rename(next, faketime_file_);  // never half-read
    std::this_thread::sleep_for(kSeen);
  }

  int Accepted(const std::string& sender, int n) {
    int ok = 0;
    for (int i = 0; i < n; ++i) {
      const std::string tag = Tag("ck", next_++);
      const Sent s = SendLetter(
          stack_->smtp_port(),
          {.tag = tag, .sender = sender, .message = MakeMessage(sender, "rcpt@dest.example", "clock " + tag, "x")});
      if (s.outcome == Outcome::kAccepted) {
        ++ok;
      } else {
        // The limit's own 451, never a failure of the service.
        EXPECT_EQ(s.reply.code, 451) << s.reply.ToString() << stack_->Diagnostics();
        EXPECT_THAT(s.reply.text, Not(HasSubstr("policy service unavailable"))) << s.reply.ToString();
      }
    }
    return ok;
  }

  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kLibFaketime)) << "libfaketime missing (deploy/install-deps.sh)";
    WriteFile(faketime_file_, "+0\n");
    stack_ = std::make_unique<HiveStack>(StackOptions{.mta = "postfix",
                                                      .policy_yaml = kPolicy,
                                                      .milter_yaml = "rpc_timeout: 2s\nfailure_mode: tempfail\n",
                                                      .policyd_env = FaketimeEnv(faketime_file_)});
  }

  TempDir dir_;
  const std::string faketime_file_ = dir_.Sub("faketime");
  std::unique_ptr<HiveStack> stack_;
  int next_ = 0;
};

TEST_F(ClockJumpTest, RateWindowsAndDayQuotasStaySaneAcrossWallClockSteps) {
  // The day after tomorrow (UTC) begins at `midnight`: far enough ahead
  // that the real clock never reaches it during the test.
  const std::time_t midnight = (std::time(nullptr) / 86400 + 2) * 86400;

  {
    SCOPED_TRACE("rate window: steps back and forward");
    StepTo(midnight - 3600);  // 23:00
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(Accepted("a@rate.example", 4), 3) << stack_->Diagnostics();
    StepTo(midnight - 3 * 3600);  // back two hours: no new burst
    EXPECT_EQ(Accepted("a@rate.example", 1), 0);
    StepTo(midnight - 1800);  // forward 2.5 hours: no new burst either
    EXPECT_EQ(Accepted("a@rate.example", 1), 0);
    // Not locked out for the step's two hours: the next unit comes one
    // emission interval (10 s) after the burst, by the monotonic clock.
    std::this_thread::sleep_until(start + seconds(12));
    EXPECT_EQ(Accepted("a@rate.example", 2), 1) << stack_->Diagnostics();
  }

  {
    SCOPED_TRACE("day quota: steps within the day and across midnight");
    StepTo(midnight - 60);  // 23:59
    EXPECT_EQ(Accepted("d@daily.example", 3), 2) << stack_->Diagnostics();
    StepTo(midnight - 3600);  // back an hour, same day: the count stays
    EXPECT_EQ(Accepted("d@daily.example", 1), 0);
    StepTo(midnight + 30);  // forward past midnight: the new day, once
    EXPECT_EQ(Accepted("d@daily.example", 3), 2) << stack_->Diagnostics();
    StepTo(midnight + 1800);  // later the same new day: no second reset
    EXPECT_EQ(Accepted("d@daily.example", 1), 0);
    StepTo(midnight - 30);  // back across midnight: the old day is full
    EXPECT_EQ(Accepted("d@daily.example", 1), 0);
  }

  EXPECT_TRUE(stack_->DaemonsRunning()) << stack_->Diagnostics();
  // A sender no limit matches is served throughout.
  EXPECT_EQ(Accepted("free@bulk.example", 1), 1) << stack_->Diagnostics();
}

}  // namespace
}  // namespace hive::testing
