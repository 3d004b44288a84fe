// Degraded mode by message class (issue 8, docs/failure-modes.md) through
// real Postfix -> hive-milter -> hive-policyd -> sink: while hive-policyd
// is down (SIGKILL), a transactional sender holding a lease gets exactly
// its lease delivered (marked "X-Hive-Policy: lease") and then 451s;
// marketing mail and senders without a lease get 451; every message is
// accounted for. After the restart the milter reports the usage, policyd
// logs the charge, and the sender's limit shows it: only the allowance
// left after the leased messages is delivered. Every wait is bounded;
// signals go to PIDs this test started.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fault/fault_stack.h"
#include "fault/traffic.h"
#include "harness/smtp_client.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kLease = 3;   // transactional lease_messages
constexpr int kLimit = 5;   // the per-sender limit
constexpr char kReceipts[] = "receipts@shop.example";
constexpr char kNews[] = "news@shop.example";

class DegradedModeTest : public ::testing::Test {
 protected:
  Sent Send(const std::string& sender, const std::string& message_class) {
    return mail_.Send(stack_.smtp_port(), sender, message_class);
  }

  FaultStack stack_{FaultStackOptions{.policy_yaml = ClassLeasePolicyYaml(kLimit, kLease),
                                      .milter_yaml = ClassFailureModesYaml("1s")}};
  ClassMail mail_{"dg"};
};

TEST_F(DegradedModeTest, TransactionalFlowsOnItsLeaseDuringAnOutageAndIsChargedAfter) {
  // Normal service: both delivered; the transactional one brings a lease.
  ASSERT_EQ(Send(kReceipts, "transactional").outcome, Outcome::kAccepted) << stack_.Diagnostics();
  ASSERT_EQ(Send(kNews, "marketing").outcome, Outcome::kAccepted) << stack_.Diagnostics();

  stack_.KillPolicyd();
  // Within the lease: delivered, marked.
  std::vector<std::string> leased;
  for (int i = 0; i < kLease; ++i) {
    const Sent s = Send(kReceipts, "transactional");
    EXPECT_EQ(s.outcome, Outcome::kAccepted) << i << " " << s.reply.ToString() << stack_.Diagnostics();
    leased.push_back(s.letter.tag);
  }
  // Beyond the lease, marketing, and a sender that never got a lease: 451.
  for (const auto& [sender, message_class] : std::vector<std::pair<std::string, std::string>>{
           {kReceipts, "transactional"}, {kNews, "marketing"}, {kNews, "marketing"},
           {"alerts@other.example", "transactional"}}) {
    const Sent s = Send(sender, message_class);
    EXPECT_EQ(s.outcome, Outcome::kTempfailed) << sender << " " << s.reply.ToString();
    EXPECT_EQ(s.reply.code, 451) << sender << " " << s.reply.ToString();
    EXPECT_THAT(s.reply.text, HasSubstr("4.7.1")) << sender;
  }
  for (const std::string& tag : leased) {
    const std::string message = stack_.sink().WaitForMessageContaining(tag, std::chrono::seconds(20));
    EXPECT_THAT(message, HasSubstr("X-Hive-Policy: lease; policy service unavailable")) << tag;
  }
  EXPECT_THAT(stack_.MilterLog(), HasSubstr("class=transactional lease"));

  // Recovery: the first session after the restart reports the usage
  // (should that report fail, the next session's does: bounded retries).
  stack_.StartPolicyd();
  constexpr char kReported[] = "rpc=ReportLeaseUsage usages=3 charged=3 duplicates=0";
  for (int i = 0; i < 10 && stack_.PolicydLog().find(kReported) == std::string::npos; ++i) {
    ASSERT_TRUE(WaitForRecovery(stack_.smtp_port(), "dg-probe", std::chrono::seconds(15)).has_value())
        << stack_.Diagnostics();
  }
  ASSERT_THAT(stack_.PolicydLog(), HasSubstr(kReported)) << stack_.Diagnostics();
  EXPECT_THAT(stack_.MilterLog(), HasSubstr("lease usage reported: 3 messages, charged=3"));
  // The restarted policyd counts from zero (memory store), then the 3
  // leased messages: kLimit - kLease more are delivered, then 451.
  int accepted = 0;
  for (int i = 0; i < kLimit - kLease + 1; ++i) {
    const Sent s = Send(kReceipts, "transactional");
    if (s.outcome == Outcome::kAccepted) ++accepted;
    else EXPECT_EQ(s.reply.code, 451) << s.reply.ToString();
  }
  EXPECT_EQ(accepted, kLimit - kLease) << stack_.Diagnostics();

  const Ledger ledger = Reconcile(mail_.sent(), stack_.sink(), stack_.mta());
  EXPECT_TRUE(ledger.problems.empty()) << ledger.Summary();
  EXPECT_EQ(ledger.accepted, 2 + kLease + (kLimit - kLease)) << ledger.Summary();
  EXPECT_EQ(ledger.accepted + ledger.tempfailed + ledger.rejected, ledger.sent);
}

}  // namespace
}  // namespace hive::testing
