// The content section of the policy config: new fields compile into a
// working scorer; every mistake is reported as file:line:col + field path.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/snapshot.h"
#include "dns/loopback_dns_server.h"

namespace hive::policy::config {
namespace {

using ::testing::HasSubstr;

std::string Errors(const std::string& yaml) {
  absl::StatusOr<SnapshotPtr> s = LoadSnapshotFromText(yaml, "p.yaml");
  return s.ok() ? "" : std::string(s.status().message());
}

constexpr char kGood[] = R"(content:
  rules:
    - {name: ZH_INVOICE, target: body, regex: "代开发票", weight: 6}
    - {name: EXE_NAME, target: attachment, regex: "(?i)\\.exe$", weight: 1}
    - {name: RU_LINK, target: url, regex: "\\.ru/", weight: 1}
  metas:
    - {name: INVOICE_HTML, expression: "ZH_INVOICE && HTML_ONLY", weight: 3}
  checks:
    enabled: true
    weights: [{name: HTML_ONLY, weight: 1.5}]
    url_shorteners: [s.example]
    many_recipients: 20
  parse_limits:
    max_depth: 4
    decode_timeout: 250ms
    fallback_charset: gbk
  reject_score: 10
)";

TEST(ContentConfigTest, NewFieldsCompileIntoTheScorer) {
  absl::StatusOr<SnapshotPtr> s = LoadSnapshotFromText(kGood, "p.yaml");
  ASSERT_TRUE(s.ok()) << s.status();
  const content::Scorer& scorer = (*s)->content;
  EXPECT_EQ(scorer.limits().max_depth, 4);
  EXPECT_EQ(scorer.limits().max_decode_time, std::chrono::milliseconds(250));
  content::Message m = content::SplitRawMessage(
      "From: a@x.example\r\nDate: Mon, 3 Jun 2024 10:00:00 +0800\r\nMessage-ID: <1@x.example>\r\n"
      "Content-Type: text/html; charset=gb2312\r\n\r\n<p>\xB4\xFA\xBF\xAA\xB7\xA2\xC6\xB1</p>\r\n");
  content::ContentResult r = scorer.Score(m, content::Envelope{.sender = "a@x.example"});
  EXPECT_DOUBLE_EQ(r.score, 10.5);  // ZH_INVOICE 6 + INVOICE_HTML 3 + HTML_ONLY 1.5
  EXPECT_EQ(r.action, content::ContentAction::kReject);
}

TEST(ContentConfigTest, MistakesNameFileLineColumnAndField) {
  EXPECT_THAT(Errors("content:\n  rules:\n    - {name: A, target: urls, regex: x, weight: 1}\n"),
              HasSubstr("p.yaml:3:25: content.rules[0].target: 'urls' is not a target"));
  EXPECT_THAT(Errors("content:\n  metas:\n    - name: M\n      expression: \"A && (B\"\n"),
              HasSubstr("p.yaml:4:19: content.metas[0].expression: unknown symbol 'A'"));
  EXPECT_THAT(Errors("content:\n  rules:\n    - {name: A, target: body, regex: x, weight: 1}\n"
                     "  metas:\n    - {name: M, expression: \"A && (HTML_ONLY\", weight: 1}\n"),
              HasSubstr("content.metas[0].expression: missing ')'"));
  EXPECT_THAT(Errors("content:\n  metas:\n    - {name: M, expression: \"M\", weight: 1}\n"),
              HasSubstr("unknown symbol 'M'"));  // no self reference, so no cycles
  EXPECT_THAT(Errors("content:\n  checks:\n    weights:\n      - {name: NOT_A_CHECK, weight: 1}\n"),
              HasSubstr("p.yaml:4:16: content.checks.weights[0].name: 'NOT_A_CHECK' is not a built-in symbol"));
  EXPECT_THAT(Errors("content:\n  rules:\n    - {name: HTML_ONLY, target: body, regex: x, weight: 1}\n"),
              HasSubstr("content.rules[0].name: 'HTML_ONLY' is a built-in symbol"));
  EXPECT_THAT(Errors("content:\n  parse_limits:\n    max_depth: 1000\n"),
              HasSubstr("p.yaml:3:16: content.parse_limits.max_depth: must be at most 64"));
  EXPECT_THAT(Errors("content:\n  parse_limits:\n    fallback_charset: ../../evil\n"),
              HasSubstr("content.parse_limits.fallback_charset: '../../evil' is not a supported charset"));
  EXPECT_THAT(Errors("content:\n  checks:\n    url_shorteners: [\"http://bit.ly/\"]\n"),
              HasSubstr("content.checks.url_shorteners[0]: must be a host name"));
}

TEST(ContentConfigTest, TheModelAndTheFingerprintsInRedisNeedTheRedisStoreAndTheirPartEnabled) {
  absl::StatusOr<SnapshotPtr> shared = LoadSnapshotFromText(
      "ratelimit: {store: {kind: redis, redis: {address: \"127.0.0.1:6379\"}}}\n"
      "content: {bayes: {enabled: true, model_in_redis: true}}\n",
      "p.yaml");
  ASSERT_TRUE(shared.ok()) << shared.status();
  EXPECT_TRUE((*shared)->limit_store.bayes_in_redis);
  absl::StatusOr<SnapshotPtr> memory =
      LoadSnapshotFromText("content: {bayes: {enabled: true, model_in_redis: true}}\n", "p.yaml");
  ASSERT_FALSE(memory.ok());
  EXPECT_THAT(std::string(memory.status().message()),
              HasSubstr("content.bayes.model_in_redis: needs ratelimit.store.kind: redis"));
  absl::StatusOr<SnapshotPtr> off = LoadSnapshotFromText(
      "ratelimit: {store: {kind: redis, redis: {address: \"127.0.0.1:6379\"}}}\n"
      "content: {bayes: {model_in_redis: true}}\n",
      "p.yaml");
  ASSERT_FALSE(off.ok());
  EXPECT_THAT(std::string(off.status().message()), HasSubstr("content.bayes.enabled is not"));
  absl::StatusOr<SnapshotPtr> list = LoadSnapshotFromText(
      "ratelimit: {store: {kind: redis, redis: {address: \"127.0.0.1:6379\"}}}\n"
      "content: {fingerprints: {enabled: true, list_in_redis: true}}\n",
      "p.yaml");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_TRUE((*list)->limit_store.fingerprints_in_redis);
  EXPECT_FALSE((*list)->limit_store.bayes_in_redis);
  EXPECT_THAT(Errors("content: {fingerprints: {enabled: true, list_in_redis: true}}\n"),
              HasSubstr("content.fingerprints.list_in_redis: needs ratelimit.store.kind: redis"));
}

TEST(ContentConfigTest, ClassThresholdsReplaceTheDefaultsForTheirClassOnly) {
  absl::StatusOr<SnapshotPtr> s = LoadSnapshotFromText(R"(content:
  rules:
    - {name: PROMO, target: body, regex: "(?i)sale", weight: 4}
  reject_score: 10
  quarantine_score: 6
  class_thresholds:
    - {message_class: Transactional, reject_score: 3}
    - {message_class: marketing, reject_score: 12, quarantine_score: 4}
)", "p.yaml");
  ASSERT_TRUE(s.ok()) << s.status();
  const content::Message m = content::SplitRawMessage("From: a@x.example\r\n\r\nSale today\r\n");
  auto action = [&](const std::string& cls) { return (*s)->content.Score(m, {.message_class = cls}).action; };
  EXPECT_EQ(action(""), content::ContentAction::kContinue);  // 4 < 6 < 10
  EXPECT_EQ(action("transactional"), content::ContentAction::kReject);  // 4 >= 3
  EXPECT_EQ(action("marketing"), content::ContentAction::kQuarantine);  // 4 < 12, >= 4
  EXPECT_EQ(action("bulk"), content::ContentAction::kContinue);  // no thresholds of its own

  EXPECT_THAT(Errors("content:\n  class_thresholds:\n    - {message_class: \"\", reject_score: 1}\n"),
              HasSubstr("content.class_thresholds[0].message_class: must not be empty"));
  EXPECT_THAT(Errors("content:\n  class_thresholds:\n    - {message_class: a}\n    - {message_class: A}\n"),
              HasSubstr("content.class_thresholds[1].message_class: 'a' is given twice"));
  EXPECT_THAT(Errors("content:\n  class_thresholds:\n    - {message_class: a, reject_score: -1}\n"),
              HasSubstr("content.class_thresholds[0].reject_score: must not be negative"));
  EXPECT_THAT(Errors("content:\n  class_thresholds:\n    - {message_class: a, reject_score: 2, quarantine_score: 3}\n"),
              HasSubstr("content.class_thresholds[0].quarantine_score: must be below reject_score"));
}

TEST(ContentConfigTest, SenderClassesGiveAClassWhenTheHeaderIsAbsent) {
  absl::StatusOr<SnapshotPtr> s = LoadSnapshotFromText(R"(ratelimit:
  class_header: X-Mail-Class
  sender_classes:
    - {match: {sasl_user: [otp-service]}, message_class: Transactional}
    - {match: {sender_domain: [news.shop.example]}, message_class: marketing}
)", "p.yaml");
  ASSERT_TRUE(s.ok()) << s.status();
  match::Facts otp = match::MakeFacts("codes@shop.example", "otp-service", "192.0.2.1");
  EXPECT_EQ(MessageClassOf(**s, otp), "transactional");
  match::Facts news = match::MakeFacts("weekly@news.shop.example", "", "192.0.2.1");
  EXPECT_EQ(MessageClassOf(**s, news), "marketing");
  match::AddHeader(news, "X-Mail-Class", "Bulk");
  EXPECT_EQ(MessageClassOf(**s, news), "bulk");  // the header wins
  EXPECT_EQ(MessageClassOf(**s, match::MakeFacts("a@other.example", "", "")), "");

  EXPECT_THAT(Errors("ratelimit:\n  sender_classes:\n    - {match: {message_class: [x]}, message_class: y}\n"),
              HasSubstr("ratelimit.sender_classes[0].match: cannot use message_class or pool"));
  EXPECT_THAT(Errors("ratelimit:\n  sender_classes:\n    - {match: {sender: [\"*@a.example\"]}}\n"),
              HasSubstr("ratelimit.sender_classes[0].message_class: is required"));
}

// reject, then tempfail, then quarantine: the first reached applies, and
// each set threshold must be below the one tried before it.
TEST(ContentConfigTest, TempfailScoreIsABandBetweenQuarantineAndReject) {
  absl::StatusOr<SnapshotPtr> s = LoadSnapshotFromText(R"(content:
  rules:
    - {name: PROMO, target: body, regex: "(?i)sale", weight: 4}
    - {name: URGENT, target: body, regex: "(?i)now", weight: 3}
  reject_score: 10
  tempfail_score: 6
  quarantine_score: 3
  class_thresholds:
    - {message_class: transactional, reject_score: 12, tempfail_score: 8}
)", "p.yaml");
  ASSERT_TRUE(s.ok()) << s.status();
  auto action = [&](const std::string& body, const std::string& cls = "") {
    return (*s)->content.Score(content::SplitRawMessage("From: a@x.example\r\n\r\n" + body + "\r\n"),
                               {.message_class = cls})
        .action;
  };
  EXPECT_EQ(action("Sale now"), content::ContentAction::kTempfail);  // 7: >= 6, < 10
  EXPECT_EQ(action("Sale"), content::ContentAction::kQuarantine);    // 4: >= 3, < 6
  EXPECT_EQ(action("Now"), content::ContentAction::kQuarantine);     // 3
  EXPECT_EQ(action("Hello"), content::ContentAction::kContinue);
  EXPECT_EQ(action("Sale now", "transactional"), content::ContentAction::kContinue);  // 7 < 8, no quarantine

  // X-Hive-Score: delivered mail at or above add_header_score only.
  absl::StatusOr<SnapshotPtr> h = LoadSnapshotFromText(R"(content:
  rules:
    - {name: PROMO, target: body, regex: "(?i)sale", weight: 4}
    - {name: URGENT, target: body, regex: "(?i)now", weight: 3}
  reject_score: 10
  tempfail_score: 6
  add_header_score: 4
)", "p.yaml");
  ASSERT_TRUE(h.ok()) << h.status();
  auto header = [&](const std::string& body) {
    return (*h)->content.Score(content::SplitRawMessage("From: a@x.example\r\n\r\n" + body + "\r\n")).add_header;
  };
  EXPECT_TRUE(header("Sale"));       // 4, delivered
  EXPECT_FALSE(header("Now"));       // 3
  EXPECT_FALSE(header("Sale now"));  // 7: refused for now, not delivered

  EXPECT_THAT(Errors("content:\n  reject_score: 5\n  tempfail_score: 5\n"),
              HasSubstr("content.tempfail_score: must be below reject_score"));
  EXPECT_THAT(Errors("content:\n  tempfail_score: 4\n  quarantine_score: 6\n"),
              HasSubstr("content.quarantine_score: must be below tempfail_score"));
  EXPECT_THAT(Errors("content:\n  class_thresholds:\n    - {message_class: a, tempfail_score: -2}\n"),
              HasSubstr("content.class_thresholds[0].tempfail_score: must not be negative"));
}

TEST(ContentConfigTest, ComplianceGateCompilesAndItsMistakesAreNamed) {
  absl::StatusOr<SnapshotPtr> s = LoadSnapshotFromText(R"(content:
  compliance:
    enabled: true
    classes: [Newsletter]
    require_dkim_signature: true
    action: score
    weights: [{name: BULK_NO_DKIM_SIGNATURE, weight: 1.5}]
  metas:
    - {name: UNSIGNED_NEWS, expression: "BULK_NO_DKIM_SIGNATURE && BULK_NO_LIST_UNSUBSCRIBE", weight: 1}
)", "p.yaml");
  ASSERT_TRUE(s.ok()) << s.status();
  const content::Message m = content::SplitRawMessage(
      "From: a@x.example\r\nDate: Mon, 3 Jun 2024 10:00:00 +0800\r\nMessage-ID: <1@x.example>\r\n\r\nhi\r\n");
  content::ContentResult r = (*s)->content.Score(m, {.sender = "a@x.example", .message_class = "newsletter"});
  EXPECT_DOUBLE_EQ(r.score, 7.5);  // BULK_NO_LIST_UNSUBSCRIBE 5 + BULK_NO_DKIM_SIGNATURE 1.5 + meta 1
  EXPECT_EQ(r.action, content::ContentAction::kContinue);  // score only
  r = (*s)->content.Score(m, {.sender = "a@x.example", .message_class = "marketing"});
  EXPECT_DOUBLE_EQ(r.score, 0);  // not a gated class here

  EXPECT_THAT(Errors("content:\n  compliance:\n    weights:\n      - {name: HTML_ONLY, weight: 1}\n"),
              HasSubstr("p.yaml:4:16: content.compliance.weights[0].name: 'HTML_ONLY' is not a compliance symbol"));
  EXPECT_THAT(Errors("content:\n  compliance:\n    weights:\n      - {name: BULK_NO_DATE, weight: -1}\n"),
              HasSubstr("content.compliance.weights[0].weight: must not be negative"));
  EXPECT_THAT(Errors("content:\n  checks:\n    weights:\n      - {name: BULK_NO_DATE, weight: 1}\n"),
              HasSubstr("content.checks.weights[0].name: 'BULK_NO_DATE' is not a built-in symbol"));
  EXPECT_THAT(Errors("content:\n  compliance:\n    classes: [\"\"]\n"),
              HasSubstr("content.compliance.classes[0]: must not be empty"));
  EXPECT_THAT(Errors("content:\n  compliance:\n    action: bounce\n"), HasSubstr("p.yaml:3:13"));
  EXPECT_THAT(Errors("content:\n  rules:\n    - {name: BULK_NO_DATE, target: body, regex: x, weight: 1}\n"),
              HasSubstr("'BULK_NO_DATE' is a built-in symbol"));
}

TEST(ContentConfigTest, DnsListsCompileAndTheirMistakesAreNamed) {
  hive::testing::LoopbackDnsServer dns;
  dns.Add("shop.example.dbl.test", {0x7f000102});
  absl::StatusOr<SnapshotPtr> s = LoadSnapshotFromText(R"(content:
  dns_lists:
    enabled: true
    servers: [")" + dns.address() + R"("]
    deadline: 800ms
    cache: {max_entries: 100, negative_ttl: 1m}
    zones:
      - {symbol: DBL, zone: DBL.Test., target: url, weight: 1,
         returns: [{address: 127.0.1.2, symbol: DBL_SPAM, weight: 6}, {bitmask: 0.0.0.8, symbol: DBL_PH}]}
  metas:
    - {name: SPAMMY_LINK, expression: "DBL_SPAM && !DNS_TIMEOUT", weight: 1}
)", "p.yaml");
  ASSERT_TRUE(s.ok()) << s.status();
  content::Message m;
  m.headers = {{"From", "a@shop.example"}};
  m.body = "https://www.shop.example/x\r\n";
  content::ContentResult r = (*s)->content.Score(m, {});
  EXPECT_DOUBLE_EQ(r.score, 7);  // DBL_SPAM 6 + SPAMMY_LINK 1
  EXPECT_EQ(dns.queries_for("shop.example.dbl.test"), 1);
  (*s)->content.Score(m, {});
  EXPECT_EQ(dns.queries_for("shop.example.dbl.test"), 1);  // cached

  const std::string zone = "content:\n  dns_lists:\n    enabled: true\n    zones:\n      - ";
  EXPECT_THAT(Errors(zone + "{symbol: A, zone: \"bad zone\", target: url}\n"),
              HasSubstr("p.yaml:5:"));
  EXPECT_THAT(Errors(zone + "{symbol: A, zone: \"bad zone\", target: url}\n"),
              HasSubstr("content.dns_lists.zones[0].zone: must be a DNS zone"));
  EXPECT_THAT(Errors(zone + "{symbol: A, zone: z.test, target: sender}\n"),
              HasSubstr("content.dns_lists.zones[0].target: must be url or client_ip"));
  EXPECT_THAT(Errors(zone + "{symbol: HTML_ONLY, zone: z.test, target: url}\n"),
              HasSubstr("content.dns_lists.zones[0].symbol: 'HTML_ONLY' is a built-in symbol"));
  EXPECT_THAT(Errors(zone + "{symbol: A, zone: z.test, target: url, returns: [{address: 127.0.0.2, bitmask: 0.0.0.2}]}\n"),
              HasSubstr("content.dns_lists.zones[0].returns[0]: give one of address"));
  EXPECT_THAT(Errors(zone + "{symbol: A, zone: z.test, target: url, returns: [{address: 127.0.0.x}]}\n"),
              HasSubstr("content.dns_lists.zones[0].returns[0].address: must be an IPv4 address"));
  EXPECT_THAT(Errors(zone + "{symbol: A, zone: z.test, target: url}\n    deadline: 10s\n"),
              HasSubstr("content.dns_lists.deadline: must be between 1ms and 5s"));
  EXPECT_THAT(Errors(zone + "{symbol: A, zone: z.test, target: url}\n    servers: [\"not an address\"]\n"),
              HasSubstr("content.dns_lists.servers: DNS servers 'not an address'"));
  EXPECT_THAT(Errors("content:\n  dns_lists:\n    enabled: true\n"),
              HasSubstr("content.dns_lists.zones: at least one zone is needed"));
}

}  // namespace
}  // namespace hive::policy::config
