// Sendmail's log lines (as Sendmail 8.17 writes them; the first three are
// from a pools_sendmail_test run: note reply= is the QUIT's "221 Bye") and the reader that joins a queue
// id's chgfrom line to its later delivery attempts.
#include "tools/maillog_reader.h"

#include <gtest/gtest.h>

#include "tools/sendmail_log_parser.h"

namespace hive::policy::tools {
namespace {

constexpr char kChgfrom[] =
    "2026-11-26T12:40:33.448Z sendmail[15689] <6>: 6AQCeX25015689: Milter (hive) chgfrom: "
    "<news+hive.bulk-cold@letters.test>";
constexpr char kFrom[] =
    "2026-11-26T12:40:33.350Z sendmail[15689] <6>: 6AQCeX25015689: from=<news@letters.test>, size=224, class=0, "
    "nrcpts=1, msgid=<1795696833.15513.1@test.invalid>, proto=ESMTP, daemon=MTA, relay=localhost [127.0.0.1]";
constexpr char kDeferred[] =
    "2026-11-26T12:40:33.456Z sendmail[15689] <6>: 6AQCeX25015689: to=<ann@gmail.test>, delay=00:00:00, "
    "xdelay=00:00:00, mailer=relay, pri=30224, relay=[127.0.0.1] [127.0.0.1], dsn=4.7.0, reply=221 Bye, "
    "stat=Deferred: 421 4.7.0 Try again later, closing connection";
constexpr char kSent[] =
    "Nov 26 12:40:37 mx sm-mta[16307]: 6AQCeX25015689: to=<ann@gmail.test>, delay=00:00:04, xdelay=00:00:00, "
    "mailer=esmtp, pri=120224, relay=gmail-smtp-in.l.google.com. [192.0.2.1], dsn=2.0.0, stat=Sent (OK 17 - gsmtp)";

TEST(SendmailLogParserTest, TheChgfromLineNamesTheMember) {
  const auto tag = ParseSendmailMemberTag(kChgfrom, "hive");
  ASSERT_TRUE(tag.has_value());
  EXPECT_EQ(tag->queue_id, "6AQCeX25015689");
  EXPECT_EQ(tag->member, "bulk-cold");
  EXPECT_FALSE(ParseSendmailMemberTag(kChgfrom, "pool"));  // another tag
  EXPECT_FALSE(ParseSendmailMemberTag(kFrom, "hive"));     // before the milter's change
  EXPECT_FALSE(ParseSendmailMemberTag("x sm-mta[1]: Q1: Milter (hive) chgfrom: <news@letters.test>", "hive"));
  EXPECT_FALSE(ParseSendmailMemberTag("x sm-mta[1]: Q1: Milter (hive) chgfrom: <+hive.@letters.test>", "hive"));
}

TEST(SendmailLogParserTest, DeliveryLinesGiveStatusDsnAndTheRemoteReply) {
  const auto d = ParseSendmailDelivery(kDeferred);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->queue_id, "6AQCeX25015689");
  EXPECT_EQ(d->recipients, std::vector<std::string>{"ann@gmail.test"});
  EXPECT_EQ(d->dsn, "4.7.0");
  EXPECT_EQ(d->status, "deferred");
  EXPECT_EQ(d->reply, "421 4.7.0 Try again later, closing connection");
  const auto sent = ParseSendmailDelivery(kSent);
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(sent->status, "sent");
  EXPECT_EQ(sent->reply, "OK 17 - gsmtp");
  // Several recipients in one attempt; a bounce with the remote reply (the
  // field order and stat text of a real Sendmail bounce of a RCPT refusal).
  const auto bounced = ParseSendmailDelivery(
      "x sm-mta[7]: Q2: to=<a@x.test>,<b@x.test>, delay=00:00:01, xdelay=00:00:00, mailer=esmtp, pri=1, "
      "relay=mx.x.test. [192.0.2.2], dsn=5.7.1, reply=550 5.7.1 Service unavailable, client [192.0.2.4] "
      "blocked using zen.spamhaus.org, stat=User unknown");
  ASSERT_TRUE(bounced.has_value());
  EXPECT_EQ(bounced->recipients, (std::vector<std::string>{"a@x.test", "b@x.test"}));
  EXPECT_EQ(bounced->status, "bounced");
  EXPECT_EQ(bounced->reply, "550 5.7.1 Service unavailable, client [192.0.2.4] blocked using zen.spamhaus.org");
  // Not delivery lines.
  EXPECT_FALSE(ParseSendmailDelivery(kFrom));
  EXPECT_FALSE(ParseSendmailDelivery("x sm-mta[7]: Q3: to=<a@x.test>, delay=00:00:01, stat=queued"));
  EXPECT_FALSE(ParseSendmailDelivery(
      "x sm-mta[7]: Q4: to=<root@mx.test>, delay=00:00:01, mailer=local, pri=1, dsn=4.2.0, stat=Deferred: x"));
  EXPECT_FALSE(ParseSendmailDelivery(
      "x sm-mta[7]: Q5: to=/var/mail/x, delay=00:00:01, mailer=*file*, pri=1, dsn=2.0.0, stat=Sent"));
  EXPECT_FALSE(ParseSendmailDelivery(
      "x postfix/smtp[1]: 5C: to=<a@x>, relay=r, delay=1, delays=0/0/0/0, dsn=2.0.0, status=sent (ok)"));
  EXPECT_FALSE(ParseSendmailDelivery(""));
}

TEST(MaillogReaderTest, SendmailAttemptsOfATaggedQueueIdAreReportedForItsMember) {
  MaillogReader reader({});
  EXPECT_TRUE(reader.Feed(kFrom).empty());
  EXPECT_TRUE(reader.Feed(kDeferred).empty()) << "no chgfrom line read yet: member unknown";
  EXPECT_TRUE(reader.Feed(kChgfrom).empty());
  std::vector<MaillogDelivery> got = reader.Feed(kDeferred);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].member, "bulk-cold");
  EXPECT_EQ(got[0].queue_id, "6AQCeX25015689");
  EXPECT_EQ(got[0].recipient, "ann@gmail.test");
  EXPECT_EQ(got[0].status, "deferred");
  EXPECT_EQ(got[0].reply, "421 4.7.0 Try again later, closing connection");
  // A queue run's later attempt (another process) still knows the member.
  got = reader.Feed(kSent);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].member, "bulk-cold");
  EXPECT_EQ(got[0].status, "sent");
}

TEST(MaillogReaderTest, PostfixLinesPassThroughAndTheQueueIdTableIsBounded) {
  MaillogReader reader({.sendmail_tag = "hive", .max_queue_ids = 2});
  const std::vector<MaillogDelivery> pf = reader.Feed(
      "Jun  3 10:00:01 mta postfix/hive-mkt-b/smtp[4711]: 3F2A1C0D9: to=<bob@gmail.com>, relay=r, delay=0.1, "
      "delays=0/0/0/0, dsn=4.7.0, status=deferred (host r said: 421 4.7.0 Try again later (in reply to RCPT TO "
      "command))");
  ASSERT_EQ(pf.size(), 1u);
  EXPECT_EQ(pf[0].member, "mkt-b");
  for (const char* q : {"Q1", "Q2", "Q3"}) {
    reader.Feed(std::string("x sm-mta[1]: ") + q + ": Milter (hive) chgfrom: <a+hive.m-" + q + "@x.test>");
  }
  EXPECT_EQ(reader.remembered(), 2u);
  const auto attempt = [&](const std::string& q) {
    return reader.Feed("x sm-mta[2]: " + q + ": to=<b@y.test>, mailer=esmtp, dsn=4.7.0, stat=Deferred: 421 4.7.0 x");
  };
  EXPECT_TRUE(attempt("Q1").empty()) << "the oldest is forgotten";
  ASSERT_EQ(attempt("Q3").size(), 1u);
  EXPECT_EQ(attempt("Q3")[0].member, "m-Q3");
}

}  // namespace
}  // namespace hive::policy::tools
