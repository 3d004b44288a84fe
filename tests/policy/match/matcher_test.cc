#include "match/matcher.h"

#include <gtest/gtest.h>

namespace hive::policy::match {
namespace {

Facts Sender(const std::string& sender) { return MakeFacts(sender, "", ""); }

TEST(GlobTest, StarAndQuestionMark) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("*", "anything"));
  EXPECT_TRUE(GlobMatch("a*c", "abbbc"));
  EXPECT_TRUE(GlobMatch("a?c", "abc"));
  EXPECT_FALSE(GlobMatch("a?c", "ac"));
  EXPECT_FALSE(GlobMatch("a*c", "abcd"));
  EXPECT_TRUE(GlobMatch("*.example.com", "mx.example.com"));
  EXPECT_FALSE(GlobMatch("*.example.com", "example.com"));
}

TEST(MatcherTest, EmptyMatchesEverything) {
  EXPECT_TRUE(Matcher().Matches(Sender("")));
  EXPECT_TRUE(Matcher().Matches(Sender("a@b.c")));
}

TEST(MatcherTest, SenderExactAndGlobCaseInsensitiveOnDomainOnly) {
  Matcher m;
  ASSERT_TRUE(m.AddSender("alice@Example.com").ok());
  ASSERT_TRUE(m.AddSender("*@lists.example.org").ok());
  EXPECT_TRUE(m.Matches(Sender("alice@example.com")));
  EXPECT_TRUE(m.Matches(Sender("alice@EXAMPLE.COM")));
  EXPECT_FALSE(m.Matches(Sender("Alice@example.com")));  // local part is case-sensitive
  EXPECT_TRUE(m.Matches(Sender("news@Lists.Example.ORG")));
  EXPECT_FALSE(m.Matches(Sender("news@sub.lists.example.org")));
  EXPECT_FALSE(m.Matches(Sender("")));  // null sender
  EXPECT_FALSE(m.AddSender("no-at-sign").ok());
  EXPECT_FALSE(m.AddSender("trailing@").ok());
}

TEST(MatcherTest, DomainSuffixOnLabelBoundary) {
  Matcher m;
  ASSERT_TRUE(m.AddSenderDomain("Example.COM.").ok());
  EXPECT_TRUE(m.Matches(Sender("a@example.com")));
  EXPECT_TRUE(m.Matches(Sender("a@mx.EXAMPLE.com")));
  EXPECT_FALSE(m.Matches(Sender("a@badexample.com")));
  EXPECT_FALSE(m.Matches(Sender("a@example.com.evil")));
  EXPECT_TRUE(DomainHasSuffix("example.com", "example.com"));
  EXPECT_FALSE(DomainHasSuffix("xample.com", "example.com"));
  Matcher dotted;
  ASSERT_TRUE(dotted.AddSenderDomain(".example.com").ok());
  EXPECT_TRUE(dotted.Matches(Sender("a@example.com")));
  EXPECT_FALSE(Matcher().AddSenderDomain("*.example.com").ok());
  EXPECT_FALSE(Matcher().AddSenderDomain("a@example.com").ok());
}

TEST(MatcherTest, RecipientDomainNeedsRecipientsAndAllMustMatch) {
  Matcher m;
  ASSERT_TRUE(m.AddRecipientDomain("gmail.com").ok());
  EXPECT_TRUE(m.UsesRecipient());
  Facts f = Sender("a@example.com");
  EXPECT_FALSE(m.Matches(f));  // MAIL FROM stage: unknown
  f.recipients.push_back(MakeRecipient("x@GMAIL.com"));
  EXPECT_TRUE(m.Matches(f));
  f.recipients.push_back(MakeRecipient("y@yahoo.com"));
  EXPECT_FALSE(m.Matches(f));
}

TEST(MatcherTest, SaslUserExact) {
  Matcher m;
  ASSERT_TRUE(m.AddSaslUser("customer42").ok());
  EXPECT_TRUE(m.Matches(MakeFacts("a@b.c", "customer42", "")));
  EXPECT_FALSE(m.Matches(MakeFacts("a@b.c", "customer4", "")));
  EXPECT_FALSE(m.Matches(MakeFacts("a@b.c", "", "")));
}

TEST(MatcherTest, ClientIpCidrV4AndV6) {
  Matcher m;
  ASSERT_TRUE(m.AddClientIp("192.0.2.0/24").ok());
  ASSERT_TRUE(m.AddClientIp("2001:db8::/32").ok());
  ASSERT_TRUE(m.AddClientIp("198.51.100.7").ok());
  EXPECT_TRUE(m.Matches(MakeFacts("", "", "192.0.2.200")));
  EXPECT_FALSE(m.Matches(MakeFacts("", "", "192.0.3.1")));
  EXPECT_TRUE(m.Matches(MakeFacts("", "", "2001:DB8:1::5")));
  EXPECT_FALSE(m.Matches(MakeFacts("", "", "2001:db9::1")));
  EXPECT_TRUE(m.Matches(MakeFacts("", "", "198.51.100.7")));
  EXPECT_FALSE(m.Matches(MakeFacts("", "", "198.51.100.8")));
  EXPECT_TRUE(m.Matches(MakeFacts("", "", "::ffff:192.0.2.9")));  // IPv4-mapped
  EXPECT_FALSE(m.Matches(MakeFacts("", "", "unknown")));
  EXPECT_FALSE(m.AddClientIp("192.0.2.0/33").ok());
  EXPECT_FALSE(m.AddClientIp("192.0.2.0/").ok());
  EXPECT_FALSE(m.AddClientIp("example.com").ok());
}

TEST(CidrTest, OddPrefixesAndZero) {
  auto c = Cidr::Parse("10.128.0.0/9");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->Contains(*IpAddress::Parse("10.200.1.1")));
  EXPECT_FALSE(c->Contains(*IpAddress::Parse("10.127.255.255")));
  auto all6 = Cidr::Parse("::/0");
  ASSERT_TRUE(all6.ok());
  EXPECT_TRUE(all6->Contains(*IpAddress::Parse("2001:db8::1")));
  EXPECT_FALSE(all6->Contains(*IpAddress::Parse("10.0.0.1")));  // families never mix
}

TEST(MatcherTest, AllListsMustMatch) {
  Matcher m;
  ASSERT_TRUE(m.AddSenderDomain("example.com").ok());
  ASSERT_TRUE(m.AddClientIp("192.0.2.0/24").ok());
  EXPECT_TRUE(m.Matches(MakeFacts("a@example.com", "", "192.0.2.1")));
  EXPECT_FALSE(m.Matches(MakeFacts("a@example.com", "", "203.0.113.1")));
  EXPECT_FALSE(m.Matches(MakeFacts("a@example.org", "", "192.0.2.1")));
}

TEST(FactsTest, Normalisation) {
  Facts f = MakeFacts("Alice@Example.COM.", "u", "::FFFF:192.0.2.1");
  EXPECT_EQ(f.sender, "Alice@example.com");
  EXPECT_EQ(f.sender_domain, "example.com");
  EXPECT_EQ(f.client_ip_text, "192.0.2.1");
  EXPECT_EQ(MakeFacts("", "", "2001:DB8::1").client_ip_text, "2001:db8::1");
}

}  // namespace
}  // namespace hive::policy::match
