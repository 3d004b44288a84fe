// Where Postfix and Sendmail differ on the milter side, and proof through
// each real MTA that hive-milter copes: default macro sets (no {client_addr}),
// the daemon address ({daemon_addr} vs {if_addr}), the queue id ({i} at MAIL
// on Sendmail, only from RCPT/DATA on Postfix), clients over IPv6, STARTTLS
// (HELO twice, TLS macros on the second), SMTP AUTH ({auth_authen}), and a
// policy service slower than the milter's deadline but not the MTA's.
// What arrives is read from hive-policyd's decision log (client=, sasl=,
// tls=, queue=) and hive-milter's (queue=, the connect line), and from limits
// keyed on those facts. Failure flags (no milter at all) are in
// milter_failure_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <sstream>
#include <thread>

#include "harness/credentials.h"
#include "harness/hive_stack.h"
#include "harness/smtp_client.h"
#include "harness/temp_dir.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;

constexpr auto kDeliveryTimeout = std::chrono::seconds(20);

// Every message of one client IP counts; the second one is over.
constexpr char kClientIpPolicy[] = R"(
limits:
  - name: per-client-ip
    match: {client_ip: ["@CIDR@"]}
    key: "{client_ip}"
    cost: messages
    windows:
      - {limit: 1, period: 1h}
)";

constexpr char kSaslPolicy[] = R"(
limits:
  - name: per-sasl-user
    match: {sasl_user: ["@LOGIN@"]}
    key: "{sasl_user}"
    cost: messages
    windows:
      - {limit: 1, period: 1h}
)";

// No limits: every message passes; only the logs matter.
constexpr char kOpenPolicy[] = R"(
routing:
  pools:
    - {name: main}
  default_pool: main
)";

std::string WithCidr(const std::string& cidr) {
  std::string p = kClientIpPolicy;
  return p.replace(p.find("@CIDR@"), 6, cidr);
}

// The login as each MTA reports it in {auth_authen}: Sendmail the name the
// client gave; Postfix, with smtpd_sasl_local_domain set (how its sasldb
// lookup finds the realm), the name with "@realm" as in its own logs.
std::string SaslLogin(const std::string& mta) {
  return mta == "postfix" ? std::string("hiveuser@") + kMtaHostName : "hiveuser";
}

// The lines of `log` that contain every needle.
std::vector<std::string> LinesWith(const std::string& log, const std::vector<std::string>& needles) {
  std::vector<std::string> out;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    bool all = true;
    for (const auto& n : needles) all = all && line.find(n) != std::string::npos;
    if (all) out.push_back(line);
  }
  return out;
}

// The first refused reply of a transaction (code 0 when none was refused).
SmtpReply FirstRefusal(const Transaction& t) {
  for (const SmtpReply* r : {&t.greeting, &t.ehlo, &t.mail}) {
    if (!r->positive()) return *r;
  }
  for (const auto& r : t.rcpts) {
    if (!r.positive()) return r;
  }
  if (!t.data.positive()) return t.data;
  return SmtpReply{};
}

// The queue id in the reply to the final dot: Postfix "Ok: queued as ID",
// Sendmail "ID Message accepted for delivery".
std::string QueueIdFromReply(const SmtpReply& reply) {
  std::smatch m;
  if (std::regex_search(reply.text, m, std::regex("queued as ([0-9A-Za-z]+)"))) return m[1];
  if (std::regex_search(reply.text, m, std::regex("^[0-9.]+ ([0-9A-Za-z]+) Message accepted"))) return m[1];
  return "";
}

// Some containers have no ::1 at all; there the IPv6 scenario cannot run.
bool HaveIpv6Loopback() {
  const int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

class MtaDifferencesTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<HiveStack> Start(const std::string& policy, MtaFeatures features = {}) {
    return std::make_unique<HiveStack>(StackOptions{.mta = GetParam(),
                                                    .policy_yaml = policy,
                                                    .milter_flags = {"--debug"},
                                                    .mta_features = std::move(features)});
  }
  static std::string PolicydLog(const HiveStack& s) { return ReadFile(s.dir().Sub("policyd.log")); }
  static std::string MilterLog(const HiveStack& s) { return ReadFile(s.dir().Sub("milter.log")); }
};

// Neither test MTA lists {client_addr}: Postfix never sends it by default and
// this Sendmail runs on its own default macro sets (no confMILTER_MACROS_*).
// The address comes from xxfi_connect's sockaddr, normalised; the daemon
// address from {daemon_addr}/{if_addr}; the queue id is logged at MAIL on
// Sendmail and at end of message on both.
TEST_P(MtaDifferencesTest, DefaultMacroSetsStillGiveClientIpDaemonAndQueueId) {
  auto stack = Start(WithCidr("127.0.0.1/32"), MtaFeatures{.default_macros = true});
  Transaction first = SendMail(stack->smtp_port(), "a@one.example", {"x@dest.example"},
                               MakeMessage("a@one.example", "x@dest.example", "first", "ok"));
  ASSERT_EQ(first.data.code, 250) << first.data.ToString() << stack->Diagnostics();
  const std::string queue_id = QueueIdFromReply(first.data);
  ASSERT_FALSE(queue_id.empty()) << first.data.ToString();

  // Another sender, same client IP: the {client_ip} limit is exhausted.
  Transaction second = SendMail(stack->smtp_port(), "b@two.example", {"x@dest.example"},
                                MakeMessage("b@two.example", "x@dest.example", "second", "no"));
  const SmtpReply refused = FirstRefusal(second);
  EXPECT_EQ(refused.code, 451) << refused.ToString() << stack->Diagnostics();
  EXPECT_THAT(refused.text, HasSubstr("per-client-ip"));

  const std::string policyd = PolicydLog(*stack);
  EXPECT_FALSE(LinesWith(policyd, {"rpc=CheckSender", "client=\"127.0.0.1\""}).empty()) << policyd;
  EXPECT_FALSE(LinesWith(policyd, {"rpc=CheckMessage", "queue=\"" + queue_id + "\""}).empty()) << policyd;
  const std::string milter = MilterLog(*stack);
  EXPECT_FALSE(LinesWith(milter, {"queue=" + queue_id + " stage=eom"}).empty()) << milter;
  EXPECT_FALSE(LinesWith(milter, {"connect from", "[127.0.0.1]:", "to [127.0.0.1]"}).empty()) << milter;
  const auto at_mail = LinesWith(milter, {"stage=mail", "from=<a@one.example>"});
  ASSERT_EQ(at_mail.size(), 1u) << milter;
  if (GetParam() == "sendmail") {
    // Sendmail assigns the queue id at MAIL.
    EXPECT_THAT(at_mail[0], HasSubstr("queue=" + queue_id + " ")) << milter;
  } else {
    // Postfix only from the first accepted RCPT: the milter's own
    // transaction id correlates the stages.
    EXPECT_THAT(at_mail[0], HasSubstr("queue=- ")) << milter;
  }
}

// A client on ::1: Sendmail's macros would say "IPv6:::1", Postfix "::1";
// the policy sees "::1" and a limit on ::1/128 applies.
TEST_P(MtaDifferencesTest, Ipv6ClientIsMatchedByItsNormalisedAddress) {
  if (!HaveIpv6Loopback()) GTEST_SKIP() << "no IPv6 loopback (::1) on this machine";
  auto stack = Start(WithCidr("::1/128"), MtaFeatures{.ipv6 = true});
  const SessionOptions v6{.ipv6 = true};
  Transaction first = SendMail(stack->smtp_port(), v6, "a@one.example", {"x@dest.example"},
                               MakeMessage("a@one.example", "x@dest.example", "over v6", "ok"));
  ASSERT_EQ(first.data.code, 250) << first.data.ToString() << stack->Diagnostics();
  EXPECT_FALSE(stack->sink().WaitForMessageContaining("over v6", kDeliveryTimeout).empty()) << stack->Diagnostics();
  Transaction second = SendMail(stack->smtp_port(), v6, "b@two.example", {"x@dest.example"},
                                MakeMessage("b@two.example", "x@dest.example", "second v6", "no"));
  const SmtpReply refused = FirstRefusal(second);
  EXPECT_EQ(refused.code, 451) << refused.ToString() << stack->Diagnostics();
  EXPECT_THAT(refused.text, HasSubstr("per-client-ip"));
  const std::string policyd = PolicydLog(*stack);
  EXPECT_FALSE(LinesWith(policyd, {"rpc=CheckSender", "client=\"::1\""}).empty()) << policyd;
  EXPECT_TRUE(LinesWith(policyd, {"IPv6:"}).empty()) << policyd;
}

// STARTTLS: the MTA calls the milter's HELO twice, the TLS macros only on the
// second; the policy then sees the TLS version. A plain session first: no
// TLS facts (so the assertion can fail).
TEST_P(MtaDifferencesTest, TlsFactsFromTheSecondHeloReachThePolicy) {
  TempDir tls_dir;
  const Certificate cert = MakeSelfSignedCertificate(tls_dir.Sub("tls"));
  auto stack = Start(kOpenPolicy, MtaFeatures{.tls_cert = cert.cert, .tls_key = cert.key});
  Transaction plain = SendMail(stack->smtp_port(), "plain@one.example", {"x@dest.example"},
                               MakeMessage("plain@one.example", "x@dest.example", "plain", "ok"));
  ASSERT_EQ(plain.data.code, 250) << plain.data.ToString() << stack->Diagnostics();
  Transaction tls = SendMail(stack->smtp_port(), SessionOptions{.starttls = true}, "tls@one.example",
                             {"x@dest.example"}, MakeMessage("tls@one.example", "x@dest.example", "over tls", "ok"));
  ASSERT_EQ(tls.ehlo.code, 250) << tls.ehlo.ToString() << stack->Diagnostics();
  ASSERT_EQ(tls.data.code, 250) << tls.data.ToString() << stack->Diagnostics();

  const std::string policyd = PolicydLog(*stack);
  EXPECT_FALSE(LinesWith(policyd, {"rpc=CheckSender", "sender=\"plain@one.example\"", "tls=\"\""}).empty())
      << policyd;
  const auto with_tls = LinesWith(policyd, {"rpc=CheckMessage", "sender=\"tls@one.example\"", "tls=\"TLSv1."});
  EXPECT_EQ(with_tls.size(), 1u) << policyd;
}

// AUTH PLAIN (Cyrus SASL, sasldb): {auth_authen} at MAIL becomes the policy's
// sasl_user, and a per-user limit of one message refuses the second; the
// unauthenticated message in between has no sasl_user and is not counted.
TEST_P(MtaDifferencesTest, SaslUserLimitAppliesAfterAuthPlain) {
  TempDir sasl_dir;
  const std::string db = MakeSaslDb(sasl_dir.Sub("sasldb2"), "hiveuser", "s3cret-pw");
  std::string policy = kSaslPolicy;
  policy.replace(policy.find("@LOGIN@"), 7, SaslLogin(GetParam()));
  auto stack = Start(policy, MtaFeatures{.sasl_db = db});
  const SessionOptions auth{.auth_user = "hiveuser", .auth_password = "s3cret-pw"};
  Transaction first = SendMail(stack->smtp_port(), auth, "a@one.example", {"x@dest.example"},
                               MakeMessage("a@one.example", "x@dest.example", "authed 1", "ok"));
  ASSERT_EQ(first.ehlo.code, 250) << first.ehlo.ToString() << stack->Diagnostics();
  ASSERT_EQ(first.data.code, 250) << first.data.ToString() << stack->Diagnostics();
  // Unauthenticated: not this user's bucket.
  Transaction anonymous = SendMail(stack->smtp_port(), "a@one.example", {"x@dest.example"},
                                   MakeMessage("a@one.example", "x@dest.example", "anonymous", "ok"));
  EXPECT_EQ(anonymous.data.code, 250) << anonymous.data.ToString() << stack->Diagnostics();
  Transaction second = SendMail(stack->smtp_port(), auth, "b@two.example", {"x@dest.example"},
                                MakeMessage("b@two.example", "x@dest.example", "authed 2", "no"));
  const SmtpReply refused = FirstRefusal(second);
  EXPECT_EQ(refused.code, 451) << refused.ToString() << stack->Diagnostics();
  EXPECT_THAT(refused.text, HasSubstr("per-sasl-user"));
  const std::string policyd = PolicydLog(*stack);
  EXPECT_FALSE(LinesWith(policyd, {"rpc=CheckSender", "sasl=\"" + SaslLogin(GetParam()) + "\""}).empty()) << policyd;
  EXPECT_FALSE(LinesWith(policyd, {"rpc=CheckSender", "sender=\"a@one.example\"", "sasl=\"\""}).empty()) << policyd;
}

// A policy service that accepts the connection but never answers (SIGSTOP):
// the milter's 2 s deadline answers with its failure-mode reply long before
// the MTA's own milter timeouts (10 s) would apply theirs.
TEST_P(MtaDifferencesTest, SlowPolicyIsAnsweredByTheMilterDeadlineBeforeTheMtaTimeout) {
  auto stack = Start(kOpenPolicy);
  Transaction warm = SendMail(stack->smtp_port(), "a@one.example", {"x@dest.example"},
                              MakeMessage("a@one.example", "x@dest.example", "warm", "ok"));
  ASSERT_EQ(warm.data.code, 250) << warm.data.ToString() << stack->Diagnostics();

  stack->PausePolicyd();
  const auto start = std::chrono::steady_clock::now();
  Transaction slow = SendMail(stack->smtp_port(), "b@one.example", {"x@dest.example"},
                              MakeMessage("b@one.example", "x@dest.example", "slow", "no"));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  stack->ResumePolicyd();
  // This policy decides only at end of message (Verdict.stages, learnt from
  // the warm-up verdict): the first call, and so the 451, is after the dot.
  const SmtpReply refused = FirstRefusal(slow);
  EXPECT_EQ(slow.mail.code, 250) << slow.mail.ToString() << stack->Diagnostics();
  EXPECT_EQ(refused.code, 451) << refused.ToString() << stack->Diagnostics();
  // The milter's text, not the MTA's ("Service unavailable", "Please try again later").
  EXPECT_THAT(refused.text, HasSubstr("policy service unavailable")) << stack->Diagnostics();
  EXPECT_GE(elapsed, std::chrono::milliseconds(1500));
  EXPECT_LT(elapsed, std::chrono::seconds(8));

  // Resumed: mail flows again without restarting anything.
  int code = 0;
  for (const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
       code != 250 && std::chrono::steady_clock::now() < deadline;) {
    code = SendMail(stack->smtp_port(), "c@one.example", {"x@dest.example"},
                    MakeMessage("c@one.example", "x@dest.example", "resumed", "ok"))
               .data.code;
    if (code != 250) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_EQ(code, 250) << stack->Diagnostics();
}

INSTANTIATE_TEST_SUITE_P(Mtas, MtaDifferencesTest, ::testing::ValuesIn(AllMtas()),
                         [](const ::testing::TestParamInfo<std::string>& mta) { return mta.param; });

}  // namespace
}  // namespace hive::testing
