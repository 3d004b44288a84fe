// Fault suite (issue 8): TLS between hive-milter and hive-policyd fails —
// the service presents an expired certificate, or one from a CA the milter
// does not trust — through real Postfix -> hive-milter -> hive-policyd ->
// sink, with certificates made at test time (harness/test_pki.h). The
// milter must treat a failed handshake exactly as "policy unreachable":
// the failure mode of the message's class decides (a transactional sender
// spends its lease, then 451; marketing 451; a class configured `accept`
// is delivered marked), nothing is accepted silently, and the milter's log
// names the TLS reason. docs/failure-modes.md states the same.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "fault/fault_stack.h"
#include "fault/traffic.h"
#include "harness/smtp_client.h"
#include "harness/temp_dir.h"
#include "harness/test_pki.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kReceipts[] = "receipts@shop.example";
constexpr char kNews[] = "news@shop.example";

// The PKI outlives the stack (made first, destroyed last).
class TlsFaultTest : public ::testing::Test {
 protected:
  TlsFaultTest() {
    server_ = pki_.Issue("localhost", {.server = true});
    expired_ = pki_.Issue("localhost", {.server = true, .expired = true});
    milter_ = pki_.Issue("milter.mta1");
  }

  std::string PolicyYaml(const Issued& cert) const {
    return "server:\n  tls: {cert_file: " + cert.cert_file + ", key_file: " + cert.key_file +
           ", ca_file: " + pki_.ca_file() + ", require_client_cert: true}\n" +
           ClassLeasePolicyYaml(/*limit=*/50, /*lease=*/2);
  }
  std::string MilterYaml(const std::string& ca) const {
    return ClassFailureModesYaml("2s", "  - {class: alerts, mode: accept}\n") + "policy_tls: {ca_file: " + ca + ", cert_file: " + milter_.cert_file +
           ", key_file: " + milter_.key_file + ", server_name: localhost}\n";
  }

  Sent Send(FaultStack& stack, const std::string& sender, const std::string& message_class) {
    return mail_.Send(stack.smtp_port(), sender, message_class);
  }

  // Marketing 451, a transactional sender without a lease 451, a class
  // configured `accept` delivered and marked.
  void ExpectPolicyUnreachable(FaultStack& stack) {
    for (const auto& [sender, message_class] : std::vector<std::pair<std::string, std::string>>{
             {kNews, "marketing"}, {"codes@other.example", "transactional"}}) {
      const Sent s = Send(stack, sender, message_class);
      EXPECT_EQ(s.reply.code, 451) << sender << " " << s.reply.ToString() << stack.Diagnostics();
      EXPECT_THAT(s.reply.text, HasSubstr("4.7.1"));
    }
    const Sent alert = Send(stack, "monitor@ops.example", "alerts");
    ASSERT_EQ(alert.outcome, Outcome::kAccepted) << alert.reply.ToString() << stack.Diagnostics();
    EXPECT_THAT(stack.sink().WaitForMessageContaining(alert.letter.tag, std::chrono::seconds(20)),
                HasSubstr("X-Hive-Policy: unchecked; policy service unavailable"));
    ExpectTlsReasonLogged(stack);
  }

  // The reason, in the milter's own failure line. A service that has just
  // restarted is first seen as refusing connections, until the channel's next
  // attempt (its backoff is at most 1 s) tries a handshake: probe with mail
  // of the `accept` class, which spends no lease, until the line names TLS.
  void ExpectTlsReasonLogged(FaultStack& stack) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (stack.MilterLog().find("certificate verify failed") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      Send(stack, "monitor@ops.example", "alerts");
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    EXPECT_THAT(stack.MilterLog(), HasSubstr("certificate verify failed")) << stack.Diagnostics();
  }

  void ExpectAllAccountedFor(FaultStack& stack) {
    const Ledger ledger = Reconcile(mail_.sent(), stack.sink(), stack.mta());
    EXPECT_TRUE(ledger.problems.empty()) << ledger.Summary();
    EXPECT_EQ(ledger.accepted + ledger.tempfailed + ledger.rejected, ledger.sent) << ledger.Summary();
  }

  TempDir dir_;
  TestPki pki_{dir_.Sub("pki")};
  Issued server_, expired_, milter_;
  ClassMail mail_{"tls"};
};

TEST_F(TlsFaultTest, ExpiredServerCertificateIsPolicyUnreachableLeasesThenTempfail) {
  FaultStack stack(FaultStackOptions{.policy_yaml = PolicyYaml(server_), .milter_yaml = MilterYaml(pki_.ca_file())});
  // Mutual TLS works through Postfix; the transactional sender gets a lease.
  ASSERT_EQ(Send(stack, kReceipts, "transactional").outcome, Outcome::kAccepted) << stack.Diagnostics();
  ASSERT_EQ(Send(stack, kNews, "marketing").outcome, Outcome::kAccepted) << stack.Diagnostics();

  // The service comes back with an expired certificate.
  stack.ReloadPolicyd(PolicyYaml(expired_));
  stack.KillPolicyd();
  stack.StartPolicyd();
  EXPECT_THAT(stack.PolicydLog(), HasSubstr("EXPIRED on"));
  // The lease is spent (marked), then 451.
  std::vector<std::string> leased;
  for (int i = 0; i < 2; ++i) {
    const Sent s = Send(stack, kReceipts, "transactional");
    EXPECT_EQ(s.outcome, Outcome::kAccepted) << i << " " << s.reply.ToString() << stack.Diagnostics();
    leased.push_back(s.letter.tag);
  }
  const Sent beyond = Send(stack, kReceipts, "transactional");
  EXPECT_EQ(beyond.reply.code, 451) << beyond.reply.ToString();
  for (const std::string& tag : leased) {
    EXPECT_THAT(stack.sink().WaitForMessageContaining(tag, std::chrono::seconds(20)),
                HasSubstr("X-Hive-Policy: lease; policy service unavailable"));
  }
  ExpectPolicyUnreachable(stack);

  // A renewed certificate and a restart: checked mail flows again.
  stack.ReloadPolicyd(PolicyYaml(server_));
  stack.KillPolicyd();
  stack.StartPolicyd();
  ASSERT_TRUE(WaitForRecovery(stack.smtp_port(), "tls-probe", std::chrono::seconds(20)).has_value())
      << stack.Diagnostics();
  EXPECT_EQ(Send(stack, kNews, "marketing").outcome, Outcome::kAccepted) << stack.Diagnostics();
  ExpectAllAccountedFor(stack);
}

TEST_F(TlsFaultTest, ServerCertificateFromAnotherCaIsPolicyUnreachable) {
  // The milter trusts only the other CA: every handshake fails.
  FaultStack stack(
      FaultStackOptions{.policy_yaml = PolicyYaml(server_), .milter_yaml = MilterYaml(pki_.other_ca_file())});
  const Sent s = Send(stack, kReceipts, "transactional");
  EXPECT_EQ(s.reply.code, 451) << s.reply.ToString() << stack.Diagnostics();
  ExpectPolicyUnreachable(stack);
  // Nothing reached the policy service.
  EXPECT_THAT(stack.PolicydLog(), Not(HasSubstr("rpc=CheckSender")));
  ExpectAllAccountedFor(stack);
}

}  // namespace
}  // namespace hive::testing
