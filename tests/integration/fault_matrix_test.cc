// The fault matrix of issue 8 (docs/failure-modes.md): a steady stream of
// uniquely tagged messages from several client threads through a real MTA
// (Postfix; Sendmail too where the MTA takes part) -> hive-milter ->
// hive-policyd (-> Redis) to a sink, one fault injected
// mid-stream, then every message accounted for (fault/traffic.h): delivered
// exactly once, or still with the client after a 4xx, or refused with a 5xx;
// nothing policy refuses is ever delivered. Each test is one stack and a
// group of faults run in turn (a stack costs seconds to start); each step
// heals its fault before the next. Every wait is bounded; signals go to PIDs
// this test started.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <thread>

#include "absl/strings/ascii.h"
#include "fault/fault_stack.h"
#include "fault/traffic.h"
#include "harness/hive_stack.h"
#include "harness/net.h"
#include "harness/smtp_client.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kCap = 5;  // the `capped` limit below, per sender per hour

// Spam (refusable) is refused by content; capped.example senders have 5
// messages an hour; a message nested deeper than 3 MIME levels is poison.
constexpr char kPolicy[] = R"(
limits:
  - name: capped
    match: {sender_domain: [capped.example]}
    key: "{sender}"
    cost: messages
    windows:
      - {limit: 5, period: 1h}
content:
  rules:
    - {name: POISON_WORD, target: body, regex: "BUY-NOW-PILLS", weight: 20}
  checks:
    enabled: true
    weights: [{name: MIME_LIMIT_DEPTH, weight: 20}]
  parse_limits: {max_depth: 3}
  reject_score: 10
)";

// The same with a second rule (the reload under load adds it).
std::string PolicyV2() {
  std::string yaml = kPolicy;
  const std::string rule = "    - {name: POISON_WORD, target: body, regex: \"BUY-NOW-PILLS\", weight: 20}\n";
  yaml.insert(yaml.find(rule) + rule.size(),
              "    - {name: NEW_RULE, target: subject, regex: \"added-by-reload\", weight: 20}\n");
  return yaml;
}

// Counters in Redis; every message needs it (the `everyone` rule).
constexpr char kRedisPolicy[] = R"(
limits:
  - name: capped
    match: {sender_domain: [capped.example]}
    key: "{sender}"
    cost: messages
    windows:
      - {limit: 5, period: 1h}
  - name: everyone
    key: "{sender}"
    cost: messages
    windows:
      - {limit: 100000, period: 1h}
ratelimit:
  store:
    kind: redis
    redis: {address: "{redis}", timeout: 200ms, on_outage: tempfail, retry_interval: 200ms}
content:
  rules:
    - {name: POISON_WORD, target: body, regex: "BUY-NOW-PILLS", weight: 20}
  reject_score: 10
)";

// A deadline well above a loaded ASan build's normal latency, well below
// Postfix's 10 s milter_command_timeout of the test instance.
constexpr char kMilterYaml[] = "rpc_timeout: 1s\nfailure_mode: tempfail\n";
constexpr auto kStageBound = std::chrono::seconds(5);

// Letter i of a stream: every 5th is spam (must never be delivered), every
// 5th (offset 2) comes from `capped_sender`, the rest from three bulk senders.
std::function<Letter(int, const std::string&)> Mix(const std::string& capped_sender) {
  return [capped_sender](int i, const std::string& tag) {
    Letter l;
    l.tag = tag;
    if (i % 5 == 4) {
      l.sender = "promo@bulk.example";
      l.refusable = true;
      l.message = MakeMessage(l.sender, "rcpt@dest.example", "offer " + tag, "BUY-NOW-PILLS today");
    } else {
      l.sender = i % 5 == 2 ? capped_sender : "bulk" + std::to_string(i % 3) + "@bulk.example";
      l.message = MakeMessage(l.sender, "rcpt@dest.example", "news " + tag, "hello " + tag);
    }
    return l;
  };
}

int CountOf(const std::vector<Sent>& sent, const std::string& sender, Outcome outcome) {
  int n = 0;
  for (const Sent& s : sent) n += s.letter.sender == sender && s.outcome == outcome ? 1 : 0;
  return n;
}

int SentBy(const std::vector<Sent>& sent, const std::string& sender) {
  int n = 0;
  for (const Sent& s : sent) n += s.letter.sender == sender ? 1 : 0;
  return n;
}

// Every refusal seen is a tempfail from hive or the MTA, a content 5xx, or
// a limit 451; never anything else.
void ExpectOnlyKnownRefusals(const std::vector<Sent>& sent) {
  for (const Sent& s : sent) {
    if (s.outcome == Outcome::kRejected) {
      EXPECT_TRUE(s.letter.refusable) << s.letter.tag << " " << s.reply.ToString();
    }
  }
}

bool WaitForLog(const std::function<std::string()>& log, const std::string& needle, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (log().find(needle) == std::string::npos) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

// Recovery without an operator, within a bound (R): a probe gets through.
constexpr auto kRecoveryBound = std::chrono::seconds(10);
#define EXPECT_RECOVERS(stack, prefix)                                                      \
  do {                                                                                      \
    const auto took = WaitForRecovery((stack).smtp_port(), (prefix), kRecoveryBound);       \
    ASSERT_TRUE(took.has_value()) << "no recovery within 10 s" << (stack).Diagnostics();    \
    std::printf("[ recovery ] %s: %lld ms\n", (prefix), static_cast<long long>(took->count())); \
  } while (0)

// One fault in the middle of a steady stream: `inject` once `inject_after`
// sessions have finished, `heal` once `heal_after` have (the sessions in
// between meet the fault; heal runs even when that point is not reached).
struct Outage {
  std::string prefix;  // tags "[fm:<prefix>-NNNN]", probes "<prefix>-probe"
  std::string capped;  // Mix's capped sender
  int messages = 45;
  int inject_after = 10;
  int heal_after = 18;
  std::function<void()> inject;
  std::function<void()> heal;
};

// Runs `outage`, waits for recovery, and checks what every outage must
// show: every message accounted for, some tempfailed and some accepted, no
// refusal but the known ones.
// Every attempt goes to `sent`; fatal failures end the caller's test
// through ASSERT_NO_FATAL_FAILURE.
void StreamThroughOutage(FaultStack& stack, const Outage& outage, std::vector<Sent>& sent) {
  Traffic traffic(stack.smtp_port(), {.prefix = outage.prefix, .messages = outage.messages, .threads = 3},
                  Mix(outage.capped));
  const bool started = WaitUntilFinished(traffic, outage.inject_after);
  if (started) outage.inject();
  const bool reached = started && WaitUntilFinished(traffic, outage.heal_after);
  if (started) outage.heal();
  sent = traffic.Wait();
  ASSERT_TRUE(reached) << stack.Diagnostics();
  const std::string probe = outage.prefix + "-probe";
  EXPECT_RECOVERS(stack, probe.c_str());
  const Ledger during = Reconcile(sent, stack.sink(), stack.mta());
  EXPECT_TRUE(during.problems.empty()) << during.Summary() << stack.Diagnostics();
  EXPECT_GT(during.tempfailed, 0) << "the outage must show as 4xx, nothing passes unchecked: " << during.Summary();
  EXPECT_GT(during.accepted, 0) << during.Summary();
  ExpectOnlyKnownRefusals(sent);
}

// A message nested 7 MIME levels deep: over max_depth 3, every time.
std::string PoisonMessage(const std::string& tag) {
  std::string body, tail;
  for (int i = 0; i < 6; ++i) {
    body += "--n" + std::to_string(i) + "\r\nContent-Type: multipart/mixed; boundary=\"n" + std::to_string(i + 1) +
            "\"\r\n\r\n";
    tail = "--n" + std::to_string(i) + "--\r\n" + tail;
  }
  body += "--n6\r\nContent-Type: text/plain\r\n\r\nnested too deep\r\n--n6--\r\n" + tail;
  return MakeMessage("deep@bulk.example", "rcpt@dest.example", "deep " + tag, body,
                     {"MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=\"n0\""});
}

// The scenarios where the MTA takes part in the outcome (it relays the
// milter's replies, and decides alone when the milter is gone) run on every
// MTA; those about hive-policyd and Redis alone run on Postfix only
// (docs/failure-modes.md, "Which MTAs").
class FaultMatrix : public ::testing::TestWithParam<std::string> {};

// What the MTA logs when it, not hive-milter, gave up waiting for the milter.
std::string MilterTimeoutText(const std::string& mta) { return mta == "sendmail" ? "timeout" : "timed out"; }

// Policyd SIGKILLed mid-stream and restarted; then SIGSTOPped past the
// milter's deadline and resumed; after each, the clients retry.
TEST_P(FaultMatrix, PolicydKilledThenPausedPastTheDeadline) {
  FaultStack stack({.policy_yaml = kPolicy, .milter_yaml = kMilterYaml, .mta = GetParam()});

  {
    SCOPED_TRACE("policyd killed mid-stream, restarted");
    const std::string capped = "killed@capped.example";
    std::vector<Sent> sent;
    ASSERT_NO_FATAL_FAILURE(StreamThroughOutage(stack,
                                                {.prefix = "pk", .capped = capped, .heal_after = 20,
                                                 .inject = [&] { stack.KillPolicyd(); },
                                                 .heal = [&] { stack.StartPolicyd(); }},
                                                sent));
    // (L): the milter says why it refused.
    EXPECT_THAT(stack.MilterLog(), HasSubstr("rpc UNAVAILABLE"));

    // The clients' queues retry: everything but spam and the capped sender's
    // excess arrives exactly once. The in-memory counters died with the
    // process, so the capped sender may get up to one more full limit.
    sent = RetryTempfailed(stack.smtp_port(), std::move(sent), 3, 3, std::chrono::milliseconds(300));
    Ledger after = Reconcile(sent, stack.sink(), stack.mta());
    EXPECT_TRUE(after.problems.empty()) << after.Summary() << stack.Diagnostics();
    EXPECT_EQ(after.tempfailed, SentBy(sent, capped) - CountOf(sent, capped, Outcome::kAccepted)) << after.Summary();
    EXPECT_LE(after.accepted_by_sender[capped], 2 * kCap) << after.Summary();
    EXPECT_EQ(after.rejected, SentBy(sent, "promo@bulk.example")) << after.Summary();
  }

  {
    SCOPED_TRACE("policyd paused (SIGSTOP) past the milter's deadline, resumed");
    const std::string capped = "paused@capped.example";
    EXPECT_RECOVERS(stack, "pp-ready");
    // At least six sessions meet the silent service.
    std::vector<Sent> sent;
    ASSERT_NO_FATAL_FAILURE(StreamThroughOutage(stack,
                                                {.prefix = "pp", .capped = capped, .inject_after = 8,
                                                 .heal_after = 14, .inject = [&] { stack.PausePolicyd(); },
                                                 .heal = [&] { stack.ResumePolicyd(); }},
                                                sent));
    // The milter's deadline, not Postfix's timeout, ended each stage.
    for (const Sent& s : sent) {
      EXPECT_LT(s.took, kStageBound) << s.letter.tag << " " << s.reply.ToString();
    }
    EXPECT_THAT(stack.MilterLog(), HasSubstr("DEADLINE_EXCEEDED"));
    EXPECT_THAT(stack.mta().Log(), Not(HasSubstr(MilterTimeoutText(GetParam())))) << stack.Diagnostics();

    // Retry storm after the stall: the capped sender never gets more than its
    // limit (limits hold). It may get less: a RCPT the stalled service handled
    // after the milter gave up reserved a unit, and when the session's
    // EndTransaction also met the stalled service that unit stays counted
    // until the reservation TTL (the strict side, docs/failure-modes.md) —
    // at most one such unit per client thread in flight.
    constexpr int kThreads = 3;  // Traffic's client threads during the stall
    sent = RetryTempfailed(stack.smtp_port(), std::move(sent), 4, 3, std::chrono::milliseconds(300));
    Ledger after = Reconcile(sent, stack.sink(), stack.mta());
    EXPECT_TRUE(after.problems.empty()) << after.Summary() << stack.Diagnostics();
    ASSERT_GT(SentBy(sent, capped), kCap);
    const int capped_accepted = after.accepted_by_sender[capped];
    EXPECT_LE(capped_accepted, kCap) << after.Summary() << stack.Diagnostics();
    EXPECT_GE(capped_accepted, kCap - kThreads) << after.Summary() << stack.Diagnostics();
    EXPECT_EQ(after.tempfailed, SentBy(sent, capped) - capped_accepted) << after.Summary();
    for (const Sent& s : sent) {
      if (s.outcome == Outcome::kTempfailed) {
        EXPECT_THAT(s.reply.text, HasSubstr("capped")) << s.reply.ToString();
      }
    }
  }
}

// A broken file sent with SIGHUP mid-stream keeps the running policy; a good
// one under load takes over without a single 4xx. Then a poison message.
TEST(FaultMatrixPostfix, ReloadsBrokenAndUnderLoadThenPoisonMessage) {
  // hive-policyd's Prometheus endpoint counts reloads by result.
  const uint16_t metrics_port = FreePort();
  const std::string observability =
      "observability: {metrics_listen: \"127.0.0.1:" + std::to_string(metrics_port) + "\"}\n";
  FaultStack stack({.policy_yaml = observability + kPolicy, .milter_yaml = kMilterYaml});
  auto policyd_log = [&] { return stack.PolicydLog(); };
  const std::string failed_reloads = "hive_policyd_config_reloads_total{result=\"failure\"} 1";
  const std::string good_reloads = "hive_policyd_config_reloads_total{result=\"success\"} 1";

  {
    SCOPED_TRACE("reload with a broken file, then a good one, under load");
    Traffic traffic(stack.smtp_port(), {.prefix = "rl", .messages = 45, .threads = 3}, Mix("reload@capped.example"));
    ASSERT_TRUE(WaitUntilFinished(traffic, 8)) << stack.Diagnostics();
    stack.ReloadPolicyd("limits:\n  - name: broken\n    windows: [{limit: -1, period: never}\n");
    ASSERT_TRUE(WaitForLog(policyd_log, "failed, keeping config version", std::chrono::seconds(10)))
        << stack.Diagnostics();
    ASSERT_TRUE(WaitForLog([&] { return ScrapeMetrics(metrics_port); }, failed_reloads, std::chrono::seconds(10)))
        << ScrapeMetrics(metrics_port);
    ASSERT_TRUE(WaitUntilFinished(traffic, 22)) << stack.Diagnostics();
    stack.ReloadPolicyd(observability + PolicyV2());
    ASSERT_TRUE(WaitForLog(policyd_log, "reloaded ", std::chrono::seconds(10))) << stack.Diagnostics();
    EXPECT_THAT(ScrapeMetrics(metrics_port), HasSubstr(good_reloads));
    std::vector<Sent> sent = traffic.Wait();
    Ledger l = Reconcile(sent, stack.sink(), stack.mta());
    EXPECT_TRUE(l.problems.empty()) << l.Summary() << stack.Diagnostics();
    // The running policy never stopped deciding: no 4xx but the capped
    // sender's own, spam refused throughout.
    EXPECT_EQ(l.tempfailed, std::max(0, SentBy(sent, "reload@capped.example") - kCap)) << l.Summary();
    EXPECT_EQ(l.rejected, SentBy(sent, "promo@bulk.example")) << l.Summary();
    // The reason is logged, with the file and line.
    EXPECT_THAT(stack.PolicydLog(), HasSubstr("reload: ")) << stack.Diagnostics();
    // The new rule applies.
    Sent s = SendLetter(stack.smtp_port(), {.tag = "new", .sender = "n@bulk.example",
                                            .message = MakeMessage("n@bulk.example", "rcpt@dest.example",
                                                                   "added-by-reload", "hello")});
    EXPECT_EQ(s.reply.code, 550) << s.reply.ToString() << stack.Diagnostics();
    EXPECT_THAT(s.reply.text, HasSubstr("NEW_RULE"));
  }

  {
    SCOPED_TRACE("poison message sent three times");
    for (int i = 0; i < 3; ++i) {
      const std::string tag = Tag("poison", i);
      Sent s = SendLetter(stack.smtp_port(), {.tag = tag, .sender = "deep@bulk.example", .message = PoisonMessage(tag),
                                              .refusable = true});
      EXPECT_EQ(s.outcome, Outcome::kRejected) << s.reply.ToString() << stack.Diagnostics();
      EXPECT_EQ(s.reply.code, 550) << s.reply.ToString();
      EXPECT_THAT(s.reply.text, HasSubstr("MIME_LIMIT_DEPTH"));
    }
    EXPECT_EQ(stack.mta().QueuedMessages(), 0);
  }
}

// SIGKILL of hive-milter mid-stream, and at chosen stages of one session;
// the MTA's failure action (Postfix milter_default_action = tempfail,
// Sendmail F=T) answers 4xx for the rest of that session; the restarted
// milter serves the next ones.
TEST_P(FaultMatrix, MilterKilledMidStreamAndAtEachStage) {
  FaultStack stack({.policy_yaml = kPolicy, .milter_yaml = kMilterYaml, .mta = GetParam()});

  {
    SCOPED_TRACE("milter killed mid-stream, restarted");
    std::vector<Sent> sent;
    ASSERT_NO_FATAL_FAILURE(StreamThroughOutage(stack,
                                                {.prefix = "mk", .capped = "mk@capped.example",
                                                 .inject = [&] { stack.KillMilter(); },
                                                 .heal = [&] { stack.StartMilter(); }},
                                                sent));
    sent = RetryTempfailed(stack.smtp_port(), std::move(sent), 3, 3, std::chrono::milliseconds(300));
    Ledger after = Reconcile(sent, stack.sink(), stack.mta());
    EXPECT_TRUE(after.problems.empty()) << after.Summary() << stack.Diagnostics();
    // Only the capped sender's excess is still with the client. A session
    // the kill cut after RCPT keeps its reservation consumed (no
    // EndTransaction came), so the sender may get less than its limit, never more.
    EXPECT_LE(after.accepted_by_sender["mk@capped.example"], kCap) << after.Summary();
    for (const Sent& s : sent) {
      if (s.outcome == Outcome::kTempfailed) {
        EXPECT_EQ(s.letter.sender, "mk@capped.example") << s.letter.tag << " " << s.reply.ToString();
      }
    }
  }

  // Kill the milter after the stage named, then go on with the session.
  for (const std::string stage : {"connect", "mail", "rcpt"}) {
    SCOPED_TRACE("milter killed after " + stage);
    const std::string tag = Tag("stage-" + stage, 0);
    SmtpClient client(std::chrono::seconds(20));
    ASSERT_EQ(client.Connect(stack.smtp_port()).code, 220);
    // Each command only while the previous one was accepted, as a client would.
    std::vector<SmtpReply> replies;
    auto step = [&](const std::function<SmtpReply()>& command) {
      if (replies.empty() || replies.back().positive()) replies.push_back(command());
    };
    step([&] { return client.Command("EHLO client.test.invalid"); });
    if (stage == "connect") stack.KillMilter();
    step([&] { return client.Command("MAIL FROM:<st@bulk.example>"); });
    if (stage == "mail") stack.KillMilter();
    step([&] { return client.Command("RCPT TO:<rcpt@dest.example>"); });
    if (stage == "rcpt") stack.KillMilter();
    step([&] { return client.Data(MakeMessage("st@bulk.example", "rcpt@dest.example", "stage " + tag, "hi")); });
    client.Command("QUIT");
    // Before the kill, positive; the first reply after it a 4xx (never 5xx, never 250).
    bool refused = false;
    for (const SmtpReply& r : replies) {
      if (!r.positive()) {
        if (!refused) std::printf("[ refused ] %s, milter killed after %s: %s\n", GetParam().c_str(), stage.c_str(), r.ToString().c_str());
        refused = true;
        EXPECT_GE(r.code, 400) << r.ToString();
        EXPECT_LT(r.code, 500) << r.ToString();
      }
    }
    EXPECT_TRUE(refused) << stack.Diagnostics();
    EXPECT_NE(replies.back().code, 250);
    // Postfix removes an aborted transaction's incoming queue file a moment
    // after the session ends: none may stay, and the message is not delivered.
    EXPECT_TRUE(stack.mta().WaitForEmptyQueue(std::chrono::seconds(10))) << "a queue file stayed for a tempfailed message";
    EXPECT_TRUE(stack.sink().WaitForMessageContaining(tag, std::chrono::milliseconds(500)).empty()) << tag;
    stack.StartMilter();
    EXPECT_RECOVERS(stack, ("stage-probe-" + stage).c_str());
    Sent again = SendLetter(stack.smtp_port(),
                            {.tag = tag, .sender = "st@bulk.example",
                             .message = MakeMessage("st@bulk.example", "rcpt@dest.example", "stage " + tag, "hi")});
    EXPECT_EQ(again.outcome, Outcome::kAccepted) << again.reply.ToString() << stack.Diagnostics();
    EXPECT_FALSE(stack.sink().WaitForMessageContaining(tag, std::chrono::seconds(20)).empty());
  }
  // The MTA's side of the story, as reliability.md §3.1 expects it.
  EXPECT_THAT(absl::AsciiStrToLower(stack.mta().Log()), HasSubstr("milter"));
}

// Counters in Redis: Redis killed and restarted, paused past its timeout,
// flushed; then a policyd outage followed by a retry storm.
TEST(FaultMatrixPostfix, RedisKilledPausedFlushedAndRetryStorm) {
  FaultStack stack({.policy_yaml = kRedisPolicy, .milter_yaml = kMilterYaml, .with_redis = true});

  {
    SCOPED_TRACE("redis killed mid-stream, restarted (empty)");
    std::vector<Sent> sent;
    ASSERT_NO_FATAL_FAILURE(StreamThroughOutage(stack,
                                                {.prefix = "rk", .capped = "rk@capped.example",
                                                 .inject = [&] { stack.KillRedis(); },
                                                 .heal = [&] { stack.StartRedis(); }},
                                                sent));
    Ledger l = Reconcile(sent, stack.sink(), stack.mta());
    // Restarted empty: the capped sender may get one more full limit.
    EXPECT_LE(l.accepted_by_sender["rk@capped.example"], 2 * kCap) << l.Summary();
  }

  {
    SCOPED_TRACE("redis paused (SIGSTOP) past its timeout, resumed");
    std::vector<Sent> sent;
    ASSERT_NO_FATAL_FAILURE(StreamThroughOutage(stack,
                                                {.prefix = "rp", .capped = "rp@capped.example", .messages = 40,
                                                 .inject_after = 8, .heal_after = 16,
                                                 .inject = [&] { stack.PauseRedis(); },
                                                 .heal = [&] { stack.ResumeRedis(); }},
                                                sent));
    for (const Sent& s : sent) {
      EXPECT_LT(s.took, kStageBound) << s.letter.tag << " " << s.reply.ToString();
    }
  }

  {
    SCOPED_TRACE("redis flushed: the counters restart at zero");
    const std::string capped = "flush@capped.example";
    auto send = [&](int i) {
      const std::string tag = Tag("flush", i);
      return SendLetter(stack.smtp_port(), {.tag = tag, .sender = capped,
                                            .message = MakeMessage(capped, "rcpt@dest.example", "f " + tag, "x")});
    };
    int i = 0;
    for (; i < kCap; ++i) EXPECT_EQ(send(i).reply.code, 250) << stack.Diagnostics();
    EXPECT_EQ(send(i++).reply.code, 451);
    EXPECT_THAT(stack.RedisCli("FLUSHALL"), HasSubstr("OK"));
    for (int k = 0; k < kCap; ++k, ++i) EXPECT_EQ(send(i).reply.code, 250) << stack.Diagnostics();
    EXPECT_EQ(send(i++).reply.code, 451);
  }

  {
    SCOPED_TRACE("policyd killed and restarted, then a retry storm");
    const std::string capped = "storm@capped.example";
    Traffic traffic(stack.smtp_port(), {.prefix = "rs", .messages = 50, .threads = 3}, Mix(capped));
    ASSERT_TRUE(WaitUntilFinished(traffic, 6)) << stack.Diagnostics();
    stack.KillPolicyd();
    ASSERT_TRUE(WaitUntilFinished(traffic, 30)) << stack.Diagnostics();
    stack.StartPolicyd();
    std::vector<Sent> sent = traffic.Wait();
    EXPECT_RECOVERS(stack, "rs-probe");
    sent = RetryTempfailed(stack.smtp_port(), std::move(sent), 4, 3, std::chrono::milliseconds(300));
    Ledger l = Reconcile(sent, stack.sink(), stack.mta());
    EXPECT_TRUE(l.problems.empty()) << l.Summary() << stack.Diagnostics();
    // The counters live in Redis and survived policyd: the limit holds
    // across the outage and the storm. Never more than the limit; one less
    // when the kill fell between a capped message's commit and its reply
    // reaching the milter (the message was tempfailed but counted: the
    // safe side). A unit only reserved when the kill came is released once
    // the service is back (end_transaction_retry.h), not lost.
    ASSERT_GT(SentBy(sent, capped), kCap);
    EXPECT_LE(l.accepted_by_sender[capped], kCap) << l.Summary() << stack.Diagnostics();
    EXPECT_GE(l.accepted_by_sender[capped], kCap - 1) << l.Summary() << stack.Diagnostics();
    EXPECT_EQ(l.tempfailed, SentBy(sent, capped) - l.accepted_by_sender[capped]) << l.Summary();
    EXPECT_EQ(l.rejected, SentBy(sent, "promo@bulk.example")) << l.Summary();
  }
}

// hive-policyd killed after a recipient reserved its unit and before the
// end of message: the 451 the milter gives there cannot release the unit
// (the service is down), so the milter keeps the release and sends it once
// the service answers again. Without that the unit stayed counted until
// its reservation's TTL (10 min): the sender, refused for the message, was
// also refused its retry.
constexpr char kOneRecipientPolicy[] = R"(
limits:
  - name: one_rcpt
    match: {sender_domain: [capped.example]}
    key: "{sender}"
    cost: recipients
    windows:
      - {limit: 1, period: 1h}
ratelimit:
  store:
    kind: redis
    redis: {address: "{redis}", timeout: 200ms}
)";

TEST_P(FaultMatrix, PolicydKilledAfterRcptReservedReleasesTheUnitOnceBack) {
  const uint16_t metrics_port = FreePort();
  FaultStack stack({.policy_yaml = kOneRecipientPolicy,
                    .milter_yaml = std::string(kMilterYaml) + "observability: {metrics_listen: \"127.0.0.1:" +
                                   std::to_string(metrics_port) + "\"}\n",
                    .with_redis = true,
                    .mta = GetParam()});
  const std::string sender = "once@capped.example";
  const std::string tag = Tag("killed-after-rcpt", 0);
  const std::string message = MakeMessage(sender, "rcpt@dest.example", "retry " + tag, "hi");
  {
    SmtpClient client(std::chrono::seconds(20));
    ASSERT_EQ(client.Connect(stack.smtp_port()).code, 220);
    ASSERT_EQ(client.Command("EHLO client.test.invalid").code, 250);
    ASSERT_EQ(client.Command("MAIL FROM:<" + sender + ">").code, 250) << stack.Diagnostics();
    ASSERT_EQ(client.Command("RCPT TO:<rcpt@dest.example>").code, 250) << stack.Diagnostics();
    stack.KillPolicyd();
    const SmtpReply eom = client.Data(message);
    EXPECT_EQ(eom.code, 451) << eom.ToString() << stack.Diagnostics();
    client.Command("QUIT");
  }
  EXPECT_THAT(stack.MilterLog(), HasSubstr("end reason=REASON_REFUSED")) << stack.Diagnostics();
  EXPECT_EQ(MetricValue(ScrapeMetrics(metrics_port), "hive_milter_releases_kept"), 1);
  stack.StartPolicyd();
  EXPECT_RECOVERS(stack, "killed-after-rcpt-probe");
  EXPECT_THAT(stack.MilterLog(), HasSubstr("end retry: 1 transactions released")) << stack.Diagnostics();
  EXPECT_EQ(MetricValue(ScrapeMetrics(metrics_port), "hive_milter_releases_kept"), 0);
  // The retry gets the unit its first attempt never used.
  Sent again = SendLetter(stack.smtp_port(), {.tag = tag, .sender = sender, .message = message});
  EXPECT_EQ(again.outcome, Outcome::kAccepted) << again.reply.ToString() << stack.Diagnostics();
  EXPECT_FALSE(stack.sink().WaitForMessageContaining(tag, std::chrono::seconds(20)).empty());
  // And the limit still holds.
  Sent third = SendLetter(stack.smtp_port(), {.tag = Tag("killed-after-rcpt", 1), .sender = sender,
                                              .message = MakeMessage(sender, "rcpt@dest.example", "third", "hi")});
  EXPECT_EQ(third.outcome, Outcome::kTempfailed) << third.reply.ToString();
}

INSTANTIATE_TEST_SUITE_P(Mtas, FaultMatrix, ::testing::ValuesIn(AllMtas()),
                         [](const ::testing::TestParamInfo<std::string>& mta) { return mta.param; });

}  // namespace
}  // namespace hive::testing
