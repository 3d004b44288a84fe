#include "tools/maillog_parser.h"

#include <gtest/gtest.h>

namespace hive::policy::tools {
namespace {

TEST(MaillogParserTest, DeferredWithRemoteReply) {
  const auto d = ParseMaillogLine(
      "Jun  3 10:00:01 mta postfix/hive-mkt-b/smtp[4711]: 3F2A1C0D9: to=<bob@gmail.com>, "
      "relay=127.0.0.1[127.0.0.1]:2526, delay=0.1, delays=0.01/0/0.02/0, dsn=4.7.0, status=deferred "
      "(host 127.0.0.1[127.0.0.1] said: 421 4.7.0 Try again later (in reply to RCPT TO command))");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->member, "mkt-b");
  EXPECT_EQ(d->queue_id, "3F2A1C0D9");
  EXPECT_EQ(d->recipient, "bob@gmail.com");
  EXPECT_EQ(d->dsn, "4.7.0");
  EXPECT_EQ(d->status, "deferred");
  EXPECT_EQ(d->reply, "421 4.7.0 Try again later");
}

TEST(MaillogParserTest, SentAndLocalExplanation) {
  const auto sent = ParseMaillogLine(
      "2024-06-03T10:00:01.123+00:00 mta postfix/hive-tx.a/smtp[12]: 4B: to=<a@x.example>, relay=r, delay=1, "
      "delays=0/0/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 77)");
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(sent->member, "tx.a");
  EXPECT_EQ(sent->status, "sent");
  EXPECT_EQ(sent->reply, "250 2.0.0 Ok: queued as 77");
  const auto local = ParseMaillogLine(
      "x postfix/hive-a/smtp[1]: 5C: to=<a@x.example>, relay=none, delay=30, delays=0/0/30/0, dsn=4.4.1, "
      "status=deferred (connect to x[192.0.2.1]:25: Connection timed out)");
  ASSERT_TRUE(local.has_value());
  EXPECT_EQ(local->reply, "connect to x[192.0.2.1]:25: Connection timed out");
}

TEST(MaillogParserTest, OtherLinesGiveNothing) {
  EXPECT_FALSE(ParseMaillogLine("x postfix/smtp[1]: 5C: to=<a@x>, dsn=2.0.0, status=sent (ok)"));
  EXPECT_FALSE(ParseMaillogLine("x postfix/hive-a/smtp[1]: connect to x: refused"));
  EXPECT_FALSE(ParseMaillogLine("x postfix/hive-a/smtp[1]: 5C: to=<a@x>, status=sent"));  // no dsn
  EXPECT_FALSE(ParseMaillogLine("x postfix/hive-a/smtp[1]: 5C: to=<a@x>, dsn=2.0.0, status=expired (x)"));
  EXPECT_FALSE(ParseMaillogLine(""));
}

}  // namespace
}  // namespace hive::policy::tools
