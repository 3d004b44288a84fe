// IP pools end to end (issue 6) through a real Postfix: hive-policyd picks
// a pool member, hive-milter marks "X-Hive-Pool: <pool>/<member>", and
// Postfix routes on that mark with the configuration hive-postfix-config
// generates from the very same policy file (so generator and router cannot
// drift). Pool members bind 127.0.0.2-7 (Linux answers all of 127.0.0.0/8
// on loopback); smtp-sink records each delivery's source address
// (X-Client-Addr) and HELO, so every assertion is about where a message
// really left from.
//
//   - each pool's mail leaves from its member's address and HELO, and the
//     routing header never reaches the next hop;
//   - a cold member with a warm-up cap of 3 per provider group takes exactly
//     3 messages, the rest overflow to the warm member; transactional mail
//     (class header) never takes a cold member, other mail of its pool does;
//   - a pool whose only member warms up (cap 3) sends 3 from it, the rest
//     from the member of its overflow pool;
//   - feedback: a next hop answering every RCPT with 421 4.7.0, Postfix's
//     log, the real hive-maillog-follower (started here, stopped by PID),
//     ReportDelivery: two deferrals change nothing, the third (the default
//     block_threshold) steps the cold member back and pauses it for that
//     provider group, the next message to it leaves through the warm
//     member's transport, other groups untouched; the same for a domain
//     outside every provider group (its step-back counts under
//     group="other"); hive-policyd's warm-up metrics (state, sent today,
//     cap, step-backs) follow;
//   - IPv6 members, in a network namespace of the test's own (2001:db8::/64
//     addresses on its lo): each pool's mail leaves from its member's
//     IPv6 address and HELO.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "harness/hive_stack.h"
#include "harness/net.h"
#include "harness/process.h"
#include "harness/smtp_client.h"
#include "harness/temp_dir.h"
#include "pools_support.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto kToolTimeout = std::chrono::seconds(20);

// The Postfix side of the pools, as an operator would produce it.
struct GeneratedPostfix {
  std::string main_cf;
  std::string master_cf;
};

// Runs hive-postfix-config on `policy_yaml`; the maps land in `dir`, where
// main.cf.hive points. Fails the test (empty result) when the tool fails.
//
// FILTER with an empty next hop sends to the recipient's domain (or
// default_filter_nexthop): relayhost and transport_maps do not apply to
// pool-routed mail. The tests have no DNS, so every member delivers to the
// sink on `next_hop_port` (hive-postfix-config --default-nexthop) at
// `next_hop_host`.
GeneratedPostfix Generate(const TempDir& dir, const std::string& policy_yaml, uint16_t next_hop_port,
                          const std::string& next_hop_host = "127.0.0.1") {
  WriteFile(dir.Sub("policyd.yaml"), policy_yaml);
  Process tool({HIVE_POSTFIX_CONFIG_BIN, "--config", dir.Sub("policyd.yaml"), "--out", dir.Sub("pf"),
                "--postfix-dir", dir.Sub("pf"), "--default-nexthop", "[" + next_hop_host + "]:" + std::to_string(next_hop_port)},
               dir.Sub("postfix-config.log"));
  const bool exited = tool.WaitExit(kToolTimeout);
  EXPECT_TRUE(exited && WIFEXITED(tool.ExitStatus()) && WEXITSTATUS(tool.ExitStatus()) == 0)
      << "hive-postfix-config failed: " << ReadFile(dir.Sub("postfix-config.log"));
  return {ReadFile(dir.Sub("pf/main.cf.hive")), ReadFile(dir.Sub("pf/master.cf.hive"))};
}

const PoolAddresses kAddresses{
    .tx = "127.0.0.2", .tx_cold = "127.0.0.5", .bulk_warm = "127.0.0.3", .bulk_cold = "127.0.0.4"};

// Plus a pool whose only member warms up (cap 3): once its cap is spent,
// its mail leaves from its overflow pool's member.
const std::string kOverflowPools =
    "    - name: fresh\n      overflow_pool: spare\n      members:\n"
    "        - {name: fresh-1, address: 127.0.0.6, helo: fresh-1.pools.test, warmup: cap3}\n"
    "    - name: spare\n      members: [{name: spare-1, address: 127.0.0.7, helo: spare-1.pools.test}]\n";
const std::string kOverflowRules = "    - {name: fresh, match: {sender_domain: [fresh.test]}, pool: fresh}\n";

TEST(PoolsEndToEndTest, EachPoolLeavesFromItsMembersAndAColdMemberTakesExactlyItsCap) {
  const std::string policy = CapPolicy(kAddresses, kOverflowPools, kOverflowRules);
  TempDir gen;
  const uint16_t sink_port = FreePort();
  const GeneratedPostfix pf = Generate(gen, policy, sink_port);
  ASSERT_THAT(pf.master_cf, HasSubstr("smtp_bind_address=127.0.0.2"));
  HiveStack stack(StackOptions{.policy_yaml = policy,
                               .postfix_main_cf = pf.main_cf,
                               .postfix_master_cf = pf.master_cf,
                               .sink_port = sink_port});

  const CapTraffic traffic = SendCapTraffic(stack.smtp_port());
  std::vector<std::string> fresh;
  for (int i = 0; i < 5; ++i) {
    fresh.push_back("fresh " + std::to_string(i));
    EXPECT_THAT(Send(stack.smtp_port(), "hello@fresh.test", "ann@gmail.test", fresh.back()), HasSubstr("250"));
  }
  ExpectCapSources(stack.sink(), traffic, kAddresses, stack.Diagnostics());

  // The pool whose only member is cold: exactly its cap from that member,
  // the rest from the overflow pool's member, with that member's HELO.
  std::map<std::string, int> from;
  for (const auto& [subject, source] : SourcesBySubject(stack.sink(), fresh, stack.Diagnostics())) ++from[source];
  EXPECT_EQ(from["127.0.0.6"], 3) << "the cold member takes exactly its cap" << stack.Diagnostics();
  EXPECT_EQ(from["127.0.0.7"], 2) << "the rest overflows to the overflow pool" << stack.Diagnostics();
  EXPECT_EQ(from.size(), 2u) << stack.Diagnostics();
  const std::string overflowed = stack.sink().WaitForMessageContaining("Subject: fresh 4", kDeliveryTimeout);
  EXPECT_EQ(Record(overflowed, "X-Helo-Args"), "spare-1.pools.test");

  // Each member's transport says the HELO hive-postfix-config gave it.
  const std::string receipt = stack.sink().WaitForMessageContaining("Subject: receipt 0", kDeliveryTimeout);
  EXPECT_EQ(Record(receipt, "X-Helo-Args"), "tx-1.pools.test");
  const std::string policyd_log = ReadFile(stack.dir().Sub("policyd.log"));
  EXPECT_THAT(policyd_log, HasSubstr("warmup member=bulk-cold group=google sending_day=1 cap=3"));
  EXPECT_THAT(policyd_log, HasSubstr("pool=spare member=spare-1 why=\"overflow from fresh, warm\""));
}

// "to=<rcpt>, relay=": only a delivery agent's line (not cleanup's) has it.
std::string Delivered(const std::string& rcpt) { return "to=<" + rcpt + ">, relay="; }

// Postfix's log line of the (first) delivery attempt to `rcpt`: the
// service name in it (postfix/hive-<member>/smtp) is the member's transport.
std::string DeliveryLine(const std::string& log, const std::string& rcpt) { return LineWith(log, Delivered(rcpt)); }

const std::string kFeedbackPolicy = FeedbackPolicy("127.0.0.3", "127.0.0.4");

// hive-policyd's warm-up metrics for one member and provider group.
double Warmup(const std::string& text, const std::string& metric, const std::string& group,
              const std::string& state = "") {
  return MetricValue(text, "hive_policyd_warmup_" + metric + "{member=\"fb-cold\",group=\"" + group + "\"" +
                         (state.empty() ? "" : ",state=\"" + state + "\"") + "}");
}

TEST(PoolsEndToEndTest, BlockRepliesInTheMaillogStepTheColdMemberBackForThatProviderAtTheThreshold) {
  TempDir gen;
  const uint16_t metrics_port = FreePort();
  const std::string policy = kFeedbackPolicy + "observability: {metrics_listen: \"127.0.0.1:" +
                             std::to_string(metrics_port) + "\"}\n";
  // A provider throttling this platform: every RCPT gets 421 4.7.0. Each
  // message is deferred, so Postfix's log (not the sink) says which member
  // made each attempt; pools_e2e's other test proves member = address.
  Sink throttling(gen.Sub("throttling-sink"), gen.Sub("throttling-sink.log"), 0,
                  {"-r", "RCPT", "-b", "421 4.7.0 Try again later, closing connection"});
  const GeneratedPostfix pf = Generate(gen, kFeedbackPolicy, throttling.port());
  ASSERT_THAT(pf.master_cf, HasSubstr("syslog_name=postfix/hive-fb-cold"));
  HiveStack stack(StackOptions{.policy_yaml = policy,
                               .postfix_main_cf = pf.main_cf,
                               .postfix_master_cf = pf.master_cf});
  Process follower({HIVE_MAILLOG_FOLLOWER_BIN, "--log", stack.dir().Sub("postfix/maillog"), "--policy",
                    "127.0.0.1:" + std::to_string(stack.policy_port()), "--from-start", "--poll-ms", "50"},
                   stack.dir().Sub("follower.log"));
  const auto maillog = [&] { return stack.mta().Log(); };
  const auto policyd_log = [&] { return ReadFile(stack.dir().Sub("policyd.log")); };
  const auto diagnostics = [&] { return stack.Diagnostics() + "\n===== follower\n" + ReadFile(follower.log_path()); };
  const std::string before = ScrapeMetrics(metrics_port);
  EXPECT_EQ(Warmup(before, "state", "blocked", "cold"), 1) << before;
  EXPECT_EQ(Warmup(before, "sent_today", "blocked"), 0) << before;
  EXPECT_EQ(Warmup(before, "cap", "blocked"), 50) << before;
  EXPECT_EQ(Warmup(before, "step_backs_total", "blocked"), -1) << before;

  // The cold member (cap 50) takes each message; the provider defers it.
  // Fewer block replies than the threshold (3) change nothing.
  const auto defer_through_cold = [&](const std::string& rcpt) {
    EXPECT_THAT(Send(stack.smtp_port(), "news@letters.test", rcpt, rcpt), HasSubstr("250"));
    ASSERT_TRUE(WaitForText(maillog, Delivered(rcpt))) << diagnostics();
    const std::string line = DeliveryLine(maillog(), rcpt);
    EXPECT_THAT(line, HasSubstr("postfix/hive-fb-cold/smtp"));
    EXPECT_THAT(line, HasSubstr("status=deferred"));
  };
  defer_through_cold("first@blocked.test");
  defer_through_cold("second@blocked.test");
  ASSERT_TRUE(WaitForText(policyd_log, "blocks_in_window=2/3 stepped_back=no")) << diagnostics();
  EXPECT_EQ(Warmup(ScrapeMetrics(metrics_port), "state", "blocked", "warming"), 1);
  defer_through_cold("third@blocked.test");
  ASSERT_TRUE(WaitForText(policyd_log, "warmup member=fb-cold group=blocked step-back")) << diagnostics();
  EXPECT_THAT(policyd_log(), HasSubstr("paused=2h reason=\"3 block replies within 10m, the last: queue "));
  EXPECT_THAT(policyd_log(), HasSubstr("4.7.0 421 4.7.0 Try again later"));
  EXPECT_TRUE(WaitForText([&] { return ReadFile(follower.log_path()); }, "stepped_back=yes")) << diagnostics();

  // The next message to that provider leaves from the warm member...
  EXPECT_THAT(Send(stack.smtp_port(), "news@letters.test", "fourth@blocked.test", "fourth"), HasSubstr("250"));
  ASSERT_TRUE(WaitForText(maillog, Delivered("fourth@blocked.test"))) << diagnostics();
  EXPECT_THAT(DeliveryLine(maillog(), "fourth@blocked.test"), HasSubstr("postfix/hive-fb-warm/smtp")) << diagnostics();
  // The metrics say the same: paused for that provider (still day 1,
  // nothing to step back to), one step-back; the other provider untouched.
  const std::string after = ScrapeMetrics(metrics_port);
  EXPECT_EQ(Warmup(after, "state", "blocked", "paused"), 1) << after;
  EXPECT_EQ(Warmup(after, "state", "blocked", "warming"), 0) << after;
  EXPECT_EQ(Warmup(after, "sent_today", "blocked"), 3) << after;
  EXPECT_EQ(Warmup(after, "sending_day", "blocked"), 1) << after;
  EXPECT_EQ(Warmup(after, "step_backs_total", "blocked"), 1) << after;
  EXPECT_EQ(Warmup(after, "state", "fine", "cold"), 1) << after;
  EXPECT_EQ(Warmup(after, "sent_today", "fine"), 0) << after;
  EXPECT_EQ(Warmup(after, "step_backs_total", "other"), -1) << after;
  // ...while another provider still gets the cold one.
  EXPECT_THAT(Send(stack.smtp_port(), "news@letters.test", "fifth@fine.test", "fifth"), HasSubstr("250"));
  ASSERT_TRUE(WaitForText(maillog, Delivered("fifth@fine.test"))) << diagnostics();
  EXPECT_THAT(DeliveryLine(maillog(), "fifth@fine.test"), HasSubstr("postfix/hive-fb-cold/smtp")) << diagnostics();
  EXPECT_EQ(Warmup(ScrapeMetrics(metrics_port), "sent_today", "fine"), 1);

  // A domain outside every provider group is a group of its own: its
  // blocks step the member back for it alone, counted under "other" (the
  // metric's labels come from the config, never from mail).
  defer_through_cold("a@unlisted.test");
  defer_through_cold("b@unlisted.test");
  defer_through_cold("c@unlisted.test");
  ASSERT_TRUE(WaitForText(policyd_log, "warmup member=fb-cold group=unlisted.test step-back")) << diagnostics();
  EXPECT_EQ(Warmup(ScrapeMetrics(metrics_port), "step_backs_total", "other"), 1);
  EXPECT_THAT(Send(stack.smtp_port(), "news@letters.test", "d@unlisted.test", "d"), HasSubstr("250"));
  ASSERT_TRUE(WaitForText(maillog, Delivered("d@unlisted.test"))) << diagnostics();
  EXPECT_THAT(DeliveryLine(maillog(), "d@unlisted.test"), HasSubstr("postfix/hive-fb-warm/smtp")) << diagnostics();
  follower.Stop();
}

// IPv6 members need IPv6 addresses of their own that the kernel answers
// on, and the host's lo has only ::1 (which the test never changes). So the
// test moves itself into a network namespace of its own (unshare: every
// process it starts from here on, Postfix included, inherits it), brings
// that namespace's lo up and gives it documentation addresses. Skipped
// where network namespaces are not available.
TEST(PoolsEndToEndTest, Ipv6MembersLeaveFromTheirOwnAddressesInAPrivateNetworkNamespace) {
  TempDir gen;
  const std::string unavailable = EnterIpv6Namespace(gen.Sub("ip.log"));
  if (!unavailable.empty()) GTEST_SKIP() << unavailable;
  ASSERT_FALSE(::testing::Test::HasFailure()) << "setting up the namespace's lo failed";
  const uint16_t next_hop_port = FreePort();
  Sink next_hop(gen.Sub("v6-sink"), gen.Sub("v6-sink.log"), next_hop_port, {}, kIpv6NextHop);
  const GeneratedPostfix pf = Generate(gen, kIpv6Policy, next_hop_port, kIpv6NextHop);
  ASSERT_THAT(pf.master_cf, HasSubstr("smtp_bind_address6=2001:db8::2"));
  ASSERT_THAT(pf.master_cf, HasSubstr("inet_protocols=ipv6"));
  HiveStack stack(
      StackOptions{.policy_yaml = kIpv6Policy, .postfix_main_cf = pf.main_cf, .postfix_master_cf = pf.master_cf});
  ExpectIpv6Sources(stack.smtp_port(), next_hop, stack.Diagnostics());
}

}  // namespace
}  // namespace hive::testing
