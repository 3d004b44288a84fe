// Bad SMTP input through the real path (issue 8, reliability.md §2): each
// malformed message or envelope goes through a real MTA, hive-milter and
// hive-policyd, and gets one DEFINED result, asserted as a class: delivered
// (and found in the sink), refused with a 5xx and its reason, or a 4xx only
// where SMTP itself demands one (too many recipients). After every case a
// clean message must still be delivered and both daemons must still run: a
// bad input never takes the milter down or leaves it wedged.
//
// One stack per MTA, reused across the cases (starting a stack costs
// seconds; the cases are cheap): one test per MTA runs them all in order,
// each under its own SCOPED_TRACE.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <utility>
#include <string>
#include <vector>

#include "harness/hive_stack.h"
#include "harness/smtp_client.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;

constexpr auto kDeliveryTimeout = std::chrono::seconds(30);

// Built-in checks on with their default weights (each anomaly scores below
// the reject score), except nesting past the parse limit: a poison message
// refused for good, never retried (reliability.md rule 2).
constexpr char kPolicy[] = R"(
content:
  checks:
    enabled: true
    weights: [{name: MIME_LIMIT_DEPTH, weight: 20}]
  parse_limits: {max_depth: 8}
  reject_score: 10
)";

enum class Outcome { kDelivered, kRejected, kTempfailed };

// One case: an envelope and the raw DATA bytes (sent verbatim), the class of
// the reply to the final dot, and a text the reply (refusal) or the
// delivered copy (delivery) must contain.
struct Case {
  std::string name;
  std::string helo = "client.test.invalid";
  std::string sender = "bad@input.example";
  std::vector<std::string> recipients = {"rcpt@dest.example"};
  std::string data;
  Outcome outcome = Outcome::kDelivered;
  std::string expect;
  // Where one MTA's own checks answer before hive sees the input.
  std::map<std::string, std::pair<Outcome, std::string>> per_mta;
};

// Headers of a well-formed message, marked so the sink copy can be found;
// `extra` lines go before the blank line, each ending in CRLF.
std::string Head(const std::string& marker, const std::string& extra = "",
                 const std::string& content_type = "text/plain; charset=utf-8") {
  return "From: <bad@input.example>\r\nTo: <rcpt@dest.example>\r\nSubject: " + marker +
         "\r\nMessage-ID: <" + marker + "@test.invalid>\r\nMIME-Version: 1.0\r\nContent-Type: " +
         content_type + "\r\n" + extra + "\r\n";
}

std::string Nested(int depth) {
  std::string body;
  for (int i = 0; i < depth; ++i) {
    body += "--n" + std::to_string(i) + "\r\nContent-Type: multipart/mixed; boundary=\"n" +
            std::to_string(i + 1) + "\"\r\n\r\n";
  }
  body += "--n" + std::to_string(depth) + "\r\nContent-Type: text/plain\r\n\r\ninnermost\r\n";
  for (int i = depth; i >= 0; --i) body += "--n" + std::to_string(i) + "--\r\n";
  return body;
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  cases.push_back({.name = "header_without_colon",
                   .data = Head("no-colon", "This header line has no colon\r\nX-After: still a header?\r\n") +
                           "body\r\n",
                   .expect = "This header line has no colon"});
  cases.push_back({.name = "header_line_over_998_bytes",
                   .data = Head("long-998", "X-Long: " + std::string(3000, 'a') + "\r\n") + "body\r\n",
                   .expect = "X-Long: aaaa"});
  cases.push_back({.name = "header_line_of_100_kb",
                   .data = Head("long-100k", "X-Huge: " + std::string(100 * 1024, 'b') + "\r\n") + "body\r\n",
                   .expect = "X-Huge: bbbb",
                   // MaxHeadersLength, 32 KB by default; Postfix's header_size_limit is 100 KB.
                   .per_mta = {{"sendmail", {Outcome::kRejected, "5.6.0 Headers too large"}}}});
  cases.push_back({.name = "nul_bytes",
                   .data = Head("nul-bytes", std::string("X-Nul: before\0after\r\n", 21)) +
                           std::string("body with \0 a NUL\r\n", 19),
                   .expect = "Subject: nul-bytes"});
  cases.push_back({.name = "bare_cr",
                   .data = Head("bare-cr", "X-Cr: one\rtwo\r\n") + "line one\rline two\r\n",
                   .expect = "Subject: bare-cr",
                   // Sendmail's SMTP-smuggling defence answers 421 and closes:
                   // the MTA's own choice, made before hive sees the message.
                   .per_mta = {{"sendmail", {Outcome::kTempfailed, "4.5.0 Bare carriage return"}}}});
  cases.push_back({.name = "bare_lf",
                   .data = Head("bare-lf", "X-Lf: one\ntwo\r\n") + "line one\nline two\nline three\r\n",
                   .expect = "Subject: bare-lf",
                   .per_mta = {{"sendmail", {Outcome::kTempfailed, "4.5.0 Bare linefeed"}}}});
  cases.push_back(
      {.name = "malformed_encoded_words",
       .data = "From: =?utf-8?B?####?= <bad@input.example>\r\nTo: <rcpt@dest.example>\r\n"
               "Subject: =?utf-8?Q?unterminated =?x-unknown-cs?Q?a?= =?utf-8?X?bad_enc?= =?=?= =?utf-8?B?4pyTIGRvbmU?=\r\n"
               "Message-ID: <rfc2047@test.invalid>\r\n\r\nbody\r\n",
       .expect = "Message-ID: <rfc2047@test.invalid>"});
  cases.push_back({.name = "deeply_nested_multipart",
                   .data = Head("nested", "", "multipart/mixed; boundary=\"n0\"") + Nested(60),
                   .outcome = Outcome::kRejected,
                   .expect = "MIME_LIMIT_DEPTH"});
  cases.push_back({.name = "multipart_without_boundary_parameter",
                   .data = Head("no-boundary-param", "", "multipart/mixed") + "--x\r\ntext\r\n--x--\r\n",
                   .expect = "Subject: no-boundary-param"});
  cases.push_back({.name = "multipart_whose_boundary_never_appears",
                   .data = Head("boundary-missing", "", "multipart/alternative; boundary=\"never\"") +
                           "--other\r\nContent-Type: text/plain\r\n\r\norphan part\r\n",
                   .expect = "orphan part"});
  cases.push_back({.name = "multipart_without_closing_boundary",
                   .data = Head("unclosed", "", "multipart/mixed; boundary=\"b\"") +
                           "--b\r\nContent-Type: text/plain\r\n\r\nfirst\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>x",
                   .expect = "Subject: unclosed"});
  cases.push_back({.name = "invalid_utf8",
                   .data = Head("bad-utf8", "X-Bad: \xff\xfe \xc0\xaf \xed\xa0\x80\r\n") +
                           "overlong \xc0\xaf, surrogate \xed\xa0\x80, truncated \xe4\xb8\r\n",
                   .expect = "Subject: bad-utf8"});
  cases.push_back({.name = "invalid_utf8_in_helo_and_envelope",
                   .helo = "h\xe9lo.test.invalid",
                   .sender = "s\xff\xfe@input.example",
                   .recipients = {"r\xc0\xaf@dest.example"},
                   .data = Head("bad-utf8-envelope"),
                   .expect = "Subject: bad-utf8-envelope",
                   // smtputf8_enable (default yes) checks every command.
                   .per_mta = {{"postfix", {Outcome::kRejected, "5.5.2 Error: bad UTF-8 syntax"}},
                               {"sendmail", {Outcome::kRejected, "5.1.7 Syntax error in mailbox address"}}}});
  cases.push_back({.name = "gbk_valid_and_invalid",
                   .data = Head("gbk", "", "text/plain; charset=gbk") +
                           "\xc4\xe3\xba\xc3 \xca\xc0\xbd\xe7 then broken \x81\x20 and \xff\r\n",
                   .expect = "Subject: gbk"});
  cases.push_back({.name = "ipv6_address_literals",
                   .sender = "v6@[IPv6:2001:db8::1]",
                   .recipients = {"rcpt@[IPv6:2001:db8::2]", "other@[IPv6:::ffff:192.0.2.1]"},
                   .data = Head("ipv6-literals"),
                   .expect = "X-Rcpt-Args: <rcpt@[IPv6:2001:db8::2]>"});
  return cases;
}

class BadInputTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    stack_ = std::make_unique<HiveStack>(StackOptions{.mta = GetParam(), .policy_yaml = kPolicy});
    policyd_pid_ = stack_->policyd_pid();
    milter_pid_ = stack_->milter_pid();
  }

  // The final-dot reply of one session with `c`'s envelope and raw data.
  SmtpReply Send(const Case& c) {
    SmtpClient client;
    if (client.Connect(stack_->smtp_port()).code != 220) return {};
    client.Command("EHLO " + c.helo);
    const SmtpReply mail = client.Command("MAIL FROM:<" + c.sender + ">");
    if (mail.code != 250) return mail;
    for (const std::string& r : c.recipients) {
      const SmtpReply rcpt = client.Command("RCPT TO:<" + r + ">");
      if (rcpt.code != 250) return rcpt;
    }
    const SmtpReply data = client.DataRaw(c.data);
    client.Command("QUIT");
    return data;
  }

  // The milter still serves: a clean message is delivered, and the very
  // processes the stack started still run (no crash, no restart).
  void ExpectStillServing(const std::string& after) {
    const std::string subject = "clean after " + after;
    Transaction t = SendMail(stack_->smtp_port(), "clean@input.example", {"rcpt@dest.example"},
                             MakeMessage("clean@input.example", "rcpt@dest.example", subject, "hello"));
    EXPECT_EQ(t.data.code, 250) << t.data.ToString() << stack_->Diagnostics();
    EXPECT_FALSE(stack_->sink().WaitForMessageContaining("Subject: " + subject, kDeliveryTimeout).empty())
        << stack_->Diagnostics();
    EXPECT_TRUE(stack_->DaemonsRunning()) << stack_->Diagnostics();
    EXPECT_EQ(stack_->policyd_pid(), policyd_pid_);
    EXPECT_EQ(stack_->milter_pid(), milter_pid_);
  }

  std::unique_ptr<HiveStack> stack_;
  pid_t policyd_pid_ = -1;
  pid_t milter_pid_ = -1;
};

TEST_P(BadInputTest, EachBadInputGetsItsDefinedResultAndTheMilterKeepsServing) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    const SmtpReply reply = Send(c);
    const auto own = c.per_mta.find(GetParam());
    const Outcome outcome = own == c.per_mta.end() ? c.outcome : own->second.first;
    const std::string& expect = own == c.per_mta.end() ? c.expect : own->second.second;
    switch (outcome) {
      case Outcome::kDelivered:
        EXPECT_EQ(reply.code, 250) << reply.ToString() << stack_->Diagnostics();
        EXPECT_FALSE(stack_->sink().WaitForMessageContaining(expect, kDeliveryTimeout).empty())
            << stack_->Diagnostics();
        break;
      case Outcome::kRejected:
        EXPECT_EQ(reply.code / 100, 5) << reply.ToString() << stack_->Diagnostics();
        EXPECT_THAT(reply.text, HasSubstr(expect));
        break;
      case Outcome::kTempfailed:
        EXPECT_EQ(reply.code / 100, 4) << reply.ToString() << stack_->Diagnostics();
        EXPECT_THAT(reply.text, HasSubstr(expect));
        break;
    }
    ExpectStillServing(c.name);
  }
}

// 1,000 recipients: the MTA's own cap (Postfix smtpd_recipient_limit, 1000
// by default) answers the 1,001st with 452 4.5.3, a 4xx because RFC 5321
// §4.5.3.1.10 demands it (the client sends the rest in another
// transaction); the milter asks hive-policyd about each of the 1,000
// accepted ones, and the message reaches every one of them (MANY_RECIPIENTS
// scores 1, below the reject score). Sendmail has no such cap by default
// (MaxRecipientsPerMessage 0): there only the 1,000 are checked.
TEST_P(BadInputTest, AThousandRecipientsAreDeliveredAndTheNextOneIsDeferredByTheMta) {
  SmtpClient client(std::chrono::seconds(60));
  ASSERT_EQ(client.Connect(stack_->smtp_port()).code, 220);
  client.Command("EHLO client.test.invalid");
  ASSERT_EQ(client.Command("MAIL FROM:<bulk@input.example>").code, 250);
  int accepted = 0;
  for (int i = 0; i < 1000; ++i) {
    const SmtpReply r = client.Command("RCPT TO:<r" + std::to_string(i) + "@dest.example>");
    accepted += r.code == 250 ? 1 : 0;
    if (r.code != 250) ADD_FAILURE() << "recipient " << i << ": " << r.ToString();
    if (r.code == 0) break;
  }
  ASSERT_EQ(accepted, 1000) << stack_->Diagnostics();
  if (GetParam() == "postfix") {
    const SmtpReply over = client.Command("RCPT TO:<r1000@dest.example>");
    EXPECT_EQ(over.code, 452) << over.ToString();
    EXPECT_THAT(over.text, HasSubstr("4.5.3"));
  }
  const SmtpReply data = client.DataRaw(Head("thousand") + "to a thousand\r\n");
  client.Command("QUIT");
  ASSERT_EQ(data.code, 250) << data.ToString() << stack_->Diagnostics();
  ASSERT_TRUE(stack_->mta().WaitForEmptyQueue(std::chrono::seconds(60))) << stack_->Diagnostics();
  int delivered_to = 0;
  for (const std::string& m : stack_->sink().Messages()) {
    if (m.find("Subject: thousand") == std::string::npos) continue;
    for (std::size_t p = m.find("X-Rcpt-Args: <r"); p != std::string::npos; p = m.find("X-Rcpt-Args: <r", p + 1)) {
      ++delivered_to;
    }
  }
  EXPECT_EQ(delivered_to, 1000) << stack_->Diagnostics();
  ExpectStillServing("a thousand recipients");
}

INSTANTIATE_TEST_SUITE_P(Mtas, BadInputTest, ::testing::ValuesIn(AllMtas()),
                         [](const ::testing::TestParamInfo<std::string>& mta) { return mta.param; });

}  // namespace
}  // namespace hive::testing
