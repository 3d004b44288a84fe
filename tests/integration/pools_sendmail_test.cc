// IP pools end to end (issue 6) through a real Sendmail 8.17: hive-policyd
// picks a pool member, hive-milter (sender_pool_tag: hive) tags the envelope
// sender "local+hive.<member>@domain", and the rules hive-sendmail-config
// generates from the very same policy file (included in the test's
// sendmail.mc) bind the member's address at every delivery attempt, say
// HELO with that address's name (the instance's /etc/hosts plays PTR) and
// strip the tag. Members bind 127.0.0.11, .21, .22 (Linux answers all of
// 127.0.0.0/8 on loopback; Sendmail refuses to bind 127.0.0.1 and ::1
// themselves, daemon.c; IPv6 members get addresses of their own in a
// private network namespace); smtp-sink records each delivery's source address.
//
//   - each pool's mail leaves from its member's address and HELO, with the
//     original return path; a pool without members from Sendmail's default
//     address; a tag the client wrote picks nothing;
//   - a cold member with a warm-up cap of 3 takes exactly 3 messages,
//     transactional mail none;
//   - deferred mail, delivered later by a queue run, still leaves from its
//     member (the tag is in the queue file; the rules run again);
//   - a bounce Sendmail sends to a tagged return path goes to the untagged
//     one (Sendmail's address test mode on the generated rules);
//   - warm-up feedback: behind a next hop answering every RCPT with 421
//     4.7.0, the real hive-maillog-follower reads Sendmail's log (the
//     member from the milter's chgfrom line, the reply from stat=Deferred:);
//     two deferrals change nothing, the third steps the cold member back and
//     pauses it for that provider group, and the next message to that group
//     is tagged for the warm member while another group keeps the cold one.
//   - IPv6 members, in a network namespace of the test's own (2001:db8::/64
//     addresses on its lo): each pool's mail leaves from its member's IPv6
//     address and HELO.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <string>
#include <vector>

#include "harness/hive_stack.h"
#include "harness/net.h"
#include "harness/process.h"
#include "harness/sendmail.h"
#include "harness/temp_dir.h"
#include "pools_support.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const PoolAddresses kAddresses{
    .tx = "127.0.0.11", .tx_cold = "127.0.0.12", .bulk_warm = "127.0.0.21", .bulk_cold = "127.0.0.22"};
// Plus a pool without members: its mail leaves from Sendmail's default.
const std::string kPolicy = CapPolicy(kAddresses, "    - name: plain\n",
                                      "    - {name: plain, match: {sender_domain: [plain.test]}, pool: plain}\n");

// The PTR names Sendmail's HELO comes from (h in {daemon_flags}).
constexpr char kHosts[] =
    "127.0.0.11\ttx-1.pools.test\n127.0.0.12\ttx-cold.pools.test\n127.0.0.21\tbulk-warm.pools.test\n"
    "127.0.0.22\tbulk-cold.pools.test\n";

constexpr char kMilterYaml[] = "sender_pool_tag: hive\n";

// hive-sendmail-config's hive-pools.m4 for `policy` ("" and a failed
// expectation when the tool fails).
std::string Generate(const TempDir& dir, const std::string& policy = kPolicy) {
  WriteFile(dir.Sub("policyd.yaml"), policy);
  Process tool({HIVE_SENDMAIL_CONFIG_BIN, "--config", dir.Sub("policyd.yaml"), "--out", dir.Sub("hive-pools.m4"),
                "--tag", "hive"},
               dir.Sub("sendmail-config.log"));
  const bool exited = tool.WaitExit(std::chrono::seconds(20));
  EXPECT_TRUE(exited && WIFEXITED(tool.ExitStatus()) && WEXITSTATUS(tool.ExitStatus()) == 0)
      << "hive-sendmail-config failed: " << ReadFile(dir.Sub("sendmail-config.log"));
  return ReadFile(dir.Sub("hive-pools.m4"));
}

StackOptions SendmailPools(const std::string& mc) {
  return StackOptions{.mta = "sendmail",
                      .policy_yaml = kPolicy,
                      .milter_yaml = kMilterYaml,
                      .sendmail_mc = mc,
                      .sendmail_hosts = kHosts};
}

TEST(PoolsSendmailTest, EachPoolLeavesFromItsMemberAndAColdMemberTakesExactlyItsCap) {
  TempDir gen;
  const std::string mc = Generate(gen);
  ASSERT_THAT(mc, HasSubstr("127.0.0.22"));
  HiveStack stack(SendmailPools(mc));

  const CapTraffic traffic = SendCapTraffic(stack.smtp_port());
  // A client naming the transactional member itself: the milter removes it.
  EXPECT_THAT(Send(stack.smtp_port(), "news+hive.tx-1@letters.test", "ann@gmail.test", "forged"), HasSubstr("250"));
  EXPECT_THAT(Send(stack.smtp_port(), "info@plain.test", "bob@example.test", "plain"), HasSubstr("250"));
  ExpectCapSources(stack.sink(), traffic, kAddresses, stack.Diagnostics());

  // The member's HELO, and the return path as the client gave it.
  const std::string receipt = stack.sink().WaitForMessageContaining("Subject: receipt 0", kDeliveryTimeout);
  EXPECT_EQ(Record(receipt, "X-Helo-Args"), "tx-1.pools.test");
  EXPECT_EQ(Record(receipt, "X-Mail-Args"), "<orders@shop.test>");
  const std::string newsletter = stack.sink().WaitForMessageContaining("Subject: newsletter 0", kDeliveryTimeout);
  EXPECT_EQ(Record(newsletter, "X-Helo-Args"), "bulk-cold.pools.test");
  EXPECT_EQ(Record(newsletter, "X-Mail-Args"), "<news@letters.test>");

  const std::string forged = stack.sink().WaitForMessageContaining("Subject: forged", kDeliveryTimeout);
  EXPECT_EQ(Record(forged, "X-Client-Addr"), "127.0.0.21") << "cold cap used up: the warm bulk member";
  EXPECT_EQ(Record(forged, "X-Mail-Args"), "<news@letters.test>");
  const std::string plain = stack.sink().WaitForMessageContaining("Subject: plain", kDeliveryTimeout);
  EXPECT_EQ(Record(plain, "X-Client-Addr"), "127.0.0.1") << "a pool without members: Sendmail's default";
  EXPECT_EQ(Record(plain, "X-Mail-Args"), "<info@plain.test>");

  // Sendmail's own log names the member (the tagged sender).
  EXPECT_TRUE(WaitForText([&] { return stack.mta().Log(); }, "Milter (hive) chgfrom: <orders+hive.tx-1@shop.test>"));
  EXPECT_THAT(ReadFile(stack.dir().Sub("policyd.log")),
              HasSubstr("warmup member=bulk-cold group=google sending_day=1 cap=3"));
}

TEST(PoolsSendmailTest, AQueueRunDeliversDeferredMailFromItsMemberAgain) {
  TempDir gen;
  // The next hop is down at first: every message is deferred and queued.
  const uint16_t later = FreePort();
  const std::string mc =
      Generate(gen) + "define(`RELAY_MAILER_ARGS', `TCP $h " + std::to_string(later) + "')dnl\n";
  HiveStack stack(SendmailPools(mc));

  EXPECT_THAT(Send(stack.smtp_port(), "orders@shop.test", "bob@example.test", "queued receipt"), HasSubstr("250"));
  EXPECT_THAT(Send(stack.smtp_port(), "news@letters.test", "ann@gmail.test", "queued newsletter"), HasSubstr("250"));
  EXPECT_THAT(Send(stack.smtp_port(), "info@plain.test", "bob@example.test", "queued plain"), HasSubstr("250"));
  ASSERT_TRUE(WaitForText([&] { return stack.mta().Log(); }, "stat=Deferred")) << stack.Diagnostics();
  EXPECT_EQ(stack.mta().QueuedMessages(), 3) << stack.Diagnostics();

  // The next hop comes up; Sendmail's queue run (-q5s) delivers all three.
  Sink next_hop(gen.Sub("next-hop"), gen.Sub("next-hop.log"), later);
  const auto source = [&](const std::string& subject) {
    return Record(next_hop.WaitForMessageContaining("Subject: " + subject, std::chrono::seconds(30)), "X-Client-Addr");
  };
  EXPECT_EQ(source("queued receipt"), kAddresses.tx_cold) << "unclassified: the cold member" << stack.Diagnostics();
  EXPECT_EQ(source("queued newsletter"), kAddresses.bulk_cold) << stack.Diagnostics();
  EXPECT_EQ(source("queued plain"), "127.0.0.1") << stack.Diagnostics();
}

// `sendmail -bt` on the instance's sendmail.cf: each address rewritten as
// an envelope recipient (ER), a header recipient (HR) and an envelope
// sender (ES) of the relay mailer.
TEST(PoolsSendmailTest, ABounceToATaggedReturnPathGoesToTheUntaggedOne) {
  TempDir gen;
  const std::string mc = Generate(gen);
  const std::unique_ptr<Mta> mta =
      MakeMta("sendmail", gen.Sub("sendmail"), FreePort(), FreePort(), 0, MtaFeatures{}, {.sendmail_mc = mc});
  WriteFile(gen.Sub("bt.in"),
            "/tryflags ER\n/try relay news+hive.bulk-cold@letters.test\n"
            "/tryflags HR\n/try relay news+hive.tx-1@letters.test\n"
            "/tryflags ES\n/try relay news+hive.bulk-warm@letters.test\n"
            "/tryflags ER\n/try relay news+hive.unknown@letters.test\n");
  const std::string prefix = SendmailPrefix();
  const std::string run =
      "exec /usr/bin/env -i LD_PRELOAD=\"$1\" SYSLOG2FILE=\"$2\" FAKE_HOSTNAME=x.test \"$3\" -C \"$4\" -bt <\"$5\"";
  Process bt({"/bin/sh", "-c", run, "bt", prefix + "/lib/syslog2file.so", gen.Sub("bt.maillog"),
              prefix + "/root/usr/libexec/sendmail/sendmail", gen.Sub("sendmail/sendmail.cf"), gen.Sub("bt.in")},
             gen.Sub("bt.out"));
  ASSERT_TRUE(bt.WaitExit(std::chrono::seconds(20)));
  std::vector<std::string> addrs;
  const std::string out = ReadFile(gen.Sub("bt.out"));
  for (std::size_t at = out.find("addr = "); at != std::string::npos; at = out.find("addr = ", at + 1)) {
    addrs.push_back(out.substr(at + 7, out.find('\n', at) - at - 7));
  }
  EXPECT_THAT(addrs, ::testing::ElementsAre("news@letters.test", "news@letters.test", "news@letters.test",
                                            "news+hive.unknown@letters.test"))
      << out;
}

const std::string kFeedbackPolicy = FeedbackPolicy("127.0.0.21", "127.0.0.22");

TEST(PoolsSendmailTest, BlockRepliesInSendmailsLogStepTheColdMemberBackForThatProviderAtTheThreshold) {
  TempDir gen;
  // A provider throttling this platform: every RCPT gets 421 4.7.0, so
  // every message is deferred. Queue runs retry nothing during the test
  // (confMIN_QUEUE_AGE): each message makes exactly one attempt.
  Sink throttling(gen.Sub("throttling-sink"), gen.Sub("throttling-sink.log"), 0,
                  {"-r", "RCPT", "-b", "421 4.7.0 Try again later, closing connection"});
  const std::string mc = Generate(gen, kFeedbackPolicy) + "define(`RELAY_MAILER_ARGS', `TCP $h " +
                         std::to_string(throttling.port()) + "')dnl\ndefine(`confMIN_QUEUE_AGE', `1h')dnl\n";
  HiveStack stack(StackOptions{.mta = "sendmail",
                               .policy_yaml = kFeedbackPolicy,
                               .milter_yaml = kMilterYaml,
                               .sendmail_mc = mc,
                               .sendmail_hosts = "127.0.0.21\tfb-warm.pools.test\n127.0.0.22\tfb-cold.pools.test\n"});
  Process follower({HIVE_MAILLOG_FOLLOWER_BIN, "--log", stack.dir().Sub("sendmail") + "/maillog", "--policy",
                    "127.0.0.1:" + std::to_string(stack.policy_port()), "--from-start", "--poll-ms", "50",
                    "--sendmail-tag", "hive"},
                   stack.dir().Sub("follower.log"));
  const auto maillog = [&] { return stack.mta().Log(); };
  const auto policyd_log = [&] { return ReadFile(stack.dir().Sub("policyd.log")); };
  const auto follower_log = [&] { return ReadFile(follower.log_path()); };
  const auto diagnostics = [&] { return stack.Diagnostics() + "\n===== follower\n" + follower_log(); };
  // Sends one message and waits for Sendmail's attempt; the member is the
  // tag the milter put on the envelope sender.
  const auto attempt = [&](const std::string& rcpt, const std::string& member) {
    EXPECT_THAT(Send(stack.smtp_port(), "news@letters.test", rcpt, rcpt), HasSubstr("250"));
    const std::string needle = "to=<" + rcpt + ">, delay=";
    ASSERT_TRUE(WaitForText(maillog, needle)) << diagnostics();
    const std::string log = maillog();
    const std::string line = LineWith(log, needle);
    EXPECT_THAT(line, HasSubstr("stat=Deferred: 421 4.7.0 Try again later"));
    // "... <6>: <qid>: to=<...": the queue id's chgfrom line names the member.
    const std::size_t to = line.find(": to=<");
    const std::size_t space = line.rfind(' ', to);
    const std::string qid = line.substr(space + 1, to - space - 1);
    EXPECT_THAT(log, HasSubstr(qid + ": Milter (hive) chgfrom: <news+hive." + member + "@letters.test>")) << line;
  };

  attempt("first@blocked.test", "fb-cold");
  attempt("second@blocked.test", "fb-cold");
  ASSERT_TRUE(WaitForText(policyd_log, "blocks_in_window=2/3 stepped_back=no")) << diagnostics();
  EXPECT_THAT(policyd_log(), Not(HasSubstr("step-back")));
  attempt("third@blocked.test", "fb-cold");
  ASSERT_TRUE(WaitForText(policyd_log, "warmup member=fb-cold group=blocked step-back")) << diagnostics();
  EXPECT_THAT(policyd_log(), HasSubstr("3 block replies within 10m, the last: queue "));
  EXPECT_THAT(policyd_log(), HasSubstr("4.7.0 421 4.7.0 Try again later"));
  EXPECT_TRUE(WaitForText(follower_log, "member=fb-cold status=deferred dsn=4.7.0 stepped_back=yes")) << diagnostics();

  // Paused for that provider: the warm member; another provider: still cold.
  attempt("fourth@blocked.test", "fb-warm");
  attempt("fifth@fine.test", "fb-cold");
  follower.Stop();
}

// IPv6 members: Sendmail skips a loopback {if_addr} (::1), so, as in
// pools_e2e_test, the test moves itself into a network namespace of its own
// whose lo has 2001:db8::1-3 (documentation addresses, not loopback ones).
// The next hop listens on 2001:db8::1; each pool's member binds its own.
// Last in this file: the namespace cannot be left (ctest runs it alone).
TEST(PoolsSendmailTest, Ipv6MembersLeaveFromTheirOwnAddressesInAPrivateNetworkNamespace) {
  TempDir gen;
  const std::string unavailable = EnterIpv6Namespace(gen.Sub("ip.log"));
  if (!unavailable.empty()) GTEST_SKIP() << unavailable;
  ASSERT_FALSE(::testing::Test::HasFailure()) << "setting up the namespace's lo failed";
  Sink next_hop(gen.Sub("v6-sink"), gen.Sub("v6-sink.log"), 0, {}, kIpv6NextHop);
  // Every address to the IPv6 next hop (this rule comes before the
  // harness' own [127.0.0.1] one).
  const std::string mc = Generate(gen, kIpv6Policy) + "define(`RELAY_MAILER_ARGS', `TCP $h " +
                         std::to_string(next_hop.port()) + "')dnl\nLOCAL_RULE_0\nR$* < @ $* > $*\t$#relay $@ [IPv6:" +
                         kIpv6NextHop + "] $: $1 < @ $2 > $3\n";
  ASSERT_THAT(mc, HasSubstr("2001:db8::2"));
  HiveStack stack(StackOptions{.mta = "sendmail",
                               .policy_yaml = kIpv6Policy,
                               .milter_yaml = kMilterYaml,
                               .sendmail_mc = mc,
                               .sendmail_hosts = "2001:db8::2\ttx-6.pools.test\n2001:db8::3\tbulk-6.pools.test\n"});
  ExpectIpv6Sources(stack.smtp_port(), next_hop, stack.Diagnostics());
}

}  // namespace
}  // namespace hive::testing
