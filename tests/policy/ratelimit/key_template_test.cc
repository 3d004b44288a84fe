#include "ratelimit/key_template.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hive::policy::ratelimit {
namespace {

using ::testing::HasSubstr;

TEST(KeyTemplateTest, ExpandsNormalisedFacts) {
  auto t = KeyTemplate::Parse("{sender}|{sender_domain}|{sasl_user}|{client_ip}|{recipient}|{recipient_domain}");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->UsesRecipient());
  match::Facts f = match::MakeFacts("Bob@Example.COM", "u1", "2001:DB8::1");
  EXPECT_EQ(t->Expand(f), std::nullopt);  // no recipient yet
  f.recipients.push_back(match::MakeRecipient("Carol@Mail.Example.NET"));
  EXPECT_EQ(t->Expand(f), "Bob@example.com|example.com|u1|2001:db8::1|Carol@mail.example.net|mail.example.net");
}

TEST(KeyTemplateTest, MissingFactMeansTheRuleDoesNotApply) {
  auto t = KeyTemplate::Parse("user:{sasl_user}");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->UsesRecipient());
  EXPECT_EQ(t->Expand(match::MakeFacts("a@b.c", "", "")), std::nullopt);
  EXPECT_EQ(t->Expand(match::MakeFacts("a@b.c", "x", "")), "user:x");
  auto global = KeyTemplate::Parse("");
  ASSERT_TRUE(global.ok());
  EXPECT_EQ(global->Expand(match::MakeFacts("", "", "")), "");
}

TEST(KeyTemplateTest, ContentHashIsAnEndOfMessageFactTheScorerMustCompute) {
  auto t = KeyTemplate::Parse("campaign:{content_hash}");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->UsesMessage());
  EXPECT_TRUE(t->UsesContentHash());
  EXPECT_FALSE(KeyTemplate::Parse("{sender}:{pool}")->UsesContentHash());
  match::Facts f = match::MakeFacts("a@b.c", "", "");
  EXPECT_EQ(t->Expand(f), std::nullopt);  // a short text has none: not counted
  f.content_hash = "0123456789abcdef0123456789abcdef";
  EXPECT_EQ(t->Expand(f), "campaign:0123456789abcdef0123456789abcdef");
}

TEST(KeyTemplateTest, RefusesUnknownAndUnbalancedPlaceholders) {
  EXPECT_THAT(KeyTemplate::Parse("{sendr}").status().message(), HasSubstr("unknown placeholder {sendr}"));
  EXPECT_THAT(KeyTemplate::Parse("{sender").status().message(), HasSubstr("unclosed"));
  EXPECT_THAT(KeyTemplate::Parse("sender}").status().message(), HasSubstr("without"));
}

}  // namespace
}  // namespace hive::policy::ratelimit
