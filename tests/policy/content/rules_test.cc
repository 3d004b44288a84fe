// Configured rules (RE2::Set per target), meta expressions, built-in checks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "content/checks.h"
#include "content/meta.h"
#include "content/rules.h"

namespace hive::policy::content {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

ContentRule Rule(const std::string& name, const std::string& target, const std::string& regex, double weight = 1) {
  return {name, Target::Parse(target).value(), CompileRegex(regex).value(), weight};
}

std::vector<std::string> Fired(const RuleSet& set, const std::string& raw) {
  const Message m = SplitRawMessage(raw);
  std::vector<std::string> out;
  for (const RuleHit& h : set.Match(m, Parse(m))) out.push_back(set.rules()[h.rule].name + "=" + h.matched);
  return out;
}

TEST(TargetTest, ParsesEveryTargetAndRefusesOthers) {
  EXPECT_EQ(Target::Parse("raw")->kind, Target::Kind::kRaw);
  EXPECT_EQ(Target::Parse("url")->kind, Target::Kind::kUrl);
  EXPECT_EQ(Target::Parse("attachment")->kind, Target::Kind::kAttachment);
  EXPECT_EQ(Target::Parse("header:X-Mailer")->header, "X-Mailer");
  EXPECT_THAT(Target::Parse("header:").status().message(), HasSubstr("is not a target"));
  EXPECT_FALSE(Target::Parse("headers").ok());
  EXPECT_FALSE(CompileRegex("(unclosed").ok());
  EXPECT_FALSE(CompileRegex("(a)\\1").ok());  // backreferences: not linear time, not RE2
}

TEST(RuleSetTest, EveryTargetReadsItsDecodedView) {
  RuleSet set({Rule("BODY_ZH", "body", "\xE5\x8F\x91\xE7\xA5\xA8"),  // 发票 in the decoded GB2312 body
               Rule("SUBJ", "subject", "(?i)^free"),
               Rule("MAILER", "header:x-mailer", "Mass"),
               Rule("RAW_B64", "raw", "w\\+K30beixrE="),             // the encoded form, only in raw
               Rule("URL_RU", "url", "^https?://[^/]*\\.ru/"),
               Rule("ATT_ZIP", "attachment", "(?i)\\.zip$"),
               Rule("BODY_NO", "body", "never-present")});
  EXPECT_EQ(set.fallback_groups(), 0);
  const std::string raw =
      "Subject: =?utf-8?Q?Free_stuff?=\r\nX-Mailer: MassMailer\r\n"
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
      "Content-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: base64\r\n\r\nw+K30beixrE=\r\n"
      "--b\r\nContent-Type: text/plain\r\n\r\nvisit hxxp://x[.]ru/a\r\n"
      "--b\r\nContent-Type: application/zip; name=\"a.ZIP\"\r\n\r\nPK\r\n--b--\r\n";
  EXPECT_THAT(Fired(set, raw),
              ElementsAre("BODY_ZH=\xE5\x8F\x91\xE7\xA5\xA8", "SUBJ=Free", "MAILER=Mass", "RAW_B64=w+K30beixrE=",
                          "URL_RU=http://x.ru/", "ATT_ZIP=.ZIP"));
  EXPECT_THAT(Fired(set, "Subject: hello\r\n\r\nnothing\r\n"), IsEmpty());
}

TEST(RuleSetTest, ManyRulesInOneSetMatchLikeOneByOne) {
  std::vector<ContentRule> rules;
  for (int i = 0; i < 300; ++i) rules.push_back(Rule("R" + std::to_string(i), "body", "w" + std::to_string(i) + "x"));
  RuleSet set(std::move(rules));
  EXPECT_EQ(set.fallback_groups(), 0);
  EXPECT_THAT(Fired(set, "Subject: s\r\n\r\nw7x and w123x but not w300x\r\n"), ElementsAre("R7=w7x", "R123=w123x"));
}

MetaExpression Meta(const std::string& text) {
  auto known = [](const std::string& n) { return n == "A" || n == "B" || n == "C" || n == "HTML_ONLY"; };
  return MetaExpression::Parse(text, known).value();
}

TEST(MetaTest, BooleanAndCountingExpressions) {
  std::set<std::string> fired = {"A", "C"};
  auto has = [&](const std::string& n) { return fired.contains(n); };
  EXPECT_TRUE(Meta("A && C").Eval(has));
  EXPECT_FALSE(Meta("A && B").Eval(has));
  EXPECT_TRUE(Meta("B || !B && A").Eval(has));
  EXPECT_TRUE(Meta("(A + B + C) >= 2").Eval(has));
  EXPECT_FALSE(Meta("A + B + C > 2").Eval(has));
  EXPECT_TRUE(Meta("!(B || HTML_ONLY)").Eval(has));
  EXPECT_THAT(Meta("A && (B || C)").symbols(), ElementsAre("A", "B", "C"));
}

TEST(MetaTest, BadExpressionsSayWhatAndWhere) {
  auto known = [](const std::string& n) { return n == "A"; };
  EXPECT_THAT(MetaExpression::Parse("A && NOPE", known).status().message(), HasSubstr("unknown symbol 'NOPE'"));
  EXPECT_THAT(MetaExpression::Parse("(A", known).status().message(), HasSubstr("missing ')'"));
  EXPECT_THAT(MetaExpression::Parse("A &&", known).status().message(), HasSubstr("unexpected end"));
  EXPECT_THAT(MetaExpression::Parse("A A", known).status().message(), HasSubstr("unexpected text at offset 2"));
  EXPECT_THAT(MetaExpression::Parse(std::string(100, '(') + "A" + std::string(100, ')'), known).status().message(),
              HasSubstr("nested too deeply"));
  std::string chain = "A";
  for (int i = 0; i < 1000; ++i) chain += "+A";
  EXPECT_THAT(MetaExpression::Parse(chain, known).status().message(), HasSubstr("too many terms"));
}

std::vector<std::string> Symbols(const std::string& raw, const Envelope& env = {}, CheckOptions options = {}) {
  std::vector<std::string> out;
  for (const Finding& f : RunChecks(Parse(SplitRawMessage(raw)), env, options)) out.push_back(f.symbol);
  return out;
}

constexpr char kGoodHeaders[] =
    "From: Shop <news@shop.example>\r\nDate: Mon, 3 Jun 2024 10:00:00 +0800\r\n"
    "Message-ID: <1.2@shop.example>\r\n";

TEST(ChecksTest, WellFormedAlignedPlainMessageHasNoFindings) {
  Envelope env{.sender = "bounce@mail.shop.example", .sasl_user = "shop", .recipients = 3};
  EXPECT_THAT(Symbols(std::string(kGoodHeaders) + "\r\nhello, see https://shop.example/a\r\n", env), IsEmpty());
}

TEST(ChecksTest, HeaderSanityAndAlignment) {
  EXPECT_THAT(Symbols("Subject: x\r\n\r\nbody"), UnorderedElementsAre("MISSING_MESSAGE_ID", "MISSING_DATE", "MISSING_FROM"));
  EXPECT_THAT(Symbols("From: nobody\r\nDate: yesterday\r\nMessage-ID: 1234\r\n\r\nb"),
              UnorderedElementsAre("INVALID_MESSAGE_ID", "INVALID_DATE", "INVALID_FROM"));
  EXPECT_THAT(Symbols("From: a@x.example, b@y.example\r\nDate: 3 Jun 2024 10:00 GMT\r\nMessage-ID: <a@b>\r\n\r\nb"),
              ElementsAre("MULTIPLE_FROM"));
  Envelope env{.sender = "bounce@other.example"};
  EXPECT_THAT(Symbols(std::string(kGoodHeaders) + "\r\nb", env), ElementsAre("FROM_NOT_ALIGNED"));
  env.sasl_user = "ops@shop.example";  // the login's domain is the account's
  EXPECT_THAT(Symbols(std::string(kGoodHeaders) + "\r\nb", env), IsEmpty());
  env = Envelope{.sender = "bounce@other.example", .account_domains = {"shop.example"}};
  EXPECT_THAT(Symbols(std::string(kGoodHeaders) + "\r\nb", env), IsEmpty());
}

TEST(ChecksTest, StructureLinksAttachmentsRecipients) {
  const std::string h = kGoodHeaders;
  EXPECT_THAT(Symbols(h + "Content-Type: text/html\r\n\r\n<p>Hello there, a long enough text to read.</p>"),
              ElementsAre("HTML_ONLY"));
  EXPECT_THAT(Symbols(h + "Content-Type: multipart/related; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n"
                          "<img src=\"cid:1\">\r\n--b\r\nContent-Type: image/png\r\n\r\nPNG\r\n--b--\r\n"),
              ElementsAre("HTML_ONLY", "IMAGE_ONLY"));
  EXPECT_THAT(Symbols(h + "\r\nshort link https://bit.ly/abc\r\n"), ElementsAre("URL_SHORTENER"));
  CheckOptions custom{.url_shorteners = {"s.example"}};
  EXPECT_THAT(Symbols(h + "\r\nhttps://bit.ly/abc https://s.example/x\r\n", {}, custom), ElementsAre("URL_SHORTENER"));
  EXPECT_THAT(Symbols(h + "\r\nvisit hxxp://evil[.]example.com/\r\n"), ElementsAre("URL_OBFUSCATED"));
  EXPECT_THAT(Symbols(h + "Content-Type: text/html\r\n\r\n<a href=\"http://phish.example/\">https://www.mybank.com</a>"
                          "<a href=\"http://www.shop.example/a\">shop.example</a>"),
              ElementsAre("HTML_ONLY", "LINK_MISMATCH"));
  EXPECT_THAT(Symbols(h + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\ntext\r\n--b\r\n"
                          "Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"invoice.pdf.js\"\r\n"
                          "\r\nx\r\n--b--\r\n"),
              ElementsAre("EXECUTABLE_ATTACHMENT"));
  Envelope env{.recipients = 60};
  EXPECT_THAT(Symbols(h + "\r\nb", env), ElementsAre("MANY_RECIPIENTS"));
  EXPECT_THAT(Symbols(h + "\r\nb", env, CheckOptions{.many_recipients = 100}), IsEmpty());
}

TEST(ChecksTest, ParserFactsBecomeSymbols) {
  EXPECT_THAT(Symbols(std::string(kGoodHeaders) + "Content-Type: multipart/mixed; boundary=zz\r\n"
                      "Subject: =?utf-8?B?broken\r\n\r\nno parts\r\n", Envelope{.truncated = true}),
              UnorderedElementsAre("MIME_TRUNCATED", "MIME_MISSING_BOUNDARY", "MIME_BAD_ENCODED_WORD"));
  EXPECT_EQ(AddressDomain("\"Bob\" <Bob@Mail.EXAMPLE.com>"), "mail.example.com");
  EXPECT_EQ(AddressDomain("no address"), "");
}

}  // namespace
}  // namespace hive::policy::content
