// Content scoring through the real path (MTA -> hive-milter -> hive-policyd):
// a Chinese spam in GB18030 HTML with an RFC 2047 subject is refused with
// 550 5.7.1, a multipart ham passes, and a message over a parse limit gets a
// clear permanent decision (never a 4xx the client would retry forever);
// a Bayes classifier trained on the hand-made fixtures of tests/data/bayes
// refuses a spam that no rule catches, and a near-duplicate of a known-bad
// fingerprint is refused; a marketing message without List-Unsubscribe is
// refused by the bulk-sender compliance gate naming the requirement, while a
// compliant one and a transactional one pass; a URL domain listed by a DNS
// list served on loopback is refused and a dead DNS server costs only its
// deadline. Runs on every MTA.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "absl/strings/escaping.h"
#include "content/classifier.h"
#include "content/fingerprint.h"
#include "content/tokenizer.h"
#include "dns/loopback_dns_server.h"
#include "harness/hive_stack.h"
#include "harness/rbldnsd.h"
#include "harness/smtp_client.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace content = hive::policy::content;

constexpr auto kDeliveryTimeout = std::chrono::seconds(20);

// The rules are written in UTF-8; the mail carries GB18030.
constexpr char kPolicy[] = R"(
content:
  rules:
    - {name: ZH_INVOICE, target: body, regex: "代开发票", weight: 6}
    - {name: ZH_SUBJ_FREE, target: subject, regex: "免费", weight: 3}
  metas:
    - {name: ZH_INVOICE_HTML, expression: "ZH_INVOICE && HTML_ONLY", weight: 2}
  checks:
    enabled: true
    weights: [{name: MIME_LIMIT_DEPTH, weight: 20}]
  parse_limits: {max_depth: 3}
  reject_score: 10
)";

class ContentEndToEndTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { stack_ = std::make_unique<HiveStack>(StackOptions{.mta = GetParam(), .policy_yaml = kPolicy}); }
  std::unique_ptr<HiveStack> stack_;
};

TEST_P(ContentEndToEndTest, Gb18030SpamIsRefusedWhileMultipartHamPasses) {
  // Subject "免费 offer" (GB2312 in an RFC 2047 word); body "本公司代开发票，欢迎来电"
  // as GB18030 HTML in base64.
  const std::string spam = MakeMessage(
      "promo@spam.example", "bob@dest.example", "=?gb2312?B?w+K30Q==?= offer",
      "PGh0bWw+PGJvZHk+PHA+sb65q8u+tPq/qreixrGjrLu2063AtLXnPC9wPjwvYm9keT48L2h0bWw+",
      {"MIME-Version: 1.0", "Content-Type: text/html; charset=GB18030", "Content-Transfer-Encoding: base64"});
  Transaction t = SendMail(stack_->smtp_port(), "promo@spam.example", {"bob@dest.example"}, spam);
  EXPECT_EQ(t.data.code, 550) << t.data.ToString() << stack_->Diagnostics();
  EXPECT_THAT(t.data.ToString(), HasSubstr("5.7.1"));
  EXPECT_THAT(t.data.ToString(), HasSubstr("ZH_INVOICE"));

  const std::string ham = MakeMessage(
      "orders@shop.example", "bob@dest.example", "=?utf-8?B?6K6i5Y2VIDIwMDE=?=",  // "订单 2001"
      "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYour order 2001 has shipped.\r\n"
      "--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Your order 2001 has shipped.</p>\r\n"
      "--b1\r\nContent-Type: application/pdf; name=\"invoice.pdf\"\r\nContent-Disposition: attachment; "
      "filename*=utf-8''%E5%8F%91%E7%A5%A8.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n",
      {"MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=\"b1\""});
  t = SendMail(stack_->smtp_port(), "orders@shop.example", {"bob@dest.example"}, ham);
  ASSERT_EQ(t.data.code, 250) << t.data.ToString() << stack_->Diagnostics();
  EXPECT_THAT(stack_->sink().WaitForMessageContaining("Your order 2001 has shipped", kDeliveryTimeout),
              HasSubstr("invoice.pdf"));
}

TEST_P(ContentEndToEndTest, MessageOverAParseLimitGetsAPermanentVerdict) {
  std::string body;
  std::string tail;
  for (int i = 0; i < 6; ++i) {
    body += "--n" + std::to_string(i) + "\r\nContent-Type: multipart/mixed; boundary=\"n" + std::to_string(i + 1) +
            "\"\r\n\r\n";
    tail = "--n" + std::to_string(i) + "--\r\n" + tail;
  }
  body += "--n6\r\nContent-Type: text/plain\r\n\r\nnested too deep\r\n--n6--\r\n" + tail;
  const std::string deep = MakeMessage("a@deep.example", "bob@dest.example", "deep", body,
                                       {"MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=\"n0\""});
  Transaction t = SendMail(stack_->smtp_port(), "a@deep.example", {"bob@dest.example"}, deep);
  EXPECT_EQ(t.data.code, 550) << t.data.ToString() << stack_->Diagnostics();
  EXPECT_THAT(t.data.ToString(), HasSubstr("MIME_LIMIT_DEPTH"));
}

// Learned signals: the model and the known-bad list are written before the
// stack starts, as an operator would with hive-content-learn, and
// hive-policyd loads them from its config.
class LearnedContentEndToEndTest : public ::testing::TestWithParam<std::string> {
 protected:
  static constexpr char kCampaign[] =
      "Dear customer Alice Smith, your parcel 4471 is waiting at our depot. To arrange the delivery "
      "please confirm your address and pay the customs fee of 2 dollars at our secure portal within "
      "24 hours, otherwise the parcel is returned to the sender. Reference 99812, agent Mark.";

  void SetUp() override {
    const std::string base = ::testing::TempDir() + "/learned-e2e." + std::to_string(::getpid());
    db_ = base + ".db";
    fps_ = base + ".fps";
    // As `hive-content-learn --passes 10` would: sixteen messages are few,
    // and every pass over them sharpens the model.
    auto classifier = *content::Classifier::Open("", {.min_learns = 8});
    std::vector<content::LabelledFeatures> batch;
    for (int i = 1; i <= 8; ++i) {
      for (bool spam : {true, false}) {
        content::Tokens t;
        classifier->Features(content::Parse(Fixture((spam ? "spam-" : "ham-") + std::to_string(i) + ".eml")), t);
        batch.push_back({std::move(t.features), spam});
      }
    }
    classifier->Train(batch, 10);
    ASSERT_TRUE(classifier->SaveTo(db_).ok());
    std::vector<std::uint64_t> tokens;
    content::TokenizeText(kCampaign, tokens);
    char line[64];
    std::snprintf(line, sizeof line, "%016llx parcel-scam\n",
                  static_cast<unsigned long long>(content::SimHash(tokens, 20).value()));
    std::ofstream(fps_) << line;
    const std::string policy = R"(
content:
  rules:
    - {name: ZH_INVOICE, target: body, regex: "代开发票", weight: 6}
  bayes: {enabled: true, stats_db: )" + db_ + R"(, min_learns: 8}
  fingerprints: {enabled: true, store: )" + fps_ + R"(, max_distance: 12}
  reject_score: 5
)";
    stack_ = std::make_unique<HiveStack>(StackOptions{.mta = GetParam(), .policy_yaml = policy});
  }
  void TearDown() override {
    stack_.reset();
    std::remove(db_.c_str());
    std::remove(fps_.c_str());
  }
  static content::Message Fixture(const std::string& name) {
    std::ifstream in(std::string(HIVE_TEST_DATA_DIR) + "/bayes/" + name, std::ios::binary);
    return content::SplitRawMessage(std::string(std::istreambuf_iterator<char>(in), {}));
  }
  static std::string Utf8Message(const std::string& from, const std::string& subject, const std::string& text) {
    return MakeMessage(from, "bob@dest.example", subject, absl::Base64Escape(text),
                       {"MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
                        "Content-Transfer-Encoding: base64"});
  }

  std::string db_, fps_;
  std::unique_ptr<HiveStack> stack_;
};

TEST_P(LearnedContentEndToEndTest, TrainedClassifierRefusesSpamNoRuleCatches) {
  // No sentence of the training set, and not "代开发票": only learned tokens.
  const std::string spam = Utf8Message("sales@promo.example", "特价",
                                       "增值税发票点数优惠，欢迎来电咨询王经理。课程名额有限，报名从速，机会难得，商机无限。");
  Transaction t = SendMail(stack_->smtp_port(), "sales@promo.example", {"bob@dest.example"}, spam);
  EXPECT_EQ(t.data.code, 550) << t.data.ToString() << stack_->Diagnostics();
  EXPECT_THAT(t.data.ToString(), HasSubstr("BAYES_SPAM"));

  const std::string ham = Utf8Message("dev@team.example", "组会",
                                      "下周组会讨论测试报告和项目进度，请准时参加，地点在三楼会议室。");
  t = SendMail(stack_->smtp_port(), "dev@team.example", {"bob@dest.example"}, ham);
  ASSERT_EQ(t.data.code, 250) << t.data.ToString() << stack_->Diagnostics();
}

TEST_P(LearnedContentEndToEndTest, NearDuplicateOfAKnownBadFingerprintIsRefused) {
  // The same campaign to another person: other name, numbers and agent (4
  // of 53 tokens differ: 10 bits of 64 apart, unrelated text is ~32 apart;
  // a text this short needs a wider max_distance than the default 6).
  const std::string variant =
      "Dear customer Bob Jones, your parcel 8120 is waiting at our depot. To arrange the delivery "
      "please confirm your address and pay the customs fee of 3 dollars at our secure portal within "
      "48 hours, otherwise the parcel is returned to the sender. Reference 12345, agent Lucy.";
  Transaction t = SendMail(stack_->smtp_port(), "notice@parcel.example", {"bob@dest.example"},
                           Utf8Message("notice@parcel.example", "Your parcel", variant));
  EXPECT_EQ(t.data.code, 550) << t.data.ToString() << stack_->Diagnostics();
  EXPECT_THAT(t.data.ToString(), HasSubstr("FINGERPRINT_BAD"));
}

// The bulk-sender compliance gate: the class comes from the rate limiter's
// class header, as an EDM platform's injector would set it.
class ComplianceEndToEndTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    stack_ = std::make_unique<HiveStack>(StackOptions{.mta = GetParam(), .policy_yaml = R"(
ratelimit: {class_header: X-Hive-Class}
content:
  compliance: {enabled: true, classes: [marketing]}
  reject_score: 10
)"});
  }
  std::unique_ptr<HiveStack> stack_;
};

TEST_P(ComplianceEndToEndTest, MarketingMailWithoutListUnsubscribeIsRefusedCompliantMailPasses) {
  const std::string bare = MakeMessage("news@shop.example", "bob@dest.example", "Spring sale",
                                       "20% off everything this week.", {"X-Hive-Class: Marketing"});
  Transaction t = SendMail(stack_->smtp_port(), "news@shop.example", {"bob@dest.example"}, bare);
  EXPECT_EQ(t.data.code, 550) << t.data.ToString() << stack_->Diagnostics();
  EXPECT_THAT(t.data.ToString(), HasSubstr("5.7.1"));
  EXPECT_THAT(t.data.ToString(), HasSubstr("List-Unsubscribe"));
  EXPECT_THAT(t.data.ToString(), HasSubstr("BULK_NO_LIST_UNSUBSCRIBE"));

  // The same mail as a receipt is not gated.
  const std::string receipt = MakeMessage("news@shop.example", "bob@dest.example", "Receipt 2001",
                                          "Your order 2001 has shipped.", {"X-Hive-Class: transactional"});
  t = SendMail(stack_->smtp_port(), "news@shop.example", {"bob@dest.example"}, receipt);
  ASSERT_EQ(t.data.code, 250) << t.data.ToString() << stack_->Diagnostics();

  const std::string compliant = MakeMessage(
      "news@shop.example", "bob@dest.example", "Spring sale", "20% off, compliant edition.",
      {"X-Hive-Class: marketing", "List-Unsubscribe: <https://shop.example/u/7>, <mailto:u@shop.example>",
       "List-Unsubscribe-Post: List-Unsubscribe=One-Click"});
  t = SendMail(stack_->smtp_port(), "news@shop.example", {"bob@dest.example"}, compliant);
  ASSERT_EQ(t.data.code, 250) << t.data.ToString() << stack_->Diagnostics();
  EXPECT_THAT(stack_->sink().WaitForMessageContaining("compliant edition", kDeliveryTimeout),
              HasSubstr("List-Unsubscribe-Post"));
}

// Per-class thresholds: the same advert-like text is refused as a
// transactional message (stricter on content) and delivered as marketing.
class ClassThresholdEndToEndTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    stack_ = std::make_unique<HiveStack>(StackOptions{.mta = GetParam(), .policy_yaml = R"(
ratelimit:
  class_header: X-Hive-Class
  sender_classes:
    - {match: {sender_domain: [receipts.example]}, message_class: transactional}
content:
  rules:
    - {name: PROMO_WORDS, target: body, regex: "(?i)limited offer", weight: 4}
    - {name: URGENCY, target: body, regex: "(?i)act now", weight: 3}
  reject_score: 10
  tempfail_score: 6
  add_header_score: 3
  class_thresholds:
    - {message_class: transactional, reject_score: 3}
)"});
  }
  std::unique_ptr<HiveStack> stack_;
};

TEST_P(ClassThresholdEndToEndTest, TransactionalMailIsHeldToItsStricterThreshold) {
  const std::string body = "Your order 2001 has shipped. Limited offer: 20% off your next order.";
  Transaction t = SendMail(stack_->smtp_port(), "shop@shop.example", {"bob@dest.example"},
                           MakeMessage("shop@shop.example", "bob@dest.example", "Order 2001", body,
                                       {"X-Hive-Class: transactional"}));
  EXPECT_EQ(t.data.code, 550) << t.data.ToString() << stack_->Diagnostics();
  EXPECT_THAT(t.data.ToString(), HasSubstr("PROMO_WORDS"));

  t = SendMail(stack_->smtp_port(), "shop@shop.example", {"bob@dest.example"},
               MakeMessage("shop@shop.example", "bob@dest.example", "Order 2001", body, {"X-Hive-Class: marketing"}));
  ASSERT_EQ(t.data.code, 250) << t.data.ToString() << stack_->Diagnostics();
  // Without a class: the default threshold.
  t = SendMail(stack_->smtp_port(), "shop@shop.example", {"bob@dest.example"},
               MakeMessage("shop@shop.example", "bob@dest.example", "Order 2001", body, {}));
  ASSERT_EQ(t.data.code, 250) << t.data.ToString() << stack_->Diagnostics();
}

// At add_header_score delivered mail carries X-Hive-Score with its
// symbols; a copy the client forged is removed, also from mail below it.
TEST_P(ClassThresholdEndToEndTest, DeliveredMailCarriesItsScoreAndAForgedScoreHeaderIsRemoved) {
  const std::vector<std::string> headers{"X-Hive-Class: marketing", "X-Hive-Score: 0.00 / -; FORGED_CLEAN(0.00)"};
  Transaction t = SendMail(stack_->smtp_port(), "shop@shop.example", {"bob@dest.example"},
                           MakeMessage("shop@shop.example", "bob@dest.example", "Sale",
                                       "Limited offer: 20% off, this week only.", headers));
  ASSERT_EQ(t.data.code, 250) << t.data.ToString() << stack_->Diagnostics();
  const std::string scored =
      stack_->sink().WaitForMessageContaining("X-Hive-Score: 4.00 / 10.00; PROMO_WORDS(4.00)", std::chrono::seconds(30));
  ASSERT_FALSE(scored.empty()) << stack_->Diagnostics();
  EXPECT_THAT(scored, Not(HasSubstr("FORGED_CLEAN")));

  t = SendMail(stack_->smtp_port(), "shop@shop.example", {"bob@dest.example"},
               MakeMessage("shop@shop.example", "bob@dest.example", "Lunch", "See you at noon, Bob.", headers));
  ASSERT_EQ(t.data.code, 250) << t.data.ToString() << stack_->Diagnostics();
  const std::string clean = stack_->sink().WaitForMessageContaining("See you at noon", std::chrono::seconds(30));
  ASSERT_FALSE(clean.empty()) << stack_->Diagnostics();
  EXPECT_THAT(clean, Not(HasSubstr("X-Hive-Score")));
}

// Without the header, the class comes from the sender's configuration
// (ratelimit.sender_classes); a header, when present, wins.
TEST_P(ClassThresholdEndToEndTest, TheSendersConfiguredClassAppliesWhenTheHeaderIsAbsent) {
  const std::string body = "Your order 2001 has shipped. Limited offer: 20% off your next order.";
  Transaction t = SendMail(stack_->smtp_port(), "orders@receipts.example", {"bob@dest.example"},
                           MakeMessage("orders@receipts.example", "bob@dest.example", "Order 2001", body, {}));
  EXPECT_EQ(t.data.code, 550) << t.data.ToString() << stack_->Diagnostics();  // transactional: 4 >= 3
  t = SendMail(stack_->smtp_port(), "orders@receipts.example", {"bob@dest.example"},
               MakeMessage("orders@receipts.example", "bob@dest.example", "Order 2001", body,
                           {"X-Hive-Class: marketing"}));
  EXPECT_EQ(t.data.code, 250) << t.data.ToString() << stack_->Diagnostics();
}

// Between tempfail_score and reject_score: 451 4.7.1 at the end of DATA,
// so the sender's application keeps the message and retries.
TEST_P(ClassThresholdEndToEndTest, ScoreInTheTempfailBandIsRefusedForNowWithTheSymbols) {
  const std::string body = "Limited offer for our members: act now.";
  Transaction t = SendMail(stack_->smtp_port(), "shop@shop.example", {"bob@dest.example"},
                           MakeMessage("shop@shop.example", "bob@dest.example", "News", body, {}));
  EXPECT_EQ(t.data.code, 451) << t.data.ToString() << stack_->Diagnostics();
  EXPECT_THAT(t.data.ToString(), HasSubstr("4.7.1 Try again later: message held back for its content (score 7.0"));
  EXPECT_THAT(t.data.ToString(), HasSubstr("PROMO_WORDS"));
}

// One campaign pushed through many accounts: a limit keyed on
// {content_hash} counts the template whoever sends it. Each copy carries
// another order number (numbers count by shape), each comes from another
// account; the third is refused. Other content from the same account, and
// short texts (no hash), are not counted.
class CampaignEndToEndTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    stack_ = std::make_unique<HiveStack>(StackOptions{.mta = GetParam(), .policy_yaml = R"(
limits:
  - name: campaign
    key: "{content_hash}"
    cost: messages
    action: reject
    windows:
      - {limit: 2, period: 1h}
)"});
  }
  std::unique_ptr<HiveStack> stack_;
};

TEST_P(CampaignEndToEndTest, TheSameTemplateFromManyAccountsIsCountedAsOne) {
  const auto campaign = [](int order) {
    return "Dear customer, your parcel " + std::to_string(order) +
           " is waiting at our depot. To arrange the delivery please confirm your address and pay the customs "
           "fee at our secure portal within 24 hours, otherwise the parcel is returned to the sender.";
  };
  const auto send = [&](const std::string& from, const std::string& body) {
    return SendMail(stack_->smtp_port(), from, {"bob@dest.example"},
                    MakeMessage(from, "bob@dest.example", "Your parcel", body, {}));
  };
  EXPECT_EQ(send("a1@tenant-a.example", campaign(4471)).data.code, 250) << stack_->Diagnostics();
  EXPECT_EQ(send("b7@tenant-b.example", campaign(8120)).data.code, 250) << stack_->Diagnostics();
  Transaction third = send("c3@tenant-c.example", campaign(9934));
  EXPECT_EQ(third.data.code, 550) << third.data.ToString() << stack_->Diagnostics();
  EXPECT_THAT(third.data.ToString(), HasSubstr("rate limit campaign exceeded"));
  // Other content from the same account goes; so does a short note, which
  // has no content hash (alike by chance), however often.
  EXPECT_EQ(send("c3@tenant-c.example",
                 "Hello Bob, the minutes of Tuesday's meeting are attached; the next one moves to Thursday at ten "
                 "in the usual room, with the budget review first and the hiring plan after it.")
                .data.code,
            250)
      << stack_->Diagnostics();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(send("c3@tenant-c.example", "See you at noon.").data.code, 250) << i;
}

INSTANTIATE_TEST_SUITE_P(Mtas, CampaignEndToEndTest, ::testing::ValuesIn(AllMtas()),
                         [](const ::testing::TestParamInfo<std::string>& mta) { return mta.param; });

INSTANTIATE_TEST_SUITE_P(Mtas, ClassThresholdEndToEndTest, ::testing::ValuesIn(AllMtas()),
                         [](const ::testing::TestParamInfo<std::string>& mta) { return mta.param; });

INSTANTIATE_TEST_SUITE_P(Mtas, ComplianceEndToEndTest, ::testing::ValuesIn(AllMtas()),
                         [](const ::testing::TestParamInfo<std::string>& mta) { return mta.param; });

// A URI list on dbl.test whose 127.0.1.2 answer refuses the message.
std::string DnsListPolicy(const std::string& server) {
  return R"(
content:
  dns_lists:
    enabled: true
    servers: [")" + server + R"("]
    deadline: 400ms
    zones:
      - {symbol: TEST_DBL, zone: dbl.test, target: url, weight: 2,
         returns: [{address: 127.0.1.2, symbol: TEST_DBL_SPAM, weight: 10}]}
  reject_score: 10
)";
}

// DNS lists through the real path: hive-policyd asks a DNS responder this
// test runs on loopback (never the network). A URL whose registered domain
// is listed is refused; a clean one passes; with the server dead, mail still
// passes (the lookup costs at most its deadline) and the decision line
// carries DNS_TIMEOUT.
class DnsListEndToEndTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dns_.Add("listed.example.dbl.test", {0x7f000102});  // 127.0.1.2
    dns_.Add("xn--fsqu00a.xn--fiqs8s.dbl.test", {0x7f000102});  // 例子.中国
    stack_ = std::make_unique<HiveStack>(StackOptions{.mta = GetParam(), .policy_yaml = DnsListPolicy(dns_.address())});
  }
  LoopbackDnsServer dns_;
  std::unique_ptr<HiveStack> stack_;
};

TEST_P(DnsListEndToEndTest, ListedUrlDomainIsRefusedCleanPassesDeadServerTimesOut) {
  const std::string listed = MakeMessage("news@shop.example", "bob@dest.example", "Offer",
                                         "Visit http://www.listed.example/offer today.", {});
  Transaction t = SendMail(stack_->smtp_port(), "news@shop.example", {"bob@dest.example"}, listed);
  EXPECT_EQ(t.data.code, 550) << t.data.ToString() << stack_->Diagnostics();
  EXPECT_THAT(t.data.ToString(), HasSubstr("TEST_DBL_SPAM"));
  EXPECT_EQ(dns_.queries_for("www.listed.example.dbl.test"), 0);  // the registered domain is asked

  // An IDN host is asked in punycode, as the lists hold it.
  const std::string idn = MakeMessage("news@shop.example", "bob@dest.example", "Offer",
                                      absl::Base64Escape("请访问 http://www.例子.中国/offer 了解详情。"),
                                      {"MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
                                       "Content-Transfer-Encoding: base64"});
  t = SendMail(stack_->smtp_port(), "news@shop.example", {"bob@dest.example"}, idn);
  EXPECT_EQ(t.data.code, 550) << t.data.ToString() << stack_->Diagnostics();
  EXPECT_THAT(t.data.ToString(), HasSubstr("TEST_DBL_SPAM"));
  EXPECT_EQ(dns_.queries_for("xn--fsqu00a.xn--fiqs8s.dbl.test"), 1);

  const std::string clean = MakeMessage("news@shop.example", "bob@dest.example", "Offer",
                                        "Visit https://clean.example/ today.", {});
  t = SendMail(stack_->smtp_port(), "news@shop.example", {"bob@dest.example"}, clean);
  ASSERT_EQ(t.data.code, 250) << t.data.ToString() << stack_->Diagnostics();
  EXPECT_EQ(dns_.queries_for("clean.example.dbl.test"), 1);

  // Answers are cached (listed.example would be refused from the cache):
  // a domain never asked before meets the dead server.
  dns_.SetMode(LoopbackDnsServer::Mode::kDrop);
  const std::string unasked = MakeMessage("news@shop.example", "bob@dest.example", "Offer",
                                          "Visit http://never-asked.example/ today.", {});
  const auto start = std::chrono::steady_clock::now();
  t = SendMail(stack_->smtp_port(), "news@shop.example", {"bob@dest.example"}, unasked);
  ASSERT_EQ(t.data.code, 250) << t.data.ToString() << stack_->Diagnostics();  // a fact, not a verdict
  // The whole SMTP transaction, of which the lookup may take 400 ms.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_THAT(stack_->Diagnostics(), HasSubstr("DNS_TIMEOUT"));
}

// The same through Debian's rbldnsd, as DNSBL / URIBL mirrors are served:
// a dnset zone answers the registered domain of a listed URL (and its
// punycode IDN), a clean one is NXDOMAIN; rbldnsd gone, mail still passes
// and the decision line says the lookup failed.
class RbldnsdListEndToEndTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    stack_ = std::make_unique<HiveStack>(
        StackOptions{.mta = GetParam(), .policy_yaml = DnsListPolicy(rbldnsd_.address())});
  }
  Rbldnsd rbldnsd_{{{"dbl.test", "dnset",
                     "listed.example :127.0.1.2:listed for the tests\n"
                     "xn--fsqu00a.xn--fiqs8s :127.0.1.2:an IDN, listed as punycode\n"}}};
  std::unique_ptr<HiveStack> stack_;
};

TEST_P(RbldnsdListEndToEndTest, ListedDomainsAreRefusedCleanPassesAGoneServerIsAFact) {
  const auto send = [&](const std::string& body, const std::vector<std::string>& headers = {}) {
    return SendMail(stack_->smtp_port(), "news@shop.example", {"bob@dest.example"},
                    MakeMessage("news@shop.example", "bob@dest.example", "Offer", body, headers));
  };
  Transaction t = send("Visit http://www.listed.example/offer today.");
  EXPECT_EQ(t.data.code, 550) << t.data.ToString() << stack_->Diagnostics();
  EXPECT_THAT(t.data.ToString(), HasSubstr("TEST_DBL_SPAM"));
  t = send(absl::Base64Escape("请访问 http://www.例子.中国/offer 了解详情。"),
           {"MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64"});
  EXPECT_EQ(t.data.code, 550) << t.data.ToString() << stack_->Diagnostics();
  t = send("Visit https://clean.example/ today.");
  EXPECT_EQ(t.data.code, 250) << t.data.ToString() << stack_->Diagnostics();

  rbldnsd_.Stop();
  t = send("Visit http://never-asked.example/ today.");
  EXPECT_EQ(t.data.code, 250) << t.data.ToString() << stack_->Diagnostics();  // a fact, not a verdict
  const std::string diagnostics = stack_->Diagnostics();
  EXPECT_TRUE(diagnostics.find("DNS_ERROR") != std::string::npos || diagnostics.find("DNS_TIMEOUT") != std::string::npos)
      << diagnostics;
}

INSTANTIATE_TEST_SUITE_P(Mtas, RbldnsdListEndToEndTest, ::testing::ValuesIn(AllMtas()),
                         [](const ::testing::TestParamInfo<std::string>& mta) { return mta.param; });

INSTANTIATE_TEST_SUITE_P(Mtas, DnsListEndToEndTest, ::testing::ValuesIn(AllMtas()),
                         [](const ::testing::TestParamInfo<std::string>& mta) { return mta.param; });

INSTANTIATE_TEST_SUITE_P(Mtas, LearnedContentEndToEndTest, ::testing::ValuesIn(AllMtas()),
                         [](const ::testing::TestParamInfo<std::string>& mta) { return mta.param; });

INSTANTIATE_TEST_SUITE_P(Mtas, ContentEndToEndTest, ::testing::ValuesIn(AllMtas()),
                         [](const ::testing::TestParamInfo<std::string>& mta) { return mta.param; });

}  // namespace
}  // namespace hive::testing
