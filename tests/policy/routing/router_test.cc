#include "routing/router.h"

#include <gtest/gtest.h>

namespace hive::policy::routing {
namespace {

match::Matcher SenderDomain(const std::string& d) {
  match::Matcher m;
  EXPECT_TRUE(m.AddSenderDomain(d).ok());
  return m;
}

TEST(RouterTest, FirstMatchWinsElseDefault) {
  std::vector<RoutingRule> rules;
  rules.push_back({"vip", SenderDomain("vip.example.com"), "premium"});
  rules.push_back({"example", SenderDomain("example.com"), "shared"});
  rules.push_back({"vip-again", SenderDomain("vip.example.com"), "never"});
  Router r({"premium", "shared", "bulk", "never"}, std::move(rules), "bulk");

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
  Router r({"google", "bulk"}, {{"to-google", m, "google"}}, "bulk");
  match::Facts f = match::MakeFacts("a@example.com", "", "");
  f.recipients = {match::MakeRecipient("x@gmail.com")};
  EXPECT_EQ(r.Choose(f).pool, "google");
  f.recipients.push_back(match::MakeRecipient("y@yahoo.com"));
  EXPECT_EQ(r.Choose(f).pool, "bulk");
}

TEST(RouterTest, EmptyRouterChoosesNoPool) {
  EXPECT_EQ(Router().Choose(match::MakeFacts("a@b.c", "", "")).pool, "");
}

}  // namespace
}  // namespace hive::policy::routing
