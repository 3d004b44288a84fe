#include "content/domain.h"

#include <gtest/gtest.h>

#include "content/from_header.h"

namespace hive::policy::content {
namespace {

TEST(DomainTest, UnicodeHostsBecomePunycodeAsciiOnesLowerCase) {
  EXPECT_EQ(AsciiHost("例子.中国"), "xn--fsqu00a.xn--fiqs8s");
  EXPECT_EQ(AsciiHost("www.Bücher.de"), "www.xn--bcher-kva.de");
  EXPECT_EQ(AsciiHost("MAIL.Example.COM"), "mail.example.com");
  EXPECT_EQ(AsciiHost("xn--fsqu00a.xn--fiqs8s"), "xn--fsqu00a.xn--fiqs8s");
  EXPECT_EQ(AsciiHost("bad\xff.com"), "") << "not UTF-8: no name";
  EXPECT_EQ(AsciiHost(""), "");
}

TEST(DomainTest, RegistrableDomainFollowsThePublicSuffixList) {
  EXPECT_EQ(RegistrableDomain("a.b.shop.com.cn"), "shop.com.cn");
  EXPECT_EQ(RegistrableDomain("mail.example.com"), "example.com");
  EXPECT_EQ(RegistrableDomain("MAIL.Example.CO.UK"), "example.co.uk");
  // Suffixes a two-label guess gets wrong: a three-label public suffix, and
  // one from the list's private section (each user's site its own domain).
  EXPECT_EQ(RegistrableDomain("www.city.kawasaki.jp"), "city.kawasaki.jp");
  EXPECT_EQ(RegistrableDomain("news.pref.hokkaido.jp"), "pref.hokkaido.jp");
  EXPECT_EQ(RegistrableDomain("alice.github.io"), "alice.github.io");
  EXPECT_NE(RegistrableDomain("alice.github.io"), RegistrableDomain("bob.github.io"));
  // IDN: the same domain written either way is one registrable domain.
  EXPECT_EQ(RegistrableDomain("www.例子.中国"), "xn--fsqu00a.xn--fiqs8s");
  EXPECT_EQ(RegistrableDomain("shop.xn--fsqu00a.xn--fiqs8s"), "xn--fsqu00a.xn--fiqs8s");
  // A public suffix is its own registrable domain; so is a single label.
  EXPECT_EQ(RegistrableDomain("com.cn"), "com.cn");
  EXPECT_EQ(RegistrableDomain("localhost"), "localhost");
  EXPECT_EQ(RegistrableDomain("shop.example."), "shop.example") << "trailing dot";
}

TEST(DomainTest, AlignmentComparesRegistrableDomainsAcrossScripts) {
  EXPECT_TRUE(DomainsAligned("mail.例子.中国", "xn--fsqu00a.xn--fiqs8s"));
  EXPECT_TRUE(DomainsAligned("news.shop.com.cn", "shop.com.cn"));
  EXPECT_FALSE(DomainsAligned("a.shop.com.cn", "b.com.cn"));
  EXPECT_FALSE(DomainsAligned("alice.github.io", "bob.github.io"));
}

}  // namespace
}  // namespace hive::policy::content
