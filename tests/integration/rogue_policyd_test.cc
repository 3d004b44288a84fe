// hive-policyd answering garbage (issue 8, docs/failure-modes.md): the real
// hive-milter, behind a real MTA (Postfix and Sendmail), asks a stand-in
// policy service on loopback (fault/rogue_policyd.h) that replies with an
// oversized Verdict, an unknown or missing action, bytes that are not a
// Verdict, or no HTTP/2 at all. Every message is tempfailed by the milter's
// failure mode (or delivered unchecked where a class is configured
// `accept`), nothing else reaches the sink, the milter logs the reason,
// keeps running, and serves the next message as soon as the service
// answers sanely again.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fault/rogue_policyd.h"
#include "fault/traffic.h"
#include "harness/hive_stack.h"
#include "harness/net.h"
#include "harness/smtp_client.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;

// Tempfail by default; the `alerts` class fails open (degraded mode).
constexpr char kMilterYaml[] = R"(rpc_timeout: 2s
failure_mode: tempfail
class_header: X-Hive-Class
failure_modes:
  - {class: alerts, mode: accept}
)";

struct Case {
  Misbehaviour misbehaviour;
  RogueScope scope;
  // In hive-milter's decision line ("policy_failed ... reason=\"...\"").
  std::string logged;
};

class RoguePolicydTest : public ::testing::TestWithParam<std::string> {
 protected:
  RoguePolicydTest()
      : rogue_port_(FreePort()),
        rogue_(rogue_port_),
        stack_(StackOptions{.mta = GetParam(),
                            .milter_yaml = kMilterYaml,
                            .policy_port = rogue_port_,
                            .start_policyd = false}) {}

  Sent Send(const std::string& prefix, const std::string& message_class = "") {
    const std::string tag = Tag(prefix, next_++);
    std::vector<std::string> headers;
    if (!message_class.empty()) headers.push_back("X-Hive-Class: " + message_class);
    Sent s = SendLetter(stack_.smtp_port(),
                        {.tag = tag,
                         .sender = "someone@bulk.example",
                         .message = MakeMessage("someone@bulk.example", "rcpt@dest.example", "rogue " + tag,
                                                "hello " + tag, headers)});
    sent_.push_back(s);
    return s;
  }

  std::string MilterLog() const { return ReadFile(stack_.dir().Sub("milter.log")); }

  uint16_t rogue_port_;
  RoguePolicyd rogue_;
  HiveStack stack_;
  std::vector<Sent> sent_;
  int next_ = 0;
};

TEST_P(RoguePolicydTest, EveryMessageTempfailedReasonLoggedMilterKeepsServing) {
  ASSERT_EQ(Send("rg-ok").outcome, Outcome::kAccepted) << stack_.Diagnostics();

  const std::vector<Case> cases = {
      {Misbehaviour::kOversized, RogueScope::kEveryRpc, "reason=\"rpc RESOURCE_EXHAUSTED"},
      {Misbehaviour::kOversized, RogueScope::kMessageOnly, "reason=\"rpc RESOURCE_EXHAUSTED"},
      {Misbehaviour::kUnknownAction, RogueScope::kEveryRpc, "reason=\"invalid verdict: action 99"},
      {Misbehaviour::kEmptyVerdict, RogueScope::kMessageOnly, "reason=\"invalid verdict: action 0"},
      {Misbehaviour::kUndecodable, RogueScope::kEveryRpc, "reason=\"rpc UNIMPLEMENTED: No message returned"},
      {Misbehaviour::kUndecodable, RogueScope::kMessageOnly, "reason=\"rpc UNIMPLEMENTED: No message returned"},
      {Misbehaviour::kNotHttp2, RogueScope::kEveryRpc, "reason=\"rpc UNAVAILABLE"},
  };
  for (const Case& c : cases) {
    const std::string name = std::string(MisbehaviourName(c.misbehaviour)) +
                             (c.scope == RogueScope::kMessageOnly ? "-eom" : "-all");
    SCOPED_TRACE(name);
    const std::size_t log_before = MilterLog().size();
    rogue_.Set(c.misbehaviour, c.scope);
    for (int i = 0; i < 3; ++i) {
      const Sent s = Send("rg-" + name);
      EXPECT_EQ(s.outcome, Outcome::kTempfailed) << s.reply.ToString() << stack_.Diagnostics();
      // hive-milter's own failure-mode reply, not the MTA's "milter
      // unavailable": the milter survived and answered.
      EXPECT_EQ(s.reply.code, 451) << s.reply.ToString();
      EXPECT_THAT(s.reply.text, HasSubstr("policy service unavailable")) << s.reply.ToString();
    }
    // Degraded mode: a class configured to fail open is delivered, marked.
    const Sent alert = Send("rg-" + name + "-alert", "alerts");
    EXPECT_EQ(alert.outcome, Outcome::kAccepted) << alert.reply.ToString() << stack_.Diagnostics();
    if (alert.outcome == Outcome::kAccepted) {
      EXPECT_THAT(stack_.sink().WaitForMessageContaining(alert.letter.tag, std::chrono::seconds(20)),
                  HasSubstr("X-Hive-Policy: unchecked"));
    }
    EXPECT_THAT(MilterLog().substr(log_before), HasSubstr(c.logged)) << MilterLog().substr(log_before);
    if (c.misbehaviour == Misbehaviour::kNotHttp2) {
      EXPECT_GT(rogue_.garbage_connections(), 0);
    }
    ASSERT_TRUE(stack_.DaemonsRunning()) << stack_.Diagnostics();

    // Sane answers again: the same milter process serves the next message.
    rogue_.Set(Misbehaviour::kHonest);
    const auto took = WaitForRecovery(stack_.smtp_port(), "rg-" + name + "-probe", std::chrono::seconds(10));
    ASSERT_TRUE(took.has_value()) << "no recovery within 10 s" << stack_.Diagnostics();
  }
  // Every message accounted for: the accepted ones delivered once, none of
  // the tempfailed ones delivered, nothing left in the MTA's queue.
  const Ledger l = Reconcile(sent_, stack_.sink(), stack_.mta());
  EXPECT_TRUE(l.problems.empty()) << l.Summary() << stack_.Diagnostics();
  EXPECT_EQ(l.tempfailed, 3 * 7) << l.Summary();
  EXPECT_EQ(l.accepted, 1 + 7) << l.Summary();
}

INSTANTIATE_TEST_SUITE_P(Mtas, RoguePolicydTest, ::testing::ValuesIn(AllMtas()),
                         [](const ::testing::TestParamInfo<std::string>& mta) { return mta.param; });

}  // namespace
}  // namespace hive::testing
