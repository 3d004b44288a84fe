// End-to-end scenarios of the foundation: a real MTA, hive-milter and
// hive-policyd on loopback, mail sent over SMTP, results read from the SMTP
// replies, the MTA's queue and the sink. Each scenario runs on every MTA.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "harness/hive_stack.h"
#include "harness/smtp_client.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto kDeliveryTimeout = std::chrono::seconds(20);

// A policy small enough to read, exercising each engine once.
constexpr char kPolicy[] = R"(
limits:
  - name: per-sender
    match: {sender_domain: [limited.example]}
    key: "{sender}"
    cost: messages
    windows:
      - {limit: 2, period: 1h}
  - name: per-sender-per-domain
    match: {sender_domain: [split.example]}
    key: "{sender}/{recipient_domain}"
    cost: recipients
    windows:
      - {limit: 1, period: 1h}
content:
  rules:
    - {name: PHARMA_BODY, target: body, regex: "(?i)cheap v[i1]agra", weight: 8}
    - {name: MONEY_SUBJECT, target: subject, regex: "(?i)\\$\\$\\$|free money", weight: 4}
  reject_score: 10
routing:
  pools:
    - {name: transactional}
    - {name: marketing}
  rules:
    - {name: receipts, match: {sender_domain: [shop.example]}, pool: transactional}
  default_pool: marketing
)";

class EndToEndTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<HiveStack> Start(std::vector<std::string> milter_flags = {}) {
    return std::make_unique<HiveStack>(
        StackOptions{.mta = GetParam(), .policy_yaml = kPolicy, .milter_flags = std::move(milter_flags)});
  }
};

TEST_P(EndToEndTest, CleanMessageIsDeliveredWithThePoolHeader) {
  auto stack = Start();
  Transaction t = SendMail(stack->smtp_port(), "receipts@shop.example", {"bob@dest.example"},
                           MakeMessage("receipts@shop.example", "bob@dest.example", "Your receipt 1001",
                                       "Thank you for your order."));
  ASSERT_EQ(t.data.code, 250) << t.data.ToString() << stack->Diagnostics();
  const std::string delivered = stack->sink().WaitForMessageContaining("Your receipt 1001", kDeliveryTimeout);
  ASSERT_FALSE(delivered.empty()) << stack->Diagnostics();
  EXPECT_THAT(delivered, HasSubstr("X-Hive-Pool: transactional"));

  // No routing rule matches: the default pool.
  t = SendMail(stack->smtp_port(), "news@other.example", {"bob@dest.example"},
               MakeMessage("news@other.example", "bob@dest.example", "Newsletter 7", "Hello."));
  ASSERT_EQ(t.data.code, 250) << t.data.ToString() << stack->Diagnostics();
  EXPECT_THAT(stack->sink().WaitForMessageContaining("Newsletter 7", kDeliveryTimeout),
              HasSubstr("X-Hive-Pool: marketing"));
}

TEST_P(EndToEndTest, SenderOverItsLimitIsTempfailedAtMailWhileAnotherSenderPasses) {
  auto stack = Start();
  for (int i = 0; i < 2; ++i) {
    Transaction t = SendMail(stack->smtp_port(), "alice@limited.example", {"x@dest.example"},
                             MakeMessage("alice@limited.example", "x@dest.example", "within " + std::to_string(i), "ok"));
    ASSERT_EQ(t.data.code, 250) << t.data.ToString() << stack->Diagnostics();
  }
  Transaction over = SendMail(stack->smtp_port(), "alice@limited.example", {"x@dest.example"},
                              MakeMessage("alice@limited.example", "x@dest.example", "over", "no"));
  EXPECT_EQ(over.mail.code, 451) << over.mail.ToString() << stack->Diagnostics();
  EXPECT_THAT(over.mail.text, HasSubstr("4.7.1"));
  EXPECT_THAT(over.mail.text, HasSubstr("per-sender"));

  Transaction other = SendMail(stack->smtp_port(), "carol@limited.example", {"x@dest.example"},
                               MakeMessage("carol@limited.example", "x@dest.example", "carol passes", "ok"));
  EXPECT_EQ(other.data.code, 250) << other.data.ToString() << stack->Diagnostics();
  EXPECT_FALSE(stack->sink().WaitForMessageContaining("carol passes", kDeliveryTimeout).empty());
  EXPECT_TRUE(stack->mta().WaitForEmptyQueue(kDeliveryTimeout));
  for (const auto& m : stack->sink().Messages()) EXPECT_THAT(m, Not(HasSubstr("Subject: over")));
}

// sender_limits_at_first_rcpt, on a UNIX socket (MAIL then negotiated
// without reply): the same sender limit refuses at RCPT TO instead, with
// the text MAIL FROM would have had; nothing of it is delivered.
TEST_P(EndToEndTest, SenderLimitsAtFirstRcptRefuseAtRcptWithTheSameReply) {
  HiveStack stack(StackOptions{.mta = GetParam(),
                               .policy_yaml = kPolicy,
                               .milter_yaml = "sender_limits_at_first_rcpt: true\n",
                               .milter_unix = true});
  for (int i = 0; i < 2; ++i) {
    Transaction t = SendMail(stack.smtp_port(), "alice@limited.example", {"x@dest.example"},
                             MakeMessage("alice@limited.example", "x@dest.example", "within " + std::to_string(i), "ok"));
    ASSERT_EQ(t.data.code, 250) << t.data.ToString() << stack.Diagnostics();
  }
  Transaction over = SendMail(stack.smtp_port(), "alice@limited.example", {"x@dest.example", "y@dest.example"},
                              MakeMessage("alice@limited.example", "x@dest.example", "over", "no"));
  EXPECT_EQ(over.mail.code, 250) << over.mail.ToString() << stack.Diagnostics();
  ASSERT_EQ(over.rcpts.size(), 2u) << stack.Diagnostics();
  for (const SmtpReply& r : over.rcpts) {
    EXPECT_EQ(r.code, 451) << r.ToString() << stack.Diagnostics();
    EXPECT_THAT(r.text, HasSubstr("4.7.1"));
    EXPECT_THAT(r.text, HasSubstr("Deferred: rate limit per-sender exceeded for alice@limited.example"));
  }
  EXPECT_NE(over.data.code, 250);

  Transaction other = SendMail(stack.smtp_port(), "carol@limited.example", {"x@dest.example"},
                               MakeMessage("carol@limited.example", "x@dest.example", "carol passes", "ok"));
  EXPECT_EQ(other.data.code, 250) << other.data.ToString() << stack.Diagnostics();
  EXPECT_FALSE(stack.sink().WaitForMessageContaining("carol passes", kDeliveryTimeout).empty());
  EXPECT_TRUE(stack.mta().WaitForEmptyQueue(kDeliveryTimeout));
  for (const auto& m : stack.sink().Messages()) EXPECT_THAT(m, Not(HasSubstr("Subject: over")));
}

// ratelimit.decide_at end_of_message: once the milter has learnt it (from
// its first verdict), MAIL and RCPT cost no policy call; the same limits
// refuse the whole message at the final dot, with their own reply.
TEST_P(EndToEndTest, LimitsDecidedAtEndOfMessageRefuseAtTheDotWithOneCallPerMessage) {
  HiveStack stack(StackOptions{.mta = GetParam(),
                               .policy_yaml = std::string(kPolicy) + "ratelimit: {decide_at: end_of_message}\n"});
  auto staged_calls = [&] {
    const std::string log = ReadFile(stack.dir().Sub("policyd.log"));
    int n = 0;
    for (const char* rpc : {"rpc=CheckSender ", "rpc=CheckRecipient "}) {
      for (std::size_t at = log.find(rpc); at != std::string::npos; at = log.find(rpc, at + 1)) ++n;
    }
    return n;
  };
  for (int i = 0; i < 2; ++i) {
    Transaction t = SendMail(stack.smtp_port(), "alice@limited.example", {"x@dest.example"},
                             MakeMessage("alice@limited.example", "x@dest.example", "within " + std::to_string(i), "ok"));
    ASSERT_EQ(t.data.code, 250) << t.data.ToString() << stack.Diagnostics();
  }
  const int learnt = staged_calls();
  Transaction over = SendMail(stack.smtp_port(), "alice@limited.example", {"x@dest.example"},
                              MakeMessage("alice@limited.example", "x@dest.example", "over", "no"));
  EXPECT_EQ(over.mail.code, 250) << over.mail.ToString() << stack.Diagnostics();
  ASSERT_EQ(over.rcpts.size(), 1u) << stack.Diagnostics();
  EXPECT_EQ(over.rcpts[0].code, 250) << over.rcpts[0].ToString();
  EXPECT_EQ(over.data.code, 451) << over.data.ToString() << stack.Diagnostics();
  EXPECT_THAT(over.data.text, HasSubstr("4.7.1"));
  EXPECT_THAT(over.data.text, HasSubstr("Deferred: rate limit per-sender exceeded for alice@limited.example"));

  // A recipient limit: two recipients of one domain where one is allowed
  // refuse the whole message; one of them alone then passes (nothing of
  // the refused message was counted).
  Transaction split = SendMail(stack.smtp_port(), "bob@split.example", {"a@dest.example", "b@dest.example"},
                               MakeMessage("bob@split.example", "a@dest.example", "two at once", "no"));
  ASSERT_EQ(split.rcpts.size(), 2u) << stack.Diagnostics();
  EXPECT_EQ(split.rcpts[1].code, 250) << split.rcpts[1].ToString();
  EXPECT_EQ(split.data.code, 451) << split.data.ToString() << stack.Diagnostics();
  EXPECT_THAT(split.data.text, HasSubstr("per-sender-per-domain"));
  Transaction one = SendMail(stack.smtp_port(), "bob@split.example", {"a@dest.example"},
                             MakeMessage("bob@split.example", "a@dest.example", "one alone", "ok"));
  EXPECT_EQ(one.data.code, 250) << one.data.ToString() << stack.Diagnostics();
  EXPECT_FALSE(stack.sink().WaitForMessageContaining("one alone", kDeliveryTimeout).empty());
  EXPECT_TRUE(stack.mta().WaitForEmptyQueue(kDeliveryTimeout));
  for (const auto& m : stack.sink().Messages()) {
    EXPECT_THAT(m, Not(HasSubstr("Subject: over")));
    EXPECT_THAT(m, Not(HasSubstr("Subject: two at once")));
  }
  // Only the first message, before the milter learnt the stages, asked at
  // MAIL or RCPT.
  EXPECT_EQ(staged_calls(), learnt) << stack.Diagnostics();
  EXPECT_LE(learnt, 2);
}

TEST_P(EndToEndTest, SpamIsRejectedWith550AndNeverDelivered) {
  auto stack = Start();
  Transaction spam = SendMail(stack->smtp_port(), "promo@spam.example", {"victim@dest.example"},
                              MakeMessage("promo@spam.example", "victim@dest.example", "FREE MONEY $$$",
                                          "Buy cheap viagra now!"));
  EXPECT_EQ(spam.data.code, 550) << spam.data.ToString() << stack->Diagnostics();
  EXPECT_THAT(spam.data.text, HasSubstr("5.7.1"));
  EXPECT_EQ(stack->mta().QueuedMessages(), 0);

  // A clean message sent afterwards arrives; the spam never does.
  Transaction clean = SendMail(stack->smtp_port(), "promo@spam.example", {"victim@dest.example"},
                               MakeMessage("promo@spam.example", "victim@dest.example", "marker", "hello"));
  ASSERT_EQ(clean.data.code, 250) << clean.data.ToString() << stack->Diagnostics();
  ASSERT_FALSE(stack->sink().WaitForMessageContaining("Subject: marker", kDeliveryTimeout).empty());
  for (const auto& m : stack->sink().Messages()) EXPECT_THAT(m, Not(HasSubstr("cheap viagra")));
}

TEST_P(EndToEndTest, OneRecipientOverItsLimitIsTempfailedTheOtherDelivered) {
  auto stack = Start();
  Transaction first = SendMail(stack->smtp_port(), "ann@split.example", {"one@d1.example"},
                               MakeMessage("ann@split.example", "one@d1.example", "first", "uses d1's allowance"));
  ASSERT_EQ(first.data.code, 250) << first.data.ToString() << stack->Diagnostics();

  Transaction both = SendMail(stack->smtp_port(), "ann@split.example", {"two@d1.example", "three@d2.example"},
                              MakeMessage("ann@split.example", "two@d1.example, three@d2.example", "second", "x"));
  ASSERT_EQ(both.rcpts.size(), 2u);
  EXPECT_EQ(both.rcpts[0].code, 451) << both.rcpts[0].ToString() << stack->Diagnostics();
  EXPECT_THAT(both.rcpts[0].text, HasSubstr("4.7.1"));
  EXPECT_EQ(both.rcpts[1].code, 250) << both.rcpts[1].ToString();
  EXPECT_EQ(both.data.code, 250) << both.data.ToString();

  const std::string delivered = stack->sink().WaitForMessageContaining("Subject: second", kDeliveryTimeout);
  ASSERT_FALSE(delivered.empty()) << stack->Diagnostics();
  EXPECT_THAT(delivered, HasSubstr("three@d2.example"));
  EXPECT_THAT(delivered, Not(HasSubstr("RCPT TO:<two@d1.example>")));
  EXPECT_TRUE(stack->mta().WaitForEmptyQueue(kDeliveryTimeout));
  EXPECT_EQ(stack->sink().Messages().size(), 2u);
}

TEST_P(EndToEndTest, PolicyDownInTempfailModeGives451AndQueuesNothing) {
  auto stack = Start();
  stack->StopPolicyd();
  Transaction t = SendMail(stack->smtp_port(), "receipts@shop.example", {"bob@dest.example"},
                           MakeMessage("receipts@shop.example", "bob@dest.example", "while down", "x"));
  const int refused_at = t.mail.code != 250 ? t.mail.code : !t.rcpts.empty() && t.rcpts[0].code != 250 ? t.rcpts[0].code : t.data.code;
  EXPECT_EQ(refused_at, 451) << stack->Diagnostics();
  EXPECT_EQ(stack->mta().QueuedMessages(), 0);
  EXPECT_TRUE(stack->sink().Messages().empty());
}

TEST_P(EndToEndTest, PolicyDownInAcceptModeDeliversAMarkedMessage) {
  auto stack = Start({"--failure-mode", "accept"});
  stack->StopPolicyd();
  Transaction t = SendMail(stack->smtp_port(), "receipts@shop.example", {"bob@dest.example"},
                           MakeMessage("receipts@shop.example", "bob@dest.example", "accepted unchecked", "x"));
  ASSERT_EQ(t.data.code, 250) << t.data.ToString() << stack->Diagnostics();
  const std::string delivered = stack->sink().WaitForMessageContaining("accepted unchecked", kDeliveryTimeout);
  ASSERT_FALSE(delivered.empty()) << stack->Diagnostics();
  EXPECT_THAT(delivered, HasSubstr("X-Hive-Policy: unchecked"));
  EXPECT_THAT(delivered, Not(HasSubstr("X-Hive-Pool:")));
}

TEST_P(EndToEndTest, MailFlowsAgainAfterThePolicyServiceRestartsWithoutRestartingTheMilter) {
  auto stack = Start();
  stack->StopPolicyd();
  Transaction down = SendMail(stack->smtp_port(), "receipts@shop.example", {"bob@dest.example"},
                              MakeMessage("receipts@shop.example", "bob@dest.example", "down", "x"));
  EXPECT_EQ(down.mail.code, 451) << down.mail.ToString() << stack->Diagnostics();

  stack->StartPolicyd();
  // The milter's channel reconnects by itself within its backoff (about 1 s).
  int delivered_code = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (delivered_code != 250 && std::chrono::steady_clock::now() < deadline) {
    Transaction t = SendMail(stack->smtp_port(), "receipts@shop.example", {"bob@dest.example"},
                             MakeMessage("receipts@shop.example", "bob@dest.example", "after restart", "x"));
    delivered_code = t.data.code;
    if (delivered_code != 250) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ASSERT_EQ(delivered_code, 250) << stack->Diagnostics();
  EXPECT_THAT(stack->sink().WaitForMessageContaining("after restart", kDeliveryTimeout),
              HasSubstr("X-Hive-Pool: transactional"));
}

// Named by the MTA itself (PrintToStringParamName would quote it, which gtest
// refuses as a test name): Mtas/EndToEndTest.Scenario/sendmail.
INSTANTIATE_TEST_SUITE_P(Mtas, EndToEndTest, ::testing::ValuesIn(AllMtas()),
                         [](const ::testing::TestParamInfo<std::string>& mta) { return mta.param; });

}  // namespace
}  // namespace hive::testing
