#include "routing/router.h"

#include <gtest/gtest.h>

namespace hive::policy::routing {
namespace {

match::Matcher SenderDomain(const std::string& d) {
  match::Matcher m;
  EXPECT_TRUE(m.AddSenderDomain(d).ok());
  return m;
}

std::vector<Pool> Pools(std::initializer_list<const char*> names) {
  std::vector<Pool> out;
  for (const char* n : names) out.push_back(Pool{n, {}, {}, ""});
  return out;
}

TEST(RouterTest, FirstMatchWinsElseDefault) {
  std::vector<RoutingRule> rules;
  rules.push_back({"vip", SenderDomain("vip.example.com"), "premium"});
  rules.push_back({"example", SenderDomain("example.com"), "shared"});
  rules.push_back({"vip-again", SenderDomain("vip.example.com"), "never"});
  Router r(Pools({"premium", "shared", "bulk", "never"}), std::move(rules), "bulk");

  RouteDecision vip = r.Choose(match::MakeFacts("a@VIP.example.com", "", ""));
  EXPECT_EQ(vip.pool, "premium");
  EXPECT_EQ(vip.rule, "vip");
  EXPECT_EQ(r.Choose(match::MakeFacts("a@example.com", "", "")).pool, "shared");
  RouteDecision other = r.Choose(match::MakeFacts("a@other.org", "", ""));
  EXPECT_EQ(other.pool, "bulk");
  EXPECT_EQ(other.rule, "");
}

TEST(RouterTest, RecipientDomainRuleAppliesWhenEveryRecipientMatches) {
  match::Matcher m;
  ASSERT_TRUE(m.AddRecipientDomain("gmail.com").ok());
  Router r(Pools({"google", "bulk"}), {{"to-google", m, "google"}}, "bulk");
  match::Facts f = match::MakeFacts("a@example.com", "", "");
  f.recipients = {match::MakeRecipient("x@gmail.com")};
  EXPECT_EQ(r.Choose(f).pool, "google");
  f.recipients.push_back(match::MakeRecipient("y@yahoo.com"));
  EXPECT_EQ(r.Choose(f).pool, "bulk");
}

TEST(RouterTest, EmptyRouterChoosesNoPool) {
  EXPECT_EQ(Router().Choose(match::MakeFacts("a@b.c", "", "")).pool, "");
}

// One rule of each kind the issue asks for, in one table: class (header),
// account (SASL user), tenant (header), sender domain, score band, slow
// lane, recipient domain; first match wins.
TEST(RouterTest, TableOfRuleKinds) {
  auto rule = [](std::string name, std::string pool, auto&& fill) {
    RoutingRule r{std::move(name), {}, std::move(pool)};
    fill(r);
    return r;
  };
  std::vector<RoutingRule> rules;
  rules.push_back(rule("lane", "slow", [](RoutingRule& r) { r.slow_lane = true; }));
  rules.push_back(rule("named-lane", "never", [](RoutingRule& r) {
    r.slow_lane = true;
    r.slow_lane_limits = {"other-limit"};
  }));
  rules.push_back(rule("spammy", "lowrep", [](RoutingRule& r) { r.min_score = 5; }));
  rules.push_back(rule("tx", "tx", [](RoutingRule& r) { ASSERT_TRUE(r.match.AddMessageClass("transactional").ok()); }));
  rules.push_back(rule("account", "acct", [](RoutingRule& r) { ASSERT_TRUE(r.match.AddSaslUser("big-customer").ok()); }));
  rules.push_back(rule("tenant", "tenant", [](RoutingRule& r) { ASSERT_TRUE(r.match.AddHeader("X-Tenant", "t-4*").ok()); }));
  rules.push_back(rule("shop", "shop", [](RoutingRule& r) { ASSERT_TRUE(r.match.AddSenderDomain("shop.example").ok()); }));
  rules.push_back(rule("mid", "mid", [](RoutingRule& r) {
    r.min_score = 2;
    r.max_score = 5;
  }));
  rules.push_back(rule("qq", "cn", [](RoutingRule& r) { ASSERT_TRUE(r.match.AddRecipientDomain("qq.com").ok()); }));
  Router router(Pools({"slow", "never", "lowrep", "tx", "acct", "tenant", "shop", "mid", "cn", "bulk"}),
                std::move(rules), "bulk");

  struct Case {
    const char* name;
    std::string sender, sasl, klass, tenant, rcpt;
    double score;
    std::optional<std::string> lane;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"default", "a@x.example", "", "", "", "b@y.example", 0, {}, "bulk"},
      {"slow lane first", "a@shop.example", "", "transactional", "", "b@y.example", 9, "hourly", "slow"},
      {"score above band start", "a@shop.example", "", "transactional", "", "b@y.example", 5, {}, "lowrep"},
      {"score below: class", "a@shop.example", "", "transactional", "", "b@y.example", 4.9, {}, "tx"},
      {"account", "a@x.example", "big-customer", "", "", "b@y.example", 0, {}, "acct"},
      {"tenant header", "a@x.example", "", "", "t-42", "b@y.example", 0, {}, "tenant"},
      {"sender domain", "a@mail.shop.example", "", "marketing", "", "b@y.example", 0, {}, "shop"},
      {"score band [2,5)", "a@x.example", "", "", "", "b@y.example", 2, {}, "mid"},
      {"recipient domain", "a@x.example", "", "", "", "b@qq.com", 0, {}, "cn"},
  };
  for (const Case& c : cases) {
    match::Facts f = match::MakeFacts(c.sender, c.sasl, "");
    f.message_class = c.klass;
    if (!c.tenant.empty()) match::AddHeader(f, "X-Tenant", c.tenant);
    f.recipients = {match::MakeRecipient(c.rcpt)};
    EXPECT_EQ(router.Choose(RouteInput{f, c.score, c.lane}).pool, c.want) << c.name;
  }
}

TEST(RouterTest, SlowLanePassTriesOnlyLaneRulesAndCanFindNone) {
  RoutingRule lane{"lane", {}, "slow"};
  lane.slow_lane = true;
  lane.slow_lane_limits = {"hourly"};
  Router router(Pools({"slow", "bulk"}), {lane}, "bulk");
  const match::Facts f = match::MakeFacts("a@x.example", "", "");
  EXPECT_EQ(router.Choose(RouteInput{f, 0, "hourly"}).pool, "slow");
  EXPECT_EQ(router.Choose(RouteInput{f, 0, "daily"}).pool, "");  // the limit's own route_pool applies
  EXPECT_EQ(router.Choose(RouteInput{f, 0, {}}).pool, "bulk");
}

TEST(RouterTest, TransactionalClassesAreGlobs) {
  Router router(Pools({"a"}), {}, "a", {}, {"transactional", "otp-*"});
  EXPECT_TRUE(router.IsTransactional("transactional"));
  EXPECT_TRUE(router.IsTransactional("otp-login"));
  EXPECT_FALSE(router.IsTransactional("marketing"));
  EXPECT_FALSE(router.IsTransactional(""));
}

}  // namespace
}  // namespace hive::policy::routing
