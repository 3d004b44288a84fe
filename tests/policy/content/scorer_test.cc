#include "content/scorer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hive::policy::content {
namespace {

using ::testing::HasSubstr;

ContentRule Rule(const std::string& name, const std::string& target, const std::string& regex, double weight) {
  return {name, Target::Parse(target).value(), CompileRegex(regex).value(), weight};
}

Message Mail(const std::string& subject, const std::string& body, std::vector<Header> extra = {}) {
  Message m;
  m.headers = {{"From", "a@example.com"}, {"SUBJECT", subject}};
  for (auto& h : extra) m.headers.push_back(h);
  m.body = body;
  return m;
}

Scorer MakeScorer() {
  std::vector<ContentRule> rules;
  rules.push_back(Rule("PILLS", "body", "(?i)v[i1]agra", 6));
  rules.push_back(Rule("SUBJ_MONEY", "subject", "(?i)free money", 4));
  rules.push_back(Rule("BULK_MAILER", "header:X-Mailer", "^MassMail", 2.5));
  return Scorer(std::move(rules), 10, 5);
}

TEST(ScorerTest, CleanMessageContinues) {
  ContentResult r = MakeScorer().Score(Mail("Lunch?", "See you at noon.\r\n"));
  EXPECT_EQ(r.score, 0);
  EXPECT_TRUE(r.hits.empty());
  EXPECT_EQ(r.action, ContentAction::kContinue);
}

TEST(ScorerTest, ScoreAtQuarantineThresholdQuarantines) {
  ContentResult r = MakeScorer().Score(Mail("Hi", "cheap V1AGRA here\r\n"));
  EXPECT_EQ(r.score, 6);
  EXPECT_EQ(r.action, ContentAction::kQuarantine);
  ASSERT_EQ(r.hits.size(), 1u);
  EXPECT_EQ(r.hits[0].rule, "PILLS");
  EXPECT_EQ(r.hits[0].matched, "V1AGRA");
}

TEST(ScorerTest, ScoreAtRejectThresholdRejectsWithHitsHighestFirst) {
  ContentResult r =
      MakeScorer().Score(Mail("FREE MONEY now", "viagra\r\n", {{"x-mailer", "MassMail 3.0"}}));
  EXPECT_DOUBLE_EQ(r.score, 12.5);
  EXPECT_EQ(r.action, ContentAction::kReject);
  ASSERT_EQ(r.hits.size(), 3u);
  EXPECT_EQ(r.hits[0].rule, "PILLS");
  EXPECT_EQ(r.hits[1].rule, "SUBJ_MONEY");
  EXPECT_EQ(r.hits[2].rule, "BULK_MAILER");
  EXPECT_EQ(Scorer(std::vector<ContentRule>{}, 10, 5).Score(Mail("x", "y")).action, ContentAction::kContinue);
}

TEST(ScorerTest, ZeroThresholdsNeverAct) {
  std::vector<ContentRule> rules;
  rules.push_back(Rule("ANY", "body", ".", 100));
  ContentResult r = Scorer(std::move(rules), 0, 0).Score(Mail("x", "y"));
  EXPECT_EQ(r.score, 100);
  EXPECT_EQ(r.action, ContentAction::kContinue);
}

TEST(ScorerTest, BodyIsDecodedForSinglePartQuotedPrintableAndBase64) {
  std::vector<ContentRule> rules;
  rules.push_back(Rule("PILLS", "body", "viagra now", 10));
  Scorer s(std::move(rules), 10, 0);
  EXPECT_EQ(s.Score(Mail("x", "vi=61gra=\r\n now\r\n", {{"Content-Transfer-Encoding", "quoted-printable"}})).action,
            ContentAction::kReject);
  EXPECT_EQ(s.Score(Mail("x", "dmlhZ3Jh\r\nIG5vdw==\r\n", {{"Content-Transfer-Encoding", " Base64"}})).action,
            ContentAction::kReject);
  EXPECT_EQ(s.Score(Mail("x", "dmlhZ3JhIG5vdw==\r\n")).action, ContentAction::kContinue);  // not declared
}

TEST(ScorerTest, MatchedTextIsBounded) {
  std::vector<ContentRule> rules;
  rules.push_back(Rule("LONG", "body", "a+", 1));
  ContentResult r = Scorer(std::move(rules), 0, 0).Score(Mail("x", std::string(1000, 'a')));
  ASSERT_EQ(r.hits.size(), 1u);
  EXPECT_EQ(r.hits[0].matched.size(), Scorer::kMaxMatchedBytes);
}

TEST(TargetTest, ParsesAndRefuses) {
  EXPECT_EQ(Target::Parse("header:List-Id")->header, "List-Id");
  EXPECT_THAT(Target::Parse("headers").status().message(), HasSubstr("header:<Name>, raw, url or attachment"));
  EXPECT_FALSE(Target::Parse("header:").ok());
  EXPECT_FALSE(Target::Parse("header:a b").ok());
  EXPECT_THAT(CompileRegex("(unclosed").status().message(), HasSubstr("invalid RE2 regex"));
  EXPECT_FALSE(CompileRegex("(?<=lookbehind)x").ok());  // not RE2
}

TEST(QuotedPrintableTest, SoftBreaksEscapesAndMalformed) {
  EXPECT_EQ(DecodeQuotedPrintable("a=3Db=\r\nc=\nd =ZZ"), "a=bcd =ZZ");
}

ScorerOptions FullOptions() {
  ScorerOptions o;
  o.rules.push_back(Rule("ZH_INVOICE", "body", "\xE4\xBB\xA3\xE5\xBC\x80\xE5\x8F\x91\xE7\xA5\xA8", 6));  // 代开发票
  o.rules.push_back(Rule("ZH_SUBJ_FREE", "subject", "\xE5\x85\x8D\xE8\xB4\xB9", 2));                            // 免费
  o.builtin_checks = true;
  o.symbol_weights["HTML_ONLY"] = 1.5;
  auto known = [&](const std::string& n) { return n == "ZH_INVOICE" || Scorer::FindBuiltin(n) != nullptr; };
  o.metas.push_back({"ZH_INVOICE_HTML", MetaExpression::Parse("ZH_INVOICE && HTML_ONLY", known).value(), 3});
  o.reject_score = 10;
  o.quarantine_score = 5;
  return o;
}

TEST(ScorerTest, Gb2312HtmlSpamFiresRulesChecksAndMetaAndIsRejected) {
  // Subject 免费 in an RFC 2047 GB2312 word; body 代开发票 as GB2312 HTML in base64.
  Message m = SplitRawMessage(
      "From: a@spam.example\r\nDate: Mon, 3 Jun 2024 10:00:00 +0800\r\nMessage-ID: <x@spam.example>\r\n"
      "Subject: =?gb2312?B?w+K30Q==?=\r\nContent-Type: text/html; charset=gb2312\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\nPHA+tPq/qreixrE8L3A+\r\n");
  ContentResult r = Scorer(FullOptions()).Score(m, Envelope{.sender = "a@spam.example"});
  std::vector<std::string> names;
  for (const ContentHit& h : r.hits) names.push_back(h.rule + ":" + std::to_string(static_cast<int>(h.weight * 10)));
  EXPECT_THAT(names, ::testing::ElementsAre("ZH_INVOICE:60", "ZH_INVOICE_HTML:30", "ZH_SUBJ_FREE:20", "HTML_ONLY:15"));
  EXPECT_DOUBLE_EQ(r.score, 12.5);
  EXPECT_EQ(r.action, ContentAction::kReject);
}

TEST(ScorerTest, MultipartHamPassesAndBuiltinsAreOffUnlessEnabled) {
  Message m = SplitRawMessage(
      "From: Shop <news@shop.example>\r\nDate: Mon, 3 Jun 2024 10:00:00 +0800\r\nMessage-ID: <1@shop.example>\r\n"
      "Subject: =?utf-8?B?5Lit5paH?=\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYour order shipped.\r\n"
      "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Your order shipped.</p>\r\n--b--\r\n");
  ContentResult r = Scorer(FullOptions()).Score(m, Envelope{.sender = "bounce@shop.example"});
  EXPECT_TRUE(r.hits.empty());
  EXPECT_EQ(r.action, ContentAction::kContinue);
  // The foundation constructor: rules only, so a bare message has no findings.
  EXPECT_TRUE(Scorer({}, 10, 5).Score(Mail("x", "y")).hits.empty());
}

TEST(ScorerTest, LimitHitGivesAClearVerdict) {
  ScorerOptions o;
  o.builtin_checks = true;
  o.limits.max_depth = 2;
  o.symbol_weights["MIME_LIMIT_DEPTH"] = 20;
  o.reject_score = 10;
  std::string raw = "Content-Type: multipart/mixed; boundary=b0\r\n\r\n--b0\r\n"
                    "Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\n"
                    "Content-Type: multipart/mixed; boundary=b2\r\n\r\n--b2\r\n\r\nx\r\n--b2--\r\n--b1--\r\n--b0--\r\n";
  ContentResult r = Scorer(o).Score(SplitRawMessage(raw));
  EXPECT_EQ(r.action, ContentAction::kReject);
  EXPECT_EQ(r.hits[0].rule, "MIME_LIMIT_DEPTH");
}

}  // namespace
}  // namespace hive::policy::content
