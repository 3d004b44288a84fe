// What each MTA answers while hive-milter is unreachable, per failure setting:
// Sendmail's F=T (4xx), F=R (5xx), F=4 (421 and close) and no flag (fail
// open); Postfix's milter_default_action tempfail, reject, accept. Only the
// MTA and a sink run: the milter port has no listener at all, which is what
// a crashed or stopped hive-milter looks like to the MTA.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <ostream>

#include "harness/hive_stack.h"
#include "harness/net.h"
#include "harness/sink.h"
#include "harness/smtp_client.h"
#include "harness/temp_dir.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;

struct Case {
  std::string mta;
  std::string failure;  // MtaFeatures::milter_failure
};

// For gtest's test listing ("sendmail F=tempfail"), instead of raw bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.mta << " " << (c.failure.empty() ? "none" : c.failure); }

class MilterFailureTest : public ::testing::TestWithParam<Case> {};

TEST_P(MilterFailureTest, MtaAppliesItsFailureSettingWhenTheMilterIsDown) {
  const Case& c = GetParam();
  TempDir dir;
  Sink sink(dir.Sub("sink"), dir.Sub("sink.log"));
  // FreePort(): bound and closed a moment ago, nothing listens there.
  std::unique_ptr<Mta> mta =
      MakeMta(c.mta, dir.Sub(c.mta), FreePort(), sink.port(), 0, MtaFeatures{.milter_failure = c.failure});

  SmtpClient client;
  const SmtpReply greeting = client.Connect(mta->smtp_port());
  const SmtpReply ehlo = greeting.code == 220 ? client.Command("EHLO client.test.invalid") : SmtpReply{};
  const SmtpReply mail = client.Command("MAIL FROM:<a@one.example>");
  const SmtpReply rcpt = mail.positive() ? client.Command("RCPT TO:<x@dest.example>") : SmtpReply{};
  const SmtpReply data = rcpt.positive() ? client.Data(MakeMessage("a@one.example", "x@dest.example",
                                                                  "while the milter is down", "x"))
                                         : SmtpReply{};
  // The first refusal, wherever the MTA chose to give it.
  SmtpReply refused;
  for (const SmtpReply* r : {&greeting, &ehlo, &mail, &rcpt, &data}) {
    if (r->code != 0 && !r->positive()) {
      refused = *r;
      break;
    }
  }
  const std::string diagnostics = "\n===== " + c.mta + " log\n" + mta->Log();

  if (c.failure.empty() || c.failure == "accept") {
    // Fail open: delivered as if there were no milter (why hive's snippets set F=T).
    EXPECT_EQ(data.code, 250) << data.ToString() << diagnostics;
    EXPECT_FALSE(sink.WaitForMessageContaining("while the milter is down", std::chrono::seconds(20)).empty())
        << diagnostics;
    return;
  }
  if (c.failure == "tempfail") {
    EXPECT_EQ(refused.code / 100, 4) << refused.ToString() << diagnostics;
    EXPECT_NE(refused.code, 421) << "tempfail keeps the session open" << diagnostics;
  } else if (c.failure == "reject") {
    EXPECT_EQ(refused.code / 100, 5) << refused.ToString() << diagnostics;
  } else if (c.failure == "shutdown") {
    EXPECT_EQ(refused.code, 421) << refused.ToString() << diagnostics;
    // ...and the MTA closed the connection.
    EXPECT_EQ(client.Command("NOOP").code, 0) << diagnostics;
  }
  EXPECT_EQ(mta->QueuedMessages(), 0);
  EXPECT_TRUE(sink.Messages().empty());
}

// Postfix 3.7 (Debian 12) has no "shutdown" (421 and close) default action:
// it came with 3.11; Sendmail's F=4 is the only 421 case here.
INSTANTIATE_TEST_SUITE_P(
    Flags, MilterFailureTest,
    ::testing::Values(Case{"sendmail", "tempfail"}, Case{"sendmail", "reject"}, Case{"sendmail", "shutdown"},
                      Case{"sendmail", ""}, Case{"postfix", "tempfail"}, Case{"postfix", "reject"},
                      Case{"postfix", "accept"}),
    [](const ::testing::TestParamInfo<Case>& param) {
      return param.param.mta + "_" + (param.param.failure.empty() ? std::string("none") : param.param.failure);
    });

}  // namespace
}  // namespace hive::testing
