#include "milter/session.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/milter/fakes.h"

namespace hive::milter {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using testing::Continue;
using testing::FakeActions;
using testing::FakePolicyClient;
namespace pb = hive::policy::v1;

pb::Verdict Answer(pb::Action action, std::string code = "", std::string enhanced = "") {
  pb::Verdict v;
  v.set_action(action);
  if (!code.empty()) {
    v.mutable_reply()->set_code(code);
    v.mutable_reply()->set_enhanced_code(enhanced);
    v.mutable_reply()->add_lines("policy says no");
  }
  return v;
}

class SessionTest : public ::testing::Test {
 protected:
  SessionTest() {
    settings_.listen = "inet:1@127.0.0.1";
    settings_.policy_target = "127.0.0.1:1";
  }

  void Start(StagePlan* stages = nullptr) {
    session_ = std::make_unique<Session>(std::make_shared<const Settings>(settings_), policy_,
                                         [this] { return "tx" + std::to_string(++next_id_); }, nullptr, stages);
  }

  void ConnectV4(const char* ip = "192.0.2.10", uint16_t port = 40000) {
    if (!session_) Start();
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    ASSERT_EQ(inet_pton(AF_INET, ip, &in.sin_addr), 1);
    EXPECT_EQ(session_->OnConnect(mta_, "client.example", reinterpret_cast<sockaddr*>(&in)), Status::kContinue);
    EXPECT_EQ(session_->OnHelo(mta_, "client.example"), Status::kContinue);
  }

  Status Mail(std::vector<std::string> argv = {"<sender@example.com>"}) { return session_->OnEnvFrom(mta_, argv); }
  Status Rcpt(const std::string& address) { return session_->OnEnvRcpt(mta_, {"<" + address + ">"}); }
  Status Header(const std::string& name, const std::string& value) { return session_->OnHeader(mta_, name, value); }
  Status Body(const std::string& chunk) { return session_->OnBody(mta_, chunk); }
  Status Data() {
    EXPECT_EQ(session_->OnData(mta_), Status::kContinue);
    EXPECT_EQ(session_->OnEndOfHeaders(mta_), Status::kContinue);
    return Status::kContinue;
  }
  Status Eom() { return session_->OnEndOfMessage(mta_); }

  // One whole accepted message: MAIL, the recipients, one header, a body.
  Status SendMessage(const std::vector<std::string>& rcpts, const std::string& subject) {
    EXPECT_EQ(Mail(), Status::kContinue);
    for (const auto& r : rcpts) EXPECT_EQ(Rcpt(r), Status::kContinue);
    Data();
    Header("Subject", subject);
    Body("body of " + subject + "\r\n");
    return Eom();
  }

  Settings settings_;
  FakePolicyClient policy_;
  FakeActions mta_;
  int next_id_ = 0;
  std::unique_ptr<Session> session_;
};

TEST(AddressTest, NormalisesMtaSpellings) {
  EXPECT_EQ(NormaliseAddress("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(NormaliseAddress("IPv6:2001:DB8:0:0::1"), "2001:db8::1");
  EXPECT_EQ(NormaliseAddress("ipv6:2001:db8::1"), "2001:db8::1");
  EXPECT_EQ(NormaliseAddress("IPv6:::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(NormaliseAddress("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(NormaliseAddress("[192.0.2.1]"), "192.0.2.1");
  EXPECT_EQ(NormaliseAddress("[IPv6:2001:db8::1]"), "2001:db8::1");
  EXPECT_EQ(NormaliseAddress("unknown"), "unknown");
}

TEST(AddressTest, SockaddrV4MappedBecomesV4) {
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(2525);
  ASSERT_EQ(inet_pton(AF_INET6, "::ffff:198.51.100.3", &in6.sin6_addr), 1);
  uint16_t port = 0;
  EXPECT_EQ(SockaddrToString(reinterpret_cast<sockaddr*>(&in6), &port), "198.51.100.3");
  EXPECT_EQ(port, 2525);
  ASSERT_EQ(inet_pton(AF_INET6, "2001:db8:0::5", &in6.sin6_addr), 1);
  EXPECT_EQ(SockaddrToString(reinterpret_cast<sockaddr*>(&in6), &port), "2001:db8::5");
  EXPECT_EQ(SockaddrToString(nullptr, &port), "");
  EXPECT_EQ(port, 0);
}

TEST_F(SessionTest, ConnectionStateFromSockaddrAndMacros) {
  mta_.macros = {{"j", "mx.example.net"},
                 {"{daemon_name}", "smtpd"},
                 {"{daemon_addr}", "IPv6:2001:db8::25"},
                 {"{client_name}", "client.example"},
                 {"{tls_version}", "TLSv1.3"},
                 {"{cipher}", "TLS_AES_256_GCM_SHA384"},
                 {"{cipher_bits}", "256"},
                 {"{verify}", "NONE"}};
  ConnectV4("192.0.2.10", 40000);
  const pb::Connection& c = session_->connection();
  EXPECT_EQ(c.client_address(), "192.0.2.10");
  EXPECT_EQ(c.client_port(), 40000u);
  EXPECT_EQ(c.client_name(), "client.example");
  EXPECT_EQ(c.helo(), "client.example");
  EXPECT_EQ(c.daemon_name(), "smtpd");
  EXPECT_EQ(c.daemon_address(), "2001:db8::25");
  EXPECT_EQ(c.mta_hostname(), "mx.example.net");
  EXPECT_EQ(c.tls().version(), "TLSv1.3");
  EXPECT_EQ(c.tls().cipher_bits(), 256u);
  EXPECT_EQ(c.tls().verify(), "NONE");
}

TEST_F(SessionTest, SendmailStyleMacrosWithoutSockaddr) {
  Start();
  // Sendmail: "IPv6:" prefix, unverified name in brackets, {if_addr}.
  mta_.macros = {{"{client_addr}", "IPv6:::ffff:203.0.113.9"},
                 {"{client_port}", "51000"},
                 {"{if_addr}", "192.0.2.25"}};
  EXPECT_EQ(session_->OnConnect(mta_, "[203.0.113.9]", nullptr), Status::kContinue);
  const pb::Connection& c = session_->connection();
  EXPECT_EQ(c.client_address(), "203.0.113.9");
  EXPECT_EQ(c.client_port(), 51000u);
  EXPECT_EQ(c.client_name(), "unknown");
  EXPECT_EQ(c.daemon_address(), "192.0.2.25");

  mta_.macros = {{"{client_addr}", "IPv6:2001:DB8::7"}};
  EXPECT_EQ(session_->OnConnect(mta_, "host", nullptr), Status::kContinue);
  EXPECT_EQ(session_->connection().client_address(), "2001:db8::7");
}

// STARTTLS: the MTA calls HELO before TLS (no TLS macros) and again after
// the client's second EHLO, now with the TLS macros; both MTAs do this.
TEST_F(SessionTest, HeloAgainAfterStartTlsBringsTheTlsFacts) {
  ConnectV4();  // the first HELO, no TLS macros
  EXPECT_EQ(session_->connection().tls().version(), "");
  mta_.macros = {{"{tls_version}", "TLSv1.3"}, {"{cipher}", "TLS_AES_256_GCM_SHA384"}, {"{cipher_bits}", "256"}};
  EXPECT_EQ(session_->OnHelo(mta_, "client-after-tls.example"), Status::kContinue);
  mta_.macros.clear();  // later stages do not repeat them
  ASSERT_EQ(Mail(), Status::kContinue);
  ASSERT_THAT(policy_.sender_requests, SizeIs(1));
  const pb::Connection& c = policy_.sender_requests[0].transaction().connection();
  EXPECT_EQ(c.helo(), "client-after-tls.example");
  EXPECT_EQ(c.tls().version(), "TLSv1.3");
  EXPECT_EQ(c.tls().cipher(), "TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(c.tls().cipher_bits(), 256u);
}

// SMTP AUTH: {auth_authen} and {auth_type} arrive at MAIL (both MTAs); the
// login stays for later messages of the session, AUTH= (author) does not.
TEST_F(SessionTest, AuthMacrosAtMailBecomeTheSaslFacts) {
  ConnectV4();
  mta_.macros = {{"{auth_authen}", "hiveuser"}, {"{auth_type}", "PLAIN"}, {"{auth_author}", "<x@example.com>"}};
  ASSERT_EQ(Mail(), Status::kContinue);
  session_->OnAbort(mta_);
  mta_.macros = {{"{auth_authen}", "hiveuser"}, {"{auth_type}", "PLAIN"}};
  ASSERT_EQ(Mail(), Status::kContinue);
  ASSERT_THAT(policy_.sender_requests, SizeIs(2));
  EXPECT_EQ(policy_.sender_requests[0].transaction().connection().sasl().login(), "hiveuser");
  EXPECT_EQ(policy_.sender_requests[0].transaction().connection().sasl().method(), "PLAIN");
  EXPECT_EQ(policy_.sender_requests[0].transaction().connection().sasl().author(), "<x@example.com>");
  EXPECT_EQ(policy_.sender_requests[1].transaction().connection().sasl().login(), "hiveuser");
  EXPECT_EQ(policy_.sender_requests[1].transaction().connection().sasl().author(), "");
}

// IPv6 clients: the sockaddr wins over Sendmail's "IPv6:"-prefixed macro.
TEST_F(SessionTest, Ipv6SockaddrIsUsedAsIs) {
  Start();
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(41000);
  in6.sin6_addr = in6addr_loopback;
  mta_.macros = {{"{client_addr}", "IPv6:::1"}, {"{if_addr}", "IPv6:::1"}};
  EXPECT_EQ(session_->OnConnect(mta_, "localhost", reinterpret_cast<sockaddr*>(&in6)), Status::kContinue);
  EXPECT_EQ(session_->connection().client_address(), "::1");
  EXPECT_EQ(session_->connection().client_port(), 41000u);
  EXPECT_EQ(session_->connection().daemon_address(), "::1");
}

TEST_F(SessionTest, OneMessageCarriesEverythingToThePolicy) {
  ConnectV4();
  mta_.macros["{auth_authen}"] = "alice";
  mta_.macros["{auth_type}"] = "PLAIN";
  ASSERT_EQ(Mail({"<sender@example.com>", "SIZE=1234", "BODY=8BITMIME"}), Status::kContinue);
  // Postfix: {i} appears only from the first accepted RCPT on.
  ASSERT_THAT(policy_.sender_requests, SizeIs(1));
  EXPECT_EQ(policy_.sender_requests[0].transaction().queue_id(), "");
  mta_.macros["i"] = "4ABCDEF";
  ASSERT_EQ(Rcpt("a@example.org"), Status::kContinue);
  ASSERT_EQ(Rcpt("b@example.org"), Status::kContinue);
  Data();
  Header("From", "sender@example.com");
  Header("Subject", "hello");
  Body("line 1\r\n");
  Body("line 2\r\n");
  ASSERT_EQ(Eom(), Status::kContinue);

  const pb::SenderRequest& s = policy_.sender_requests[0];
  EXPECT_EQ(s.transaction().id(), "tx1");
  EXPECT_EQ(s.transaction().sender().address(), "sender@example.com");
  EXPECT_THAT(s.transaction().sender().esmtp_params(), ElementsAre("SIZE=1234", "BODY=8BITMIME"));
  EXPECT_EQ(s.transaction().connection().sasl().login(), "alice");
  EXPECT_EQ(s.transaction().connection().sasl().method(), "PLAIN");
  EXPECT_EQ(s.transaction().connection().client_address(), "192.0.2.10");

  ASSERT_THAT(policy_.recipient_requests, SizeIs(2));
  EXPECT_EQ(policy_.recipient_requests[0].transaction().queue_id(), "4ABCDEF");
  EXPECT_EQ(policy_.recipient_requests[1].recipient().address(), "b@example.org");

  ASSERT_THAT(policy_.message_requests, SizeIs(1));
  const pb::MessageRequest& m = policy_.message_requests[0];
  EXPECT_EQ(m.transaction().id(), "tx1");
  EXPECT_EQ(m.transaction().queue_id(), "4ABCDEF");
  ASSERT_THAT(m.recipients(), SizeIs(2));
  EXPECT_EQ(m.recipients(0).address(), "a@example.org");
  ASSERT_THAT(m.headers(), SizeIs(2));
  EXPECT_EQ(m.headers(1).name(), "Subject");
  EXPECT_EQ(m.headers(1).value(), "hello");
  EXPECT_EQ(m.body(), "line 1\r\nline 2\r\n");
  EXPECT_EQ(m.body_size(), 16u);
  EXPECT_FALSE(m.truncated());
  EXPECT_THAT(policy_.end_requests, IsEmpty());
  EXPECT_FALSE(session_->in_transaction());
}

pb::Verdict WithStages(pb::Verdict v, bool sender, bool recipient) {
  v.mutable_stages()->set_sender(sender);
  v.mutable_stages()->set_recipient(recipient);
  return v;
}

TEST(StagePlanTest, EveryStageUntilAVerdictSaysOtherwise) {
  StagePlan plan;
  EXPECT_TRUE(plan.sender());
  EXPECT_TRUE(plan.recipient());
  plan.Learn(Continue());  // an older service: no stages, no change
  EXPECT_TRUE(plan.sender());
  plan.Learn(WithStages(Continue(), false, true));
  EXPECT_FALSE(plan.sender());
  EXPECT_TRUE(plan.recipient());
  plan.Learn(WithStages(Continue(), true, false));
  EXPECT_TRUE(plan.sender());
  EXPECT_FALSE(plan.recipient());
}

// The policy decides only at end of message: after its first answer, MAIL
// and RCPT cost no call, and the message request still carries everything.
TEST_F(SessionTest, StagesThePolicyDoesNotDecideAtAreNotAsked) {
  StagePlan plan;
  Start(&plan);
  ConnectV4();
  policy_.message_answers.push_back(WithStages(Continue(), false, false));
  ASSERT_EQ(SendMessage({"a@example.org"}, "first"), Status::kContinue);
  EXPECT_THAT(policy_.sender_requests, SizeIs(1));  // not known yet: asked
  EXPECT_THAT(policy_.recipient_requests, SizeIs(1));

  policy_.message_answers.push_back(WithStages(Continue(), false, false));
  ASSERT_EQ(SendMessage({"b@example.org", "c@example.org"}, "second"), Status::kContinue);
  EXPECT_THAT(policy_.sender_requests, SizeIs(1));
  EXPECT_THAT(policy_.recipient_requests, SizeIs(1));
  ASSERT_THAT(policy_.message_requests, SizeIs(2));
  const pb::MessageRequest& m = policy_.message_requests[1];
  EXPECT_EQ(m.transaction().id(), "tx2");
  EXPECT_EQ(m.transaction().sender().address(), "sender@example.com");
  ASSERT_THAT(m.recipients(), SizeIs(2));
  EXPECT_EQ(m.recipients(1).address(), "c@example.org");
  // Nothing was reserved: an abort calls nothing either.
  ASSERT_EQ(Mail(), Status::kContinue);
  ASSERT_EQ(Rcpt("d@example.org"), Status::kContinue);
  session_->OnAbort(mta_);
  EXPECT_THAT(policy_.end_requests, IsEmpty());
  EXPECT_THAT(policy_.recipient_requests, SizeIs(1));
}

// A reload that adds a per-recipient limit reaches the milter with the next
// verdict; from then on recipients are asked (and refused) again.
TEST_F(SessionTest, StagesFollowTheLatestVerdict) {
  StagePlan plan;
  Start(&plan);
  ConnectV4();
  plan.Learn(WithStages(Continue(), false, false));
  policy_.message_answers.push_back(WithStages(Continue(), true, true));
  ASSERT_EQ(SendMessage({"a@example.org"}, "first"), Status::kContinue);
  EXPECT_THAT(policy_.sender_requests, IsEmpty());
  EXPECT_THAT(policy_.recipient_requests, IsEmpty());

  policy_.sender_answers.push_back(WithStages(Continue(), true, true));
  policy_.recipient_answers.push_back(WithStages(Answer(pb::ACTION_TEMPFAIL, "451", "4.7.1"), true, true));
  ASSERT_EQ(Mail(), Status::kContinue);
  EXPECT_EQ(Rcpt("b@example.org"), Status::kTempfail);
  EXPECT_THAT(policy_.sender_requests, SizeIs(1));
  EXPECT_THAT(policy_.recipient_requests, SizeIs(1));
}

// sender_limits_at_first_rcpt: MAIL costs no call; the first RCPT carries
// the sender check, and a refusal there is the sender's reply at RCPT. The
// sender is asked again until some RCPT is accepted, then no more.
TEST_F(SessionTest, SenderLimitsAtFirstRcptFoldCheckSenderIntoTheRecipientCall) {
  settings_.sender_limits_at_first_rcpt = true;
  StagePlan plan;
  Start(&plan);
  ConnectV4();
  policy_.recipient_answers = {WithStages(Answer(pb::ACTION_TEMPFAIL, "451", "4.7.1"), true, true), Continue(),
                               Continue()};
  ASSERT_EQ(Mail(), Status::kContinue);
  EXPECT_THAT(policy_.sender_requests, IsEmpty());
  EXPECT_EQ(Rcpt("a@example.org"), Status::kTempfail);
  ASSERT_THAT(mta_.replies, SizeIs(1));
  EXPECT_EQ(mta_.replies[0].code, "451");
  EXPECT_EQ(Rcpt("b@example.org"), Status::kContinue);
  EXPECT_EQ(Rcpt("c@example.org"), Status::kContinue);
  ASSERT_THAT(policy_.recipient_requests, SizeIs(3));
  EXPECT_TRUE(policy_.recipient_requests[0].check_sender());
  EXPECT_TRUE(policy_.recipient_requests[1].check_sender());
  EXPECT_FALSE(policy_.recipient_requests[2].check_sender());
  EXPECT_EQ(policy_.recipient_requests[2].transaction().sender().address(), "sender@example.com");
  EXPECT_THAT(policy_.sender_requests, IsEmpty());

  // Off (the default): CheckSender at MAIL, and no sender check at RCPT.
  settings_.sender_limits_at_first_rcpt = false;
  session_.reset();
  Start(&plan);
  ConnectV4();
  ASSERT_EQ(SendMessage({"a@example.org"}, "second"), Status::kContinue);
  EXPECT_THAT(policy_.sender_requests, SizeIs(1));
  EXPECT_FALSE(policy_.recipient_requests.back().check_sender());
}

// Without a sender-stage limit there is nothing to fold: a policy deciding
// only at end of message still costs one call.
TEST_F(SessionTest, SenderLimitsAtFirstRcptAskNothingWhenNoLimitIsDecidedAtMail) {
  settings_.sender_limits_at_first_rcpt = true;
  StagePlan plan;
  plan.Learn(WithStages(Continue(), false, false));
  Start(&plan);
  ConnectV4();
  ASSERT_EQ(SendMessage({"a@example.org"}, "only"), Status::kContinue);
  EXPECT_THAT(policy_.sender_requests, IsEmpty());
  EXPECT_THAT(policy_.recipient_requests, IsEmpty());
  EXPECT_THAT(policy_.message_requests, SizeIs(1));
}

// hive-milter never reads Verdict.limits: every request says so.
TEST_F(SessionTest, EveryPolicyRequestOmitsLimitStatuses) {
  ConnectV4();
  ASSERT_EQ(SendMessage({"a@example.org"}, "one"), Status::kContinue);
  ASSERT_THAT(policy_.sender_requests, SizeIs(1));
  EXPECT_TRUE(policy_.sender_requests[0].omit_limits());
  ASSERT_THAT(policy_.recipient_requests, SizeIs(1));
  EXPECT_TRUE(policy_.recipient_requests[0].omit_limits());
  ASSERT_THAT(policy_.message_requests, SizeIs(1));
  EXPECT_TRUE(policy_.message_requests[0].omit_limits());
}

TEST_F(SessionTest, SendmailQueueIdAtMail) {
  ConnectV4();
  mta_.macros["i"] = "x1234";
  ASSERT_EQ(Mail(), Status::kContinue);
  EXPECT_EQ(policy_.sender_requests[0].transaction().queue_id(), "x1234");
}

TEST_F(SessionTest, RejectAtMailSetsReplyAndForgetsTheTransaction) {
  ConnectV4();
  policy_.sender_answers.push_back(Answer(pb::ACTION_REJECT, "550", "5.7.1"));
  EXPECT_EQ(Mail(), Status::kReject);
  ASSERT_THAT(mta_.replies, SizeIs(1));
  EXPECT_EQ(mta_.replies[0].code, "550");
  EXPECT_FALSE(session_->in_transaction());
  EXPECT_THAT(policy_.end_requests, IsEmpty());  // CheckSender reserves nothing
  // The next transaction is checked again from scratch.
  EXPECT_EQ(SendMessage({"a@example.org"}, "second"), Status::kContinue);
  EXPECT_EQ(policy_.message_requests[0].transaction().id(), "tx2");
}

TEST_F(SessionTest, TempfailAtMail) {
  ConnectV4();
  policy_.sender_answers.push_back(Answer(pb::ACTION_TEMPFAIL, "451", "4.7.1"));
  EXPECT_EQ(Mail(), Status::kTempfail);
  EXPECT_EQ(mta_.replies.at(0).enhanced_code, "4.7.1");
}

TEST_F(SessionTest, PerRecipientTempfailCountsOnlyAcceptedRecipients) {
  ConnectV4();
  ASSERT_EQ(Mail(), Status::kContinue);
  policy_.recipient_answers = {Continue(), Answer(pb::ACTION_TEMPFAIL, "452", "4.2.2"), Continue()};
  EXPECT_EQ(Rcpt("one@example.org"), Status::kContinue);
  EXPECT_EQ(Rcpt("two@example.org"), Status::kTempfail);
  EXPECT_EQ(Rcpt("three@example.org"), Status::kContinue);
  ASSERT_THAT(policy_.recipient_requests, SizeIs(3));
  EXPECT_EQ(policy_.recipient_requests[0].accepted_recipients(), 0u);
  EXPECT_EQ(policy_.recipient_requests[1].accepted_recipients(), 1u);
  EXPECT_EQ(policy_.recipient_requests[2].accepted_recipients(), 1u);
  EXPECT_EQ(mta_.replies.at(0).code, "452");
  Data();
  ASSERT_EQ(Eom(), Status::kContinue);
  const auto& rcpts = policy_.message_requests.at(0).recipients();
  ASSERT_THAT(rcpts, SizeIs(2));
  EXPECT_EQ(rcpts[0].address(), "one@example.org");
  EXPECT_EQ(rcpts[1].address(), "three@example.org");
}

TEST_F(SessionTest, AbortAfterReservationEndsTheTransactionAndKeepsTheConnection) {
  mta_.macros["j"] = "mx.example.net";
  ConnectV4();
  ASSERT_EQ(Mail(), Status::kContinue);
  ASSERT_EQ(Rcpt("a@example.org"), Status::kContinue);
  Data();
  Header("Subject", "first");
  Body("first body");
  session_->OnAbort(mta_);  // RSET
  ASSERT_THAT(policy_.end_requests, SizeIs(1));
  EXPECT_EQ(policy_.end_requests[0].transaction_id(), "tx1");
  EXPECT_EQ(policy_.end_requests[0].reason(), pb::EndTransactionRequest::REASON_ABORTED);
  EXPECT_FALSE(session_->in_transaction());
  EXPECT_EQ(session_->connection().mta_hostname(), "mx.example.net");
  EXPECT_EQ(session_->connection().client_address(), "192.0.2.10");

  // The next message starts clean.
  ASSERT_EQ(SendMessage({"b@example.org"}, "second"), Status::kContinue);
  const pb::MessageRequest& m = policy_.message_requests.at(0);
  EXPECT_EQ(m.transaction().id(), "tx2");
  ASSERT_THAT(m.recipients(), SizeIs(1));
  EXPECT_EQ(m.recipients(0).address(), "b@example.org");
  ASSERT_THAT(m.headers(), SizeIs(1));
  EXPECT_EQ(m.headers(0).value(), "second");
  EXPECT_EQ(m.body(), "body of second\r\n");
  EXPECT_EQ(m.transaction().connection().client_address(), "192.0.2.10");
}

TEST_F(SessionTest, AbortWithoutReservationCallsNothing) {
  ConnectV4();
  ASSERT_EQ(Mail(), Status::kContinue);
  session_->OnAbort(mta_);
  EXPECT_THAT(policy_.end_requests, IsEmpty());
  // A recipient refused explicitly reserved nothing either.
  ASSERT_EQ(Mail(), Status::kContinue);
  policy_.recipient_answers.push_back(Answer(pb::ACTION_REJECT, "550", "5.1.1"));
  EXPECT_EQ(Rcpt("x@example.org"), Status::kReject);
  session_->OnAbort(mta_);
  EXPECT_THAT(policy_.end_requests, IsEmpty());
}

TEST_F(SessionTest, CloseMidTransactionEndsItAsClosed) {
  ConnectV4();
  ASSERT_EQ(Mail(), Status::kContinue);
  ASSERT_EQ(Rcpt("a@example.org"), Status::kContinue);
  session_->OnClose(mta_);
  ASSERT_THAT(policy_.end_requests, SizeIs(1));
  EXPECT_EQ(policy_.end_requests[0].reason(), pb::EndTransactionRequest::REASON_CLOSED);
  session_->OnClose(mta_);  // idempotent
  EXPECT_THAT(policy_.end_requests, SizeIs(1));
}

// Regression (tests/fuzz/session_fuzzer.cc): a connect on a session with a
// transaction still open (an MTA that skipped abort and close) released
// nothing, leaking the recipients' reservations until their TTL.
TEST_F(SessionTest, ConnectMidTransactionReleasesItsReservations) {
  ConnectV4();
  ASSERT_EQ(Mail(), Status::kContinue);
  ASSERT_EQ(Rcpt("a@example.org"), Status::kContinue);
  ConnectV4("192.0.2.11");
  ASSERT_THAT(policy_.end_requests, SizeIs(1));
  EXPECT_EQ(policy_.end_requests[0].transaction_id(), "tx1");
  EXPECT_EQ(policy_.end_requests[0].reason(), pb::EndTransactionRequest::REASON_ABORTED);
  EXPECT_FALSE(session_->in_transaction());
}

TEST_F(SessionTest, CloseAfterCompletedMessageCallsNothing) {
  ConnectV4();
  ASSERT_EQ(SendMessage({"a@example.org"}, "done"), Status::kContinue);
  session_->OnClose(mta_);
  EXPECT_THAT(policy_.end_requests, IsEmpty());
}

TEST_F(SessionTest, NewMailWithoutAbortEndsThePreviousTransaction) {
  ConnectV4();
  ASSERT_EQ(Mail(), Status::kContinue);
  ASSERT_EQ(Rcpt("a@example.org"), Status::kContinue);
  ASSERT_EQ(Mail(), Status::kContinue);
  ASSERT_THAT(policy_.end_requests, SizeIs(1));
  EXPECT_EQ(policy_.end_requests[0].transaction_id(), "tx1");
  EXPECT_EQ(session_->transaction_id(), "tx2");
}

TEST_F(SessionTest, SeveralMessagesPerSessionAreEachChecked) {
  ConnectV4();
  policy_.message_answers = {Answer(pb::ACTION_REJECT, "554", "5.7.1"), Continue(), Continue()};
  EXPECT_EQ(SendMessage({"a@example.org"}, "one"), Status::kReject);
  EXPECT_EQ(SendMessage({"b@example.org", "c@example.org"}, "two"), Status::kContinue);
  EXPECT_EQ(SendMessage({"d@example.org"}, "three"), Status::kContinue);
  ASSERT_THAT(policy_.sender_requests, SizeIs(3));
  ASSERT_THAT(policy_.message_requests, SizeIs(3));
  EXPECT_EQ(policy_.message_requests[1].transaction().id(), "tx2");
  EXPECT_THAT(policy_.message_requests[1].recipients(), SizeIs(2));
  EXPECT_THAT(policy_.message_requests[2].recipients(), SizeIs(1));
  EXPECT_THAT(policy_.message_requests[2].headers(), SizeIs(1));
  EXPECT_EQ(policy_.message_requests[2].body(), "body of three\r\n");
  // A policy refusal at EOM released the reservations itself.
  EXPECT_THAT(policy_.end_requests, IsEmpty());
}

TEST_F(SessionTest, PolicyDownAtEomInTempfailModeRefusesAndReleases) {
  ConnectV4();
  policy_.message_answers.push_back(absl::UnavailableError("connection refused"));
  EXPECT_EQ(SendMessage({"a@example.org"}, "x"), Status::kTempfail);
  ASSERT_THAT(mta_.replies, SizeIs(1));
  EXPECT_EQ(mta_.replies[0].code, "451");
  EXPECT_EQ(mta_.replies[0].enhanced_code, "4.7.1");
  ASSERT_THAT(policy_.end_requests, SizeIs(1));
  EXPECT_EQ(policy_.end_requests[0].reason(), pb::EndTransactionRequest::REASON_REFUSED);
  EXPECT_THAT(mta_.ops, IsEmpty());
  EXPECT_FALSE(session_->in_transaction());
}

TEST_F(SessionTest, PolicyDownAtEomInAcceptModeDeliversMarkedUnchecked) {
  settings_.failure_mode = FailureMode::kAccept;
  ConnectV4();
  policy_.message_answers.push_back(absl::DeadlineExceededError("slow"));
  EXPECT_EQ(SendMessage({"a@example.org"}, "x"), Status::kContinue);
  EXPECT_THAT(mta_.ops, ElementsAre("add X-Hive-Policy: unchecked; policy service unavailable"));
  EXPECT_THAT(mta_.replies, IsEmpty());
  EXPECT_THAT(policy_.end_requests, IsEmpty());
}

TEST_F(SessionTest, FailureAtRcptMarksTheMessageEvenIfEomSucceeds) {
  settings_.failure_mode = FailureMode::kAccept;
  ConnectV4();
  ASSERT_EQ(Mail(), Status::kContinue);
  policy_.recipient_answers.push_back(absl::UnavailableError("down"));
  EXPECT_EQ(Rcpt("a@example.org"), Status::kContinue);
  Data();
  pb::Verdict ok = Continue();
  ok.set_pool("bulk");
  policy_.message_answers.push_back(ok);
  EXPECT_EQ(Eom(), Status::kContinue);
  EXPECT_THAT(mta_.ops, ElementsAre("add X-Hive-Policy: unchecked; policy service unavailable",
                                    "add X-Hive-Pool: bulk"));
  // The next message is not marked.
  mta_.ops.clear();
  EXPECT_EQ(SendMessage({"b@example.org"}, "clean"), Status::kContinue);
  EXPECT_THAT(mta_.ops, IsEmpty());
}

TEST_F(SessionTest, FailureAtRcptInTempfailModeRefusesThatRecipientAndStillReleases) {
  ConnectV4();
  ASSERT_EQ(Mail(), Status::kContinue);
  policy_.recipient_answers.push_back(absl::DeadlineExceededError("slow"));
  EXPECT_EQ(Rcpt("a@example.org"), Status::kTempfail);
  EXPECT_EQ(mta_.replies.at(0).code, "451");
  // The server may have reserved before the deadline hit.
  session_->OnAbort(mta_);
  ASSERT_THAT(policy_.end_requests, SizeIs(1));
  EXPECT_EQ(policy_.end_requests[0].reason(), pb::EndTransactionRequest::REASON_ABORTED);
}

TEST_F(SessionTest, EomAppliesEditsPoolSenderAndQuarantineAfterRemovingForgedHeaders) {
  ConnectV4();
  ASSERT_EQ(Mail(), Status::kContinue);
  ASSERT_EQ(Rcpt("a@example.org"), Status::kContinue);
  Data();
  Header("x-hive-pool", "forged-1");
  Header("Subject", "s");
  Header("X-Hive-Pool", "forged-2");
  Header("X-Hive-Policy", "forged");
  pb::Verdict v;
  v.set_action(pb::ACTION_QUARANTINE);
  v.set_quarantine_reason("score 9");
  v.set_pool("warmup");
  auto* edit = v.add_header_edits();
  edit->set_op(pb::HeaderEdit::OP_INSERT);
  edit->set_name("X-Spam-Score");
  edit->set_value("9.0");
  edit->set_index(0);
  v.mutable_new_sender()->set_address("bounces@example.com");
  policy_.message_answers.push_back(v);
  EXPECT_EQ(Eom(), Status::kContinue);
  EXPECT_THAT(mta_.ops, ElementsAre("delete X-Hive-Pool 2", "delete X-Hive-Pool 1", "delete X-Hive-Policy 1",
                                    "insert 0 X-Spam-Score: 9.0", "add X-Hive-Pool: warmup",
                                    "chgfrom <bounces@example.com> ", "quarantine score 9"));
}

TEST_F(SessionTest, EomMarksThePoolMemberTheMtaRoutesOn) {
  ConnectV4();
  ASSERT_EQ(Mail(), Status::kContinue);
  ASSERT_EQ(Rcpt("a@example.org"), Status::kContinue);
  Data();
  pb::Verdict v = Continue();
  v.set_pool("bulk");
  v.set_pool_member("bulk-cold");
  policy_.message_answers.push_back(v);
  EXPECT_EQ(Eom(), Status::kContinue);
  EXPECT_THAT(mta_.ops, ElementsAre("add X-Hive-Pool: bulk/bulk-cold"));
}

// Sendmail (sender_pool_tag): the member rides in the envelope sender, the
// verdict's new sender included, instead of in the pool header (Sendmail
// could not strip it); a tag the client wrote is removed.
TEST_F(SessionTest, EomTagsTheEnvelopeSenderWithThePoolMemberForSendmail) {
  settings_.sender_pool_tag = "hive";
  ConnectV4();
  ASSERT_EQ(Mail({"<news+hive.vip-1@letters.test>", "BODY=8BITMIME"}), Status::kContinue);
  ASSERT_EQ(Rcpt("a@example.org"), Status::kContinue);
  Data();
  pb::Verdict v = Continue();
  v.set_pool("bulk");
  v.set_pool_member("bulk-cold");
  policy_.message_answers.push_back(v);
  EXPECT_EQ(Eom(), Status::kContinue);
  EXPECT_THAT(mta_.ops, ElementsAre("chgfrom <news+hive.bulk-cold@letters.test> "));

  mta_.ops.clear();
  ASSERT_EQ(Mail({"<news@letters.test>"}), Status::kContinue);
  ASSERT_EQ(Rcpt("a@example.org"), Status::kContinue);
  Data();
  v.mutable_new_sender()->set_address("bounces@letters.test");
  v.mutable_new_sender()->add_esmtp_params("ENVID=x1");
  policy_.message_answers.push_back(v);
  EXPECT_EQ(Eom(), Status::kContinue);
  EXPECT_THAT(mta_.ops, ElementsAre("chgfrom <bounces+hive.bulk-cold@letters.test> ENVID=x1"));
}

TEST_F(SessionTest, EomWithoutAMemberLeavesAnUntaggedSenderAlone) {
  settings_.sender_pool_tag = "hive";
  ConnectV4();
  ASSERT_EQ(Mail({"<news@letters.test>"}), Status::kContinue);
  ASSERT_EQ(Rcpt("a@example.org"), Status::kContinue);
  Data();
  Header("X-Hive-Pool", "forged");
  pb::Verdict v = Continue();
  v.set_pool("bulk");
  policy_.message_answers.push_back(v);
  EXPECT_EQ(Eom(), Status::kContinue);
  EXPECT_THAT(mta_.ops, ElementsAre("delete X-Hive-Pool 1"));
}

TEST_F(SessionTest, EomWithABadPoolMemberTempfailsUnmarked) {
  ConnectV4();
  ASSERT_EQ(Mail(), Status::kContinue);
  ASSERT_EQ(Rcpt("a@example.org"), Status::kContinue);
  Data();
  pb::Verdict v = Continue();
  v.set_pool("bulk");
  v.set_pool_member("cold\r\nX-Hive-Pool: vip/vip-1");
  policy_.message_answers.push_back(v);
  EXPECT_EQ(Eom(), Status::kTempfail);
  EXPECT_THAT(mta_.ops, IsEmpty());
  ASSERT_THAT(mta_.replies, SizeIs(1));
  EXPECT_EQ(mta_.replies[0].code, "451");
}

TEST_F(SessionTest, DiscardAtEom) {
  ConnectV4();
  policy_.message_answers.push_back(Answer(pb::ACTION_DISCARD));
  EXPECT_EQ(SendMessage({"a@example.org"}, "x"), Status::kDiscard);
  EXPECT_FALSE(session_->in_transaction());
}

// Found by session_fuzz: a discard asked for at RCPT, then CheckMessage
// failed (failure mode accept): the message is dropped, and what the
// recipient reserved must be released, not left counted until its TTL.
TEST_F(SessionTest, DiscardAskedAtRcptWithThePolicyDownAtEomReleasesTheReservations) {
  settings_.failure_mode = FailureMode::kAccept;
  ConnectV4();
  ASSERT_EQ(Mail(), Status::kContinue);
  policy_.recipient_answers.push_back(Answer(pb::ACTION_DISCARD));
  ASSERT_EQ(Rcpt("a@example.org"), Status::kContinue);
  Data();
  policy_.message_answers.push_back(absl::UnavailableError("connection refused"));
  EXPECT_EQ(Eom(), Status::kDiscard);
  ASSERT_THAT(policy_.end_requests, SizeIs(1));
  EXPECT_EQ(policy_.end_requests[0].reason(), pb::EndTransactionRequest::REASON_REFUSED);
  EXPECT_FALSE(session_->in_transaction());
}

TEST_F(SessionTest, QuarantineAskedAtRcptIsAppliedAtEom) {
  ConnectV4();
  ASSERT_EQ(Mail(), Status::kContinue);
  pb::Verdict q;
  q.set_action(pb::ACTION_QUARANTINE);
  q.set_quarantine_reason("new sender");
  policy_.recipient_answers.push_back(q);
  EXPECT_EQ(Rcpt("a@example.org"), Status::kContinue);
  Data();
  EXPECT_EQ(Eom(), Status::kContinue);
  EXPECT_THAT(mta_.ops, ElementsAre("quarantine new sender"));
}

TEST_F(SessionTest, DeferredDiscardYieldsToARefusalAtEom) {
  ConnectV4();
  policy_.sender_answers.push_back(Answer(pb::ACTION_DISCARD));
  ASSERT_EQ(Mail(), Status::kContinue);
  ASSERT_EQ(Rcpt("a@example.org"), Status::kContinue);
  Data();
  policy_.message_answers.push_back(Answer(pb::ACTION_REJECT, "550", "5.7.1"));
  EXPECT_EQ(Eom(), Status::kReject);

  // And applies when EOM says continue.
  policy_.sender_answers.push_back(Answer(pb::ACTION_DISCARD));
  EXPECT_EQ(SendMessage({"b@example.org"}, "x"), Status::kDiscard);
}

TEST_F(SessionTest, FailureToApplyTheDecisionTempfails) {
  ConnectV4();
  mta_.fail_edits = true;
  pb::Verdict v = Continue();
  v.set_pool("bulk");
  policy_.message_answers.push_back(v);
  EXPECT_EQ(SendMessage({"a@example.org"}, "x"), Status::kTempfail);
  ASSERT_THAT(mta_.replies, SizeIs(1));
  EXPECT_EQ(mta_.replies[0].code, "451");
  ASSERT_THAT(policy_.end_requests, SizeIs(1));
  EXPECT_EQ(policy_.end_requests[0].reason(), pb::EndTransactionRequest::REASON_REFUSED);
}

TEST_F(SessionTest, BodyIsCappedButItsSizeCounted) {
  settings_.max_body_bytes = 10;
  ConnectV4();
  ASSERT_EQ(Mail(), Status::kContinue);
  ASSERT_EQ(Rcpt("a@example.org"), Status::kContinue);
  Data();
  Body("123456");
  Body("789abc");
  Body("defghi");
  ASSERT_EQ(Eom(), Status::kContinue);
  const pb::MessageRequest& m = policy_.message_requests.at(0);
  EXPECT_EQ(m.body(), "123456789a");
  EXPECT_EQ(m.body_size(), 18u);
  EXPECT_TRUE(m.truncated());
}

TEST_F(SessionTest, BodyExactlyAtTheCapIsNotTruncated) {
  settings_.max_body_bytes = 4;
  ConnectV4();
  ASSERT_EQ(Mail(), Status::kContinue);
  Body("12");
  Body("34");
  ASSERT_EQ(Eom(), Status::kContinue);
  EXPECT_EQ(policy_.message_requests.at(0).body(), "1234");
  EXPECT_FALSE(policy_.message_requests.at(0).truncated());
}

TEST_F(SessionTest, HeadersAreCappedByCount) {
  settings_.max_headers = 3;
  ConnectV4();
  ASSERT_EQ(Mail(), Status::kContinue);
  for (int i = 0; i < 5; ++i) Header("X-N", std::to_string(i));
  ASSERT_EQ(Eom(), Status::kContinue);
  const pb::MessageRequest& m = policy_.message_requests.at(0);
  ASSERT_THAT(m.headers(), SizeIs(3));
  EXPECT_EQ(m.headers(2).value(), "2");
  EXPECT_TRUE(m.truncated());
}

TEST_F(SessionTest, HeadersAreCappedByBytesAndABigHeaderFits) {
  settings_.max_header_bytes = 150 * 1024;
  ConnectV4();
  ASSERT_EQ(Mail(), Status::kContinue);
  Header("X-Big", std::string(100 * 1024, 'a'));
  Header("X-Big2", std::string(100 * 1024, 'b'));
  ASSERT_EQ(Eom(), Status::kContinue);
  const pb::MessageRequest& m = policy_.message_requests.at(0);
  ASSERT_THAT(m.headers(), SizeIs(1));
  EXPECT_EQ(m.headers(0).value().size(), 100u * 1024);
  EXPECT_TRUE(m.truncated());
}

TEST_F(SessionTest, CallbacksOutsideATransactionAreSafe) {
  ConnectV4();
  EXPECT_EQ(Header("Subject", "x"), Status::kContinue);
  EXPECT_EQ(Body("x"), Status::kContinue);
  EXPECT_EQ(Rcpt("a@example.org"), Status::kTempfail);
  EXPECT_EQ(Eom(), Status::kTempfail);
  session_->OnAbort(mta_);
  EXPECT_THAT(policy_.recipient_requests, IsEmpty());
  EXPECT_THAT(policy_.message_requests, IsEmpty());
}

TEST(TransactionIdTest, RandomIdsAre128BitHexAndDiffer) {
  const std::string a = RandomTransactionId();
  const std::string b = RandomTransactionId();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace hive::milter
