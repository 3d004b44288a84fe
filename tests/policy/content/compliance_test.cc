// The bulk-sender compliance gate: which mail it applies to (class, bulk
// markers, never transactional), each requirement failing alone, and what
// the scorer does with the findings (refusal naming the requirement, score
// only, weight 0 as a fact).
#include "content/compliance.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "content/scorer.h"

namespace hive::policy::content {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// A compliant marketing message: one-click unsubscribe, aligned From,
// signed list headers, Message-ID and Date.
constexpr char kCompliant[] =
    "From: News <news@shop.example>\r\n"
    "To: bob@dest.example\r\n"
    "Subject: Spring sale\r\n"
    "Date: Mon, 3 Jun 2024 10:00:00 +0800\r\n"
    "Message-ID: <1@shop.example>\r\n"
    "List-Unsubscribe: <mailto:unsub@shop.example?subject=u>, <https://shop.example/u/123>\r\n"
    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
    "DKIM-Signature: v=1; a=rsa-sha256; d=shop.example; s=s1;\r\n"
    "  h=From:To:Subject:Date:Message-ID:List-Unsubscribe:List-Unsubscribe-Post; bh=x; b=y\r\n"
    "\r\n"
    "Spring sale: 20% off.\r\n";

const Envelope kMarketing{.sender = "bounce@mail.shop.example", .message_class = "marketing"};

// kCompliant with the header `name` removed (name "") and `extra` added.
std::string Edit(const std::string& name, const std::string& extra = "") {
  std::string raw = kCompliant;
  if (!name.empty()) {
    const std::size_t at = raw.find(name + ":");
    std::size_t end = raw.find("\r\n", at);
    while (raw.compare(end + 2, 1, " ") == 0) end = raw.find("\r\n", end + 2);  // folded lines
    raw.erase(at, end + 2 - at);
  }
  return raw.insert(0, extra);
}

std::vector<std::string> Symbols(const std::string& raw, const Envelope& env = kMarketing,
                                 ComplianceOptions options = {.enabled = true}) {
  std::vector<std::string> out;
  for (const Finding& f : CheckCompliance(Parse(SplitRawMessage(raw)), env, options)) out.push_back(f.symbol);
  return out;
}

TEST(ComplianceTest, CompliantMarketingMailPasses) { EXPECT_THAT(Symbols(kCompliant), IsEmpty()); }

TEST(ComplianceTest, AppliesOnlyToBulkClassesOrMarkers) {
  const std::string bare = Edit("List-Unsubscribe");
  EXPECT_THAT(Symbols(bare), ElementsAre("BULK_NO_LIST_UNSUBSCRIBE"));
  EXPECT_THAT(Symbols(bare, {.sender = "a@shop.example", .message_class = "bulk"}),
              ElementsAre("BULK_NO_LIST_UNSUBSCRIBE"));
  EXPECT_THAT(Symbols(bare, {.sender = "a@shop.example", .message_class = "transactional"}), IsEmpty());
  EXPECT_THAT(Symbols(bare, {.sender = "a@shop.example"}), IsEmpty());  // no class, no marker
  EXPECT_THAT(Symbols(bare, kMarketing, {.enabled = false}), IsEmpty());
  EXPECT_THAT(Symbols(bare, {.sender = "a@shop.example", .message_class = "newsletter"},
                      {.enabled = true, .classes = {"newsletter"}}),
              ElementsAre("BULK_NO_LIST_UNSUBSCRIBE"));
}

TEST(ComplianceTest, BulkMarkersGateClasslessMail) {
  const std::string bare = Edit("List-Unsubscribe");
  const Envelope none{.sender = "a@shop.example"};
  EXPECT_THAT(Symbols("Precedence: bulk\r\n" + bare, none),
              UnorderedElementsAre("BULK_BY_MARKER", "BULK_NO_LIST_UNSUBSCRIBE"));
  EXPECT_THAT(Symbols("List-Id: <news.shop.example>\r\n" + bare, none),
              UnorderedElementsAre("BULK_BY_MARKER", "BULK_NO_LIST_UNSUBSCRIBE"));
  EXPECT_THAT(Symbols("Precedence: first-class\r\n" + bare, none), IsEmpty());
  EXPECT_THAT(Symbols("Precedence: bulk\r\n" + bare, none, {.enabled = true, .bulk_markers = false}), IsEmpty());
  // A class that says otherwise wins over the marker.
  EXPECT_THAT(Symbols("Precedence: bulk\r\n" + bare, {.sender = "a@shop.example", .message_class = "transactional"}),
              IsEmpty());
}

TEST(ComplianceTest, UnsubscribeNeedsAnHttpsOrMailtoUriInBrackets) {
  const std::string base = Edit("List-Unsubscribe");
  EXPECT_THAT(Symbols("List-Unsubscribe: https://shop.example/u\r\n" + base), ElementsAre("BULK_NO_LIST_UNSUBSCRIBE"));
  EXPECT_THAT(Symbols("List-Unsubscribe: <http://shop.example/u>\r\n" + base), ElementsAre("BULK_NO_LIST_UNSUBSCRIBE"));
  EXPECT_THAT(Symbols("List-Unsubscribe: <HTTPS://shop.example/u>\r\n" + base), IsEmpty());
  // mailto alone: no one-click, unless the operator does not require it.
  const std::string mailto = "List-Unsubscribe: <mailto:u@shop.example>\r\n" + Edit("List-Unsubscribe-Post");
  EXPECT_THAT(Symbols(mailto), ElementsAre("BULK_NO_HTTPS_UNSUBSCRIBE"));
  EXPECT_THAT(Symbols(mailto, kMarketing, {.enabled = true, .require_one_click = false}), IsEmpty());
}

TEST(ComplianceTest, HttpsUnsubscribeNeedsTheOneClickPostHeader) {
  EXPECT_THAT(Symbols(Edit("List-Unsubscribe-Post")), ElementsAre("BULK_NO_ONE_CLICK_POST"));
  EXPECT_THAT(Symbols(Edit("List-Unsubscribe-Post", "List-Unsubscribe-Post: List-Unsubscribe=Yes\r\n")),
              ElementsAre("BULK_NO_ONE_CLICK_POST"));
  EXPECT_THAT(Symbols(Edit("List-Unsubscribe-Post", "List-Unsubscribe-Post:  List-Unsubscribe=One-Click \r\n")),
              IsEmpty());
}

TEST(ComplianceTest, FromMustAlignWithEnvelopeOrDkim) {
  // The ESP's bounce domain is not aligned, but the DKIM d= is: passes.
  EXPECT_THAT(Symbols(kCompliant, {.sender = "b@esp.example", .message_class = "marketing"}), IsEmpty());
  // Neither the envelope nor a signature.
  const std::string unsigned_mail = Edit("DKIM-Signature");
  EXPECT_THAT(Symbols(unsigned_mail, {.sender = "b@esp.example", .message_class = "marketing"}),
              ElementsAre("BULK_FROM_NOT_ALIGNED"));
  EXPECT_THAT(Symbols(unsigned_mail, {.sender = "b@esp.example", .account_domains = {"Shop.Example"},
                                      .message_class = "marketing"}),
              IsEmpty());
  EXPECT_THAT(Symbols(unsigned_mail, kMarketing), IsEmpty());
}

TEST(ComplianceTest, DkimSignatureRequiredAlignedAndCoveringTheListHeaders) {
  const std::string unsigned_mail = Edit("DKIM-Signature");
  EXPECT_THAT(Symbols(unsigned_mail), IsEmpty());  // not required by default
  EXPECT_THAT(Symbols(unsigned_mail, kMarketing, {.enabled = true, .require_dkim_signature = true}),
              ElementsAre("BULK_NO_DKIM_SIGNATURE"));
  const std::string other_d = Edit("DKIM-Signature",
                                   "DKIM-Signature: v=1; d=esp.example; s=s;\r\n"
                                   " h=from:list-unsubscribe:list-unsubscribe-post; b=y\r\n");
  EXPECT_THAT(Symbols(other_d), ElementsAre("BULK_DKIM_NOT_ALIGNED"));
  const std::string uncovered =
      Edit("DKIM-Signature", "DKIM-Signature: v=1; d=shop.example; s=s; h=from:subject:list-unsubscribe; b=y\r\n");
  EXPECT_THAT(Symbols(uncovered), ElementsAre("BULK_DKIM_UNSUB_UNSIGNED"));
}

TEST(ComplianceTest, Rfc5322Basics) {
  EXPECT_THAT(Symbols(Edit("Message-ID")), ElementsAre("BULK_NO_MESSAGE_ID"));
  EXPECT_THAT(Symbols(Edit("Date")), ElementsAre("BULK_NO_DATE"));
  EXPECT_THAT(Symbols(Edit("", "From: other@shop.example\r\n")), ElementsAre("BULK_NOT_ONE_FROM"));
  EXPECT_THAT(Symbols(Edit("From")), ElementsAre("BULK_NOT_ONE_FROM"));
}

ScorerOptions GateOptions(bool reject) {
  ScorerOptions o;
  o.compliance = {.enabled = true, .reject = reject};
  o.reject_score = 10;
  return o;
}

TEST(ComplianceScorerTest, RejectModeRefusesNamingTheRequirement) {
  const Message m = SplitRawMessage(Edit("List-Unsubscribe"));
  ContentResult r = Scorer(GateOptions(true)).Score(m, {.sender = "a@shop.example", .message_class = "marketing"});
  EXPECT_EQ(r.action, ContentAction::kReject);
  EXPECT_DOUBLE_EQ(r.score, 5);  // below reject_score: the gate decides
  EXPECT_THAT(r.refusal, HasSubstr("List-Unsubscribe header with an https: or mailto: URI (BULK_NO_LIST_UNSUBSCRIBE)"));

  r = Scorer(GateOptions(true)).Score(SplitRawMessage(kCompliant), kMarketing);
  EXPECT_EQ(r.action, ContentAction::kContinue);
  EXPECT_TRUE(r.refusal.empty());
  EXPECT_TRUE(r.hits.empty());
}

TEST(ComplianceScorerTest, SeveralFailuresAreAllListed) {
  std::string raw = Edit("Message-ID");
  raw.erase(raw.find("List-Unsubscribe-Post:"), std::string("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n").size());
  ContentResult r = Scorer(GateOptions(true)).Score(SplitRawMessage(raw), kMarketing);
  EXPECT_EQ(r.action, ContentAction::kReject);
  EXPECT_THAT(r.refusal, HasSubstr("(BULK_NO_ONE_CLICK_POST); also BULK_NO_MESSAGE_ID"));
}

TEST(ComplianceScorerTest, ScoreModeAndZeroWeightsNeverRefuse) {
  const Message m = SplitRawMessage(Edit("List-Unsubscribe"));
  ContentResult r = Scorer(GateOptions(false)).Score(m, kMarketing);
  EXPECT_EQ(r.action, ContentAction::kContinue);
  EXPECT_DOUBLE_EQ(r.score, 5);
  ASSERT_EQ(r.hits.size(), 1u);
  EXPECT_EQ(r.hits[0].rule, "BULK_NO_LIST_UNSUBSCRIBE");

  ScorerOptions o = GateOptions(true);
  o.symbol_weights["BULK_NO_LIST_UNSUBSCRIBE"] = 0;
  r = Scorer(o).Score(m, kMarketing);
  EXPECT_EQ(r.action, ContentAction::kContinue);
  ASSERT_EQ(r.hits.size(), 1u);  // still reported, as a fact

  // The marker fact weighs nothing and refuses nothing by itself.
  r = Scorer(GateOptions(true)).Score(SplitRawMessage(Edit("", "Precedence: list\r\n")), {.sender = "a@shop.example"});
  EXPECT_EQ(r.action, ContentAction::kContinue);
  ASSERT_EQ(r.hits.size(), 1u);
  EXPECT_EQ(r.hits[0].rule, "BULK_BY_MARKER");
}

}  // namespace
}  // namespace hive::policy::content
