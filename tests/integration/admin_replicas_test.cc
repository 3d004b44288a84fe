// The policy held in Redis (issue 7): two real hive-policyd replicas on one
// real redis-server. Replica B answers the milter behind a real Postfix;
// replica A answers hivectl. A change applied through A is enforced by B on
// the next message within B's poll interval; a broken version written
// straight into Redis is refused by both, which keep running the old one
// and say why (hivectl status, log, metric) until a good version is applied.
// Usage committed through B ranks in `hivectl top` asked of A (one Redis).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "admin_stack.h"
#include "config/snapshot.h"
#include "harness/net.h"
#include "harness/redis_server.h"
#include "harness/temp_dir.h"
#include "redis/redis_client.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto kPollInterval = std::chrono::seconds(1);

std::string Policy(const std::string& redis, const std::string& extra_limits = "") {
  return R"(limits:
  - name: per-sender
    match: {sender_domain: [shop.example]}
    key: "{sender}"
    cost: messages
    windows:
      - {limit: 100, period: 1h}
)" + extra_limits +
         R"(ratelimit:
  store:
    kind: redis
    redis: {address: ")" +
         redis + R"(", timeout: 1s, policy_poll_interval: 1s}
)";
}

constexpr char kTightLimit[] = R"(  - name: tight
    match: {sender_domain: [tight.example]}
    key: "{sender}"
    cost: messages
    windows:
      - {limit: 1, period: 1h}
)";

TEST(AdminReplicasTest, ApplyThroughOneReplicaIsEnforcedByTheOtherBrokenVersionsAreRefusedByBoth) {
  RedisServer redis;
  TempDir dir;
  // Replica B: the milter's policy service, with metrics and its own admin
  // API. It starts first, on an empty Redis: its file seeds the policy.
  const uint16_t b_port = FreePort(), b_admin = FreePort(), b_metrics = FreePort();
  WriteFile(dir.Sub("b.yaml"), Policy(redis.address()) + "observability: {metrics_listen: \"127.0.0.1:" +
                                   std::to_string(b_metrics) + "\"}\n");
  Process b({HIVE_POLICYD_BIN, "--config", dir.Sub("b.yaml"), "--listen", "127.0.0.1:" + std::to_string(b_port),
             "--admin-listen", "127.0.0.1:" + std::to_string(b_admin)},
            dir.Sub("b.log"));
  ASSERT_TRUE(WaitForListener(b_admin, kAdminWait)) << ReadFile(dir.Sub("b.log"));
  const std::string b_server = "127.0.0.1:" + std::to_string(b_admin);
  // Replica A (its own file: it adopts what Redis holds) and Postfix,
  // whose milter asks B only.
  AdminStack a(Policy(redis.address()), {"--policy", "127.0.0.1:" + std::to_string(b_port)});
  ASSERT_TRUE(a.ok()) << a.Diagnostics();
  auto diagnostics = [&] { return a.Diagnostics() + "\n===== replica B\n" + ReadFile(dir.Sub("b.log")); };

  // Both run the seeded version and say where it lives.
  CtlResult a_status = a.Ctl({"status"});
  ASSERT_EQ(a_status.code, 0) << a_status.output << diagnostics();
  const std::string v0 = VersionAfter(a_status.output, "config version: ");
  ASSERT_EQ(v0.size(), 16u) << a_status.output;
  EXPECT_THAT(a_status.output, HasSubstr("policy store: redis " + redis.address() + " at version " + v0));
  CtlResult b_status = a.CtlAt(b_server, {"status"});
  ASSERT_EQ(b_status.code, 0) << b_status.output;
  EXPECT_THAT(b_status.output, HasSubstr("config version: " + v0));

  // Apply through A; B runs it within its poll interval.
  CtlResult applied =
      a.Ctl({"policy", "apply", a.WriteTemp("tight.yaml", Policy(redis.address(), kTightLimit)), "--version", v0});
  ASSERT_EQ(applied.code, 0) << applied.output << diagnostics();
  const auto applied_at = std::chrono::steady_clock::now();
  const std::string v1 = VersionAfter(applied.output, "applied: version ");
  ASSERT_EQ(v1.size(), 16u) << applied.output;
  // Each replica's server section comes from its own file: one in an apply
  // is refused, not stored to be shown and in force nowhere.
  CtlResult with_server = a.Ctl({"policy", "apply",
                                 a.WriteTemp("server.yaml", Policy(redis.address(), kTightLimit) +
                                                                "server:\n  max_request_bytes: 1048576\n"),
                                 "--version", v1});
  EXPECT_EQ(with_server.code, 2) << with_server.output;
  EXPECT_THAT(with_server.output, HasSubstr("leave it out of what you apply"));
  std::chrono::milliseconds converged{-1};
  while (std::chrono::steady_clock::now() - applied_at < std::chrono::seconds(10)) {
    if (a.CtlAt(b_server, {"status"}).output.find("config version: " + v1) != std::string::npos) {
      converged = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - applied_at);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::printf("[ converge ] replica B ran the applied version %lld ms after the apply returned\n",
              static_cast<long long>(converged.count()));
  // The applied text has no metrics endpoint, B's file has one: what a
  // replica reads at start comes from its own file, so neither replica
  // claims a setting of the stored version waits for a restart (it never
  // applies: a restart reads the file again).
  EXPECT_THAT(ReadFile(dir.Sub("b.log")), Not(HasSubstr("after a restart"))) << diagnostics();
  EXPECT_THAT(a.PolicydLog(), Not(HasSubstr("after a restart")));
  ASSERT_GE(converged.count(), 0) << diagnostics();
  // One interval, plus the time of one hivectl run on a loaded machine.
  EXPECT_LE(converged, kPollInterval + std::chrono::seconds(1)) << diagnostics();
  Transaction first = a.Send("carol@tight.example", "tight one");
  ASSERT_EQ(first.data.code, 250) << first.data.ToString() << diagnostics();
  Transaction second = a.Send("carol@tight.example", "tight two");
  EXPECT_EQ(second.mail.code, 451) << second.mail.ToString() << diagnostics();
  EXPECT_THAT(second.mail.text, HasSubstr("tight"));
  // One ranking for both: A lists the usage B committed, in the shared Redis.
  CtlResult top = a.Ctl({"top", "--limit", "tight"});
  EXPECT_EQ(top.code, 0) << top.output;
  EXPECT_THAT(top.output, HasSubstr("1\tcarol@tight.example\t1\n"));
  // One history for both: B lists A's apply.
  CtlResult history = a.CtlAt(b_server, {"policy", "history"});
  EXPECT_THAT(history.output, HasSubstr("apply  version " + v1 + " (was " + v0 + ")"));
  EXPECT_THAT(history.output, HasSubstr("seed  version " + v0));

  // A broken version written straight into Redis: both refuse it.
  const std::string broken = "limits:\n  - name: broken\n    windows: [{limit: -1, period: never}]\n";
  const std::string vb = policy::config::ConfigVersion(broken);
  policy::redis::RedisClient client({.host = "127.0.0.1", .port = redis.port(), .pool_size = 1,
                                     .timeout = std::chrono::seconds(2)});
  ASSERT_TRUE(client.Command({"SET", "hive:{policy}:v:" + vb, broken}).ok());
  ASSERT_TRUE(client.Command({"SET", "hive:{policy}:head", vb}).ok());
  for (const std::string& server : {std::string(), b_server}) {
    CtlResult s;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    do {
      s = server.empty() ? a.Ctl({"status"}) : a.CtlAt(server, {"status"});
    } while (s.output.find("policy error: version " + vb + " refused") == std::string::npos &&
             std::chrono::steady_clock::now() < until);
    EXPECT_EQ(s.code, 1) << s.output;
    EXPECT_THAT(s.output, HasSubstr("policy error: version " + vb + " refused, keeping version " + v1));
    EXPECT_THAT(s.output, HasSubstr("limits[0].windows[0]"));
    EXPECT_THAT(s.output, HasSubstr("config version: " + v1));
    EXPECT_THAT(s.output, HasSubstr("at version " + vb));
  }
  EXPECT_THAT(ReadFile(dir.Sub("b.log")), HasSubstr("version " + vb + " refused, keeping version " + v1));
  EXPECT_THAT(a.PolicydLog(), HasSubstr("version " + vb + " refused, keeping version " + v1));
  const std::string metrics = ScrapeMetrics(b_metrics);
  EXPECT_THAT(metrics, HasSubstr("hive_policyd_policy_store_in_step 0")) << metrics;
  EXPECT_THAT(metrics, HasSubstr("hive_policyd_config_reloads_total{result=\"failure\"} 1")) << metrics;
  EXPECT_THAT(metrics, HasSubstr("hive_policyd_config_info{version=\"" + v1 + "\"} 1")) << metrics;
  // B still enforces v1 on the next message.
  Transaction third = a.Send("carol@tight.example", "tight three");
  EXPECT_EQ(third.mail.code, 451) << third.mail.ToString() << diagnostics();

  // The way out: roll back to v1 through A (based on the broken head).
  CtlResult rolled = a.Ctl({"policy", "rollback", v1, "--version", vb});
  ASSERT_EQ(rolled.code, 0) << rolled.output << diagnostics();
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  CtlResult healthy;
  do {
    healthy = a.CtlAt(b_server, {"status"});
  } while (healthy.code != 0 && std::chrono::steady_clock::now() < until);
  EXPECT_EQ(healthy.code, 0) << healthy.output;
  EXPECT_THAT(healthy.output, Not(HasSubstr("policy error")));
  EXPECT_THAT(healthy.output, HasSubstr("at version " + v1));
  EXPECT_THAT(ScrapeMetrics(b_metrics), HasSubstr("hive_policyd_policy_store_in_step 1"));
  EXPECT_THAT(ReadFile(dir.Sub("b.log")), HasSubstr("in step again, running version " + v1));
}

// With the policy in Redis a replica's admin access comes from its own
// file, not the store: SIGHUP (which polls the store) re-reads the file's
// tokens too, so a leaked token is revoked without a restart there as well.
TEST(AdminReplicasTest, ARevokedTokenIsRefusedAfterSighupWithThePolicyInRedis) {
  RedisServer redis;
  TempDir dir;
  const uint16_t port = FreePort(), admin = FreePort();
  const auto token_file = [&](const std::string& name, const std::string& token) {
    WriteFile(dir.Sub(name), token);
    return dir.Sub(name);
  };
  const std::string old_token = token_file("old.token", "first-secret");
  const std::string new_token = token_file("new.token", "second-secret");
  // The token's hash as an operator makes it (sha256sum), not our code.
  const auto config = [&](const std::string& name, const std::string& token) {
    const std::string cmd = "printf %s '" + token + "' | sha256sum > " + dir.Sub("sha.txt");
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    return Policy(redis.address()) + "server:\n  admin:\n    tokens: [{name: " + name +
           ", sha256: " + ReadFile(dir.Sub("sha.txt")).substr(0, 64) + ", role: viewer}]\n";
  };
  WriteFile(dir.Sub("p.yaml"), config("ci", "first-secret"));
  Process policyd({HIVE_POLICYD_BIN, "--config", dir.Sub("p.yaml"), "--listen", "127.0.0.1:" + std::to_string(port),
                   "--admin-listen", "127.0.0.1:" + std::to_string(admin)},
                  dir.Sub("p.log"));
  ASSERT_TRUE(WaitForListener(admin, kAdminWait)) << ReadFile(dir.Sub("p.log"));
  const auto ctl = [&](const std::string& token, const std::vector<std::string>& args) {
    std::vector<std::string> argv{HIVECTL_BIN, "--server", "127.0.0.1:" + std::to_string(admin), "--token-file",
                                  token};
    argv.insert(argv.end(), args.begin(), args.end());
    Process run(argv, dir.Sub("ctl.log"));
    EXPECT_TRUE(run.WaitExit(kAdminWait));
    return CtlResult{WIFEXITED(run.ExitStatus()) ? WEXITSTATUS(run.ExitStatus()) : -1, ReadFile(dir.Sub("ctl.log"))};
  };
  const auto status = [&](const std::string& token) { return ctl(token, {"status"}); };
  CtlResult before = status(old_token);
  ASSERT_EQ(before.code, 0) << before.output << ReadFile(dir.Sub("p.log"));
  EXPECT_THAT(before.output, HasSubstr("policy store: redis "));
  // The seed left the file's server section out: no token hash in the
  // store to outlive its revocation.
  CtlResult stored = ctl(old_token, {"policy", "get"});
  ASSERT_EQ(stored.code, 0) << stored.output;
  EXPECT_THAT(stored.output, HasSubstr("per-sender"));
  EXPECT_THAT(stored.output, Not(HasSubstr("sha256")));

  WriteFile(dir.Sub("p.yaml"), config("ci-2", "second-secret"));
  ASSERT_EQ(kill(policyd.pid(), SIGHUP), 0);
  const auto deadline = std::chrono::steady_clock::now() + kAdminWait;
  while (ReadFile(dir.Sub("p.log")).find("admin: access settings in force") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CtlResult revoked = status(old_token);
  EXPECT_EQ(revoked.code, 5) << revoked.output << ReadFile(dir.Sub("p.log"));
  EXPECT_THAT(revoked.output, HasSubstr("bearer token not recognised"));
  CtlResult replaced = status(new_token);
  EXPECT_EQ(replaced.code, 0) << replaced.output;
  EXPECT_THAT(replaced.output, HasSubstr("admin access: tokens ci-2 (viewer)"));
  EXPECT_TRUE(policyd.Running());
}

}  // namespace
}  // namespace hive::testing
