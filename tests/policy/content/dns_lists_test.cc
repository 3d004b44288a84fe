// DNS lists through the real c-ares resolver and a DNS responder on
// loopback: query names (registered domains, reversed addresses, what is
// never asked), return codes (exact, bitmask, refusals, non-listing
// answers), the per-message cap, DNS_TIMEOUT within the deadline, and the
// symbols in the scorer (weights, metas).
#include "content/dns_lists.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "content/scorer.h"
#include "dns/ares_resolver.h"
#include "dns/loopback_dns_server.h"

namespace hive::policy::content {
namespace {

using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using hive::testing::LoopbackDnsServer;
using namespace std::chrono_literals;

TEST(DnsQueryNameTest, RegisteredDomainsAndReversedAddresses) {
  EXPECT_EQ(UrlQueryName("a.b.shop.example"), "shop.example");
  EXPECT_EQ(UrlQueryName("news.shop.com.cn"), "shop.com.cn");
  EXPECT_EQ(UrlQueryName("shop.example"), "shop.example");
  EXPECT_EQ(UrlQueryName("192.0.2.7"), "7.2.0.192");
  EXPECT_EQ(UrlQueryName("www.例子.中国"), "xn--fsqu00a.xn--fiqs8s");  // IDN: asked in punycode
  EXPECT_EQ(UrlQueryName("www.city.kawasaki.jp"), "city.kawasaki.jp");  // Public Suffix List
  EXPECT_EQ(UrlQueryName("localhost"), "");
  EXPECT_EQ(ClientQueryName("192.0.2.1"), "1.2.0.192");
  EXPECT_EQ(ClientQueryName("::ffff:198.51.100.9"), "9.100.51.198");
  EXPECT_EQ(ClientQueryName("IPv6:2001:db8::1"),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2");
  for (const char* never : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.1.1", "::1", "fe80::1",
                            "fd00::1", "", "not-an-ip"}) {
    EXPECT_EQ(ClientQueryName(never), "") << never;
  }
}

class DnsListsTest : public ::testing::Test {
 protected:
  DnsListsTest() {
    dns_.Add("shop.example.dbl.test", {0x7f000102});       // 127.0.1.2
    dns_.Add("phish.example.dbl.test", {0x7f000104});      // 127.0.1.4
    dns_.Add("shop.example.multi.test", {0x7f00000c});     // bits 8 | 4
    dns_.Add("1.2.0.192.zen.test", {0x7f000002});
    dns_.Add("refused.example.dbl.test", {0x7ffffffe});    // 127.255.255.254
    dns_.Add("wild.example.dbl.test", {0x0a000001});       // 10.0.0.1: not a code
  }
  DnsListOptions Options() {
    DnsListOptions o;
    o.deadline = 1000ms;
    o.zones.push_back({.symbol = "DBL", .zone = "dbl.test", .weight = 1,
                       .returns = {{.address = 0x7f000102, .symbol = "DBL_SPAM", .weight = 6},
                                   {.address = 0x7f000104, .symbol = "DBL_PHISH", .weight = 8}}});
    o.zones.push_back({.symbol = "MULTI", .zone = "multi.test", .weight = 2,
                       .returns = {{.bitmask = 8, .symbol = "MULTI_PH"}, {.bitmask = 2, .symbol = "MULTI_XX"}}});
    o.zones.push_back({.symbol = "ZEN", .zone = "zen.test", .target = DnsZone::Target::kClientIp, .weight = 3});
    return o;
  }
  // c-ares's retry timer beyond every deadline here: only the deadline ends a lookup early.
  DnsLists Lists(DnsListOptions o) {
    return DnsLists(std::move(o), *dns::AresResolver::Create({.servers = {dns_.address()}, .try_timeout = 2s}));
  }
  static ParsedMessage WithUrls(const std::string& text) {
    Message m;
    m.headers = {{"From", "a@shop.example"}, {"Content-Type", "text/plain"}};
    m.body = text + "\r\n";
    return Parse(m);
  }
  LoopbackDnsServer dns_;
};

TEST_F(DnsListsTest, ListedDomainsAndClientByReturnCode) {
  const ParsedMessage p = WithUrls("see http://www.shop.example/a https://x.y.phish.example/ http://clean.example/");
  std::vector<DnsListHit> hits = Lists(Options()).Check(p, {.client_ip = "192.0.2.1"});
  EXPECT_THAT(hits, UnorderedElementsAre(Field(&DnsListHit::symbol, "DBL_SPAM"), Field(&DnsListHit::symbol, "DBL_PHISH"),
                                         Field(&DnsListHit::symbol, "MULTI_PH"), Field(&DnsListHit::symbol, "ZEN")));
  for (const DnsListHit& h : hits) {
    if (h.symbol == "DBL_SPAM") {
      EXPECT_EQ(h.weight, 6);
      EXPECT_EQ(h.detail, "shop.example dbl.test 127.0.1.2");
    }
    if (h.symbol == "MULTI_PH") {
      EXPECT_EQ(h.weight, 2);  // the zone's weight
    }
    if (h.symbol == "ZEN") {
      EXPECT_EQ(h.detail, "1.2.0.192 zen.test 127.0.0.2");
    }
  }
  // Each registered domain once per zone, never its subdomains.
  EXPECT_EQ(dns_.queries_for("shop.example.dbl.test"), 1);
  EXPECT_EQ(dns_.queries_for("www.shop.example.dbl.test"), 0);
  EXPECT_EQ(dns_.queries_for("phish.example.multi.test"), 1);
}

TEST_F(DnsListsTest, RefusalsAreErrorsAndForeignAnswersAreIgnored) {
  std::vector<DnsListHit> hits =
      Lists(Options()).Check(WithUrls("http://refused.example/ http://wild.example/"), {.client_ip = "10.0.0.5"});
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].symbol, "DNS_ERROR");
  EXPECT_THAT(hits[0].detail, HasSubstr("dbl.test refused the query (127.255.255.254)"));
  EXPECT_EQ(dns_.queries_for("5.0.0.10.zen.test"), 0);  // a private client is never asked
}

TEST_F(DnsListsTest, QueriesPerMessageAreCapped) {
  DnsListOptions o = Options();
  o.zones.resize(1);
  o.max_queries = 2;
  Lists(o).Check(WithUrls("http://a.example/ http://b.example/ http://shop.example/"), {});
  EXPECT_EQ(dns_.queries_for("a.example.dbl.test"), 1);
  EXPECT_EQ(dns_.queries_for("b.example.dbl.test"), 1);
  EXPECT_EQ(dns_.queries_for("shop.example.dbl.test"), 0);
}

TEST_F(DnsListsTest, DeadServerGivesDnsTimeoutWithinTheDeadline) {
  dns_.SetMode(LoopbackDnsServer::Mode::kDrop);
  DnsListOptions o = Options();
  o.deadline = 250ms;
  o.timeout_weight = 0.5;
  const auto start = dns::Clock::now();
  std::vector<DnsListHit> hits = Lists(o).Check(WithUrls("http://shop.example/"), {.client_ip = "192.0.2.1"});
  EXPECT_LT(dns::Clock::now() - start, 1200ms);  // c-ares alone would wait 2 s
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].symbol, "DNS_TIMEOUT");
  EXPECT_EQ(hits[0].weight, 0.5);
  EXPECT_THAT(hits[0].detail, HasSubstr("3 of 3 unanswered after 250ms"));
}

TEST_F(DnsListsTest, ScorerAddsTheSymbolsBeforeMetas) {
  ScorerOptions o;
  o.dns_lists = std::make_shared<DnsLists>(Lists(Options()));
  o.metas.push_back({"LISTED_TWICE", MetaExpression::Parse("DBL_SPAM && ZEN", [](const std::string&) { return true; }).value(), 1});
  o.reject_score = 10;
  Message m;
  m.headers = {{"From", "a@shop.example"}};
  m.body = "http://shop.example/\r\n";
  ContentResult r = Scorer(o).Score(m, {.client_ip = "192.0.2.1"});
  EXPECT_DOUBLE_EQ(r.score, 6 + 3 + 1 + 2);  // DBL_SPAM, ZEN, the meta, MULTI_PH
  EXPECT_EQ(r.action, ContentAction::kReject);
  r = Scorer(o).Score(m, {.client_ip = "198.51.100.1"});
  EXPECT_DOUBLE_EQ(r.score, 8);
  EXPECT_THAT(Scorer(o).Score(Message{{{"From", "a@b.example"}}, "no links\r\n"}).hits, IsEmpty());
}

}  // namespace
}  // namespace hive::policy::content
