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
  EXPECT_THAT(Target::Parse("headers").status().message(), HasSubstr("body, subject or header:<Name>"));
  EXPECT_FALSE(Target::Parse("header:").ok());
  EXPECT_FALSE(Target::Parse("header:a b").ok());
  EXPECT_THAT(CompileRegex("(unclosed").status().message(), HasSubstr("invalid RE2 regex"));
  EXPECT_FALSE(CompileRegex("(?<=lookbehind)x").ok());  // not RE2
}

TEST(QuotedPrintableTest, SoftBreaksEscapesAndMalformed) {
  EXPECT_EQ(DecodeQuotedPrintable("a=3Db=\r\nc=\nd =ZZ"), "a=bcd =ZZ");
}

}  // namespace
}  // namespace hive::policy::content
