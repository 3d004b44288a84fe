// The daemons as an operator meets them: started as processes, probed over
// real loopback gRPC (health, reflection), and refusing a bad config file
// with an error that names the field and its line.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "harness/net.h"
#include "harness/process.h"
#include "harness/temp_dir.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string PolicydTarget(uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

// Sends `sig` (a reload), then returns the log once it says `said` (at most
// 15 s).
std::string SignalAndLog(pid_t pid, int sig, const std::string& log_path, const std::string& said) {
  EXPECT_EQ(kill(pid, sig), 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  std::string log;
  while ((log = ReadFile(log_path)).find(said) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return log;
}

class PolicydProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_.Sub("policyd.yaml"), "routing:\n  pools: [{name: main}]\n  default_pool: main\n");
    policyd_ = std::make_unique<Process>(
        std::vector<std::string>{HIVE_POLICYD_BIN, "--config", dir_.Sub("policyd.yaml"), "--listen",
                                 PolicydTarget(port_)},
        dir_.Sub("policyd.log"));
    ASSERT_TRUE(WaitForListener(port_, std::chrono::seconds(15))) << ReadFile(dir_.Sub("policyd.log"));
    channel_ = grpc::CreateChannel(PolicydTarget(port_), grpc::InsecureChannelCredentials());
  }

  std::string ReloadAndLog(const std::string& outcome = "reloaded") {
    return SignalAndLog(policyd_->pid(), SIGHUP, dir_.Sub("policyd.log"), outcome);
  }

  TempDir dir_;
  uint16_t port_ = FreePort();
  std::unique_ptr<Process> policyd_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(PolicydProcessTest, HealthServiceReportsServing) {
  auto stub = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  ASSERT_TRUE(stub->Check(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(PolicydProcessTest, ReflectionListsThePolicyService) {
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  auto stream = stub->ServerReflectionInfo(&ctx);
  grpc::reflection::v1alpha::ServerReflectionRequest req;
  req.set_list_services("");
  ASSERT_TRUE(stream->Write(req));
  grpc::reflection::v1alpha::ServerReflectionResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  std::vector<std::string> names;
  for (const auto& s : resp.list_services_response().service()) names.push_back(s.name());
  EXPECT_THAT(names, ::testing::Contains("hive.policy.v1.PolicyService"));
  EXPECT_THAT(names, ::testing::Contains("grpc.health.v1.Health"));

  // grpcurl also needs the file descriptors to describe a call.
  req.set_file_containing_symbol("hive.policy.v1.PolicyService");
  ASSERT_TRUE(stream->Write(req));
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_GT(resp.file_descriptor_response().file_descriptor_proto_size(), 0);
  stream->WritesDone();
}

// A port in use stops a second daemon with the reason: a second
// hive-policyd used to listen too (gRPC's SO_REUSEPORT) and share the
// milters' connections; hive-milter said only "cannot listen".
TEST_F(PolicydProcessTest, APortInUseStopsAnotherDaemonWithTheReason) {
  Process second({HIVE_POLICYD_BIN, "--config", dir_.Sub("policyd.yaml"), "--listen", PolicydTarget(port_)},
                 dir_.Sub("second.log"));
  ASSERT_TRUE(second.WaitExit(std::chrono::seconds(15))) << ReadFile(dir_.Sub("second.log"));
  EXPECT_TRUE(WIFEXITED(second.ExitStatus()) && WEXITSTATUS(second.ExitStatus()) == 1);
  EXPECT_THAT(ReadFile(dir_.Sub("second.log")), HasSubstr("cannot listen on " + PolicydTarget(port_)));

  const std::string spec = "inet:" + std::to_string(port_) + "@127.0.0.1";
  Process milter({HIVE_MILTER_BIN, "--listen", spec, "--policy", PolicydTarget(port_)}, dir_.Sub("milter.log"));
  ASSERT_TRUE(milter.WaitExit(std::chrono::seconds(15))) << ReadFile(dir_.Sub("milter.log"));
  EXPECT_TRUE(WIFEXITED(milter.ExitStatus()) && WEXITSTATUS(milter.ExitStatus()) == 1);
  EXPECT_THAT(ReadFile(dir_.Sub("milter.log")), HasSubstr("cannot listen on " + spec + ": Address already in use"));
  EXPECT_EQ(policyd_->ExitStatus(), -1);  // the first one serves on
}

TEST_F(PolicydProcessTest, StopsCleanlyOnSigterm) {
  policyd_->Stop();
  const int status = policyd_->ExitStatus();
  ASSERT_TRUE(WIFEXITED(status)) << ReadFile(dir_.Sub("policyd.log"));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// The counter store is built once at start; a reload that changes it keeps
// the running one and must say so (else an operator believes it moved).
TEST_F(PolicydProcessTest, ReloadChangingTheStoreWarnsThatARestartIsNeeded) {
  // Nothing connects to this address: a reload builds no store.
  WriteFile(dir_.Sub("policyd.yaml"),
            "routing:\n  pools: [{name: main}]\n  default_pool: main\n"
            "ratelimit:\n  store:\n    kind: redis\n    redis: {address: \"127.0.0.1:1\"}\n");
  const std::string log = ReloadAndLog();
  EXPECT_THAT(log, HasSubstr("ratelimit.store changed; the running store is kept until a restart"));
  EXPECT_THAT(log, HasSubstr("reloaded"));
}

// Without an admin API at start there is no access control to update: a
// reload that adds tokens says that they apply after a restart. (With one,
// they apply at once: SecurityTest.ARevokedTokenIsRefusedAfterAReload...)
TEST_F(PolicydProcessTest, ReloadChangingAdminTokensWarnsThatARestartIsNeeded) {
  WriteFile(dir_.Sub("policyd.yaml"),
            "routing:\n  pools: [{name: main}]\n  default_pool: main\n"
            "server:\n  admin:\n    tokens:\n      - {name: ci, sha256: "
            "01a9119ca65b23539bbc977f36d9318334c72052593c35edb34cf3b162ec7136, role: viewer}\n");
  const std::string log = ReloadAndLog();
  EXPECT_THAT(log, HasSubstr("server.admin principals / tokens / local_role changed; they apply after a restart"));
  EXPECT_THAT(log, HasSubstr("reloaded"));
}

// What passes a reload must also start: a malformed admin token (read only
// at start) used to pass SIGHUP with a warning and then stop the next
// restart. The reload is refused with the reason; the running config serves.
TEST_F(PolicydProcessTest, ReloadOfAFileARestartWouldRefuseKeepsTheRunningConfig) {
  WriteFile(dir_.Sub("policyd.yaml"),
            "routing:\n  pools: [{name: main}]\n  default_pool: main\n"
            "server:\n  admin:\n    listen: " + PolicydTarget(FreePort()) +
                "\n    tokens: [{name: grafana, sha256: abc, role: viewer}]\n");
  const std::string log = ReloadAndLog("failed, keeping config version");
  EXPECT_THAT(log, HasSubstr("a restart would refuse it: server.admin.tokens[0].sha256: 64 hex digits"));
  EXPECT_THAT(log, Not(HasSubstr("reloaded")));
  auto stub = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::health::v1::HealthCheckResponse resp;
  ASSERT_TRUE(stub->Check(&ctx, grpc::health::v1::HealthCheckRequest(), &resp).ok());
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

// The metrics endpoint and the log format are set up at start: a reload
// that changes them says so (else an operator looks for a port that is not
// there).
TEST_F(PolicydProcessTest, ReloadChangingTheMetricsEndpointWarnsThatARestartIsNeeded) {
  WriteFile(dir_.Sub("policyd.yaml"),
            "routing:\n  pools: [{name: main}]\n  default_pool: main\n"
            "observability: {metrics_listen: \"" + PolicydTarget(FreePort()) + "\"}\n");
  const std::string log = ReloadAndLog();
  EXPECT_THAT(log, HasSubstr("observability.metrics_listen / observability.log_json changed; they apply after a "
                             "restart"));
  EXPECT_THAT(log, HasSubstr("reloaded"));
}

// Runs a daemon that must refuse its config at start: exit code 2 and an
// error naming the file, line and field path.
std::string RunExpectingConfigError(const std::vector<std::string>& argv, const TempDir& dir) {
  Process p(argv, dir.Sub("out.log"));
  EXPECT_TRUE(p.WaitExit(std::chrono::seconds(15)));
  const int status = p.ExitStatus();
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  return ReadFile(dir.Sub("out.log"));
}

TEST(ConfigErrorTest, PolicydRefusesAnUnknownFieldNamingTheLine) {
  TempDir dir;
  WriteFile(dir.Sub("bad.yaml"), "limits:\n  - name: a\n    key: \"{sender}\"\n    windows:\n      - {limit: 1, perod: 1s}\n");
  const std::string out = RunExpectingConfigError(
      {HIVE_POLICYD_BIN, "--config", dir.Sub("bad.yaml"), "--listen", PolicydTarget(FreePort())}, dir);
  EXPECT_THAT(out, HasSubstr("bad.yaml:5:"));
  EXPECT_THAT(out, HasSubstr("limits[0].windows[0].perod"));
}

TEST(ConfigErrorTest, PolicydRefusesABadRegexNamingTheLine) {
  TempDir dir;
  WriteFile(dir.Sub("bad.yaml"), "content:\n  rules:\n    - name: BROKEN\n      target: body\n      regex: \"(unclosed\"\n      weight: 1\n");
  const std::string out = RunExpectingConfigError(
      {HIVE_POLICYD_BIN, "--config", dir.Sub("bad.yaml"), "--listen", PolicydTarget(FreePort())}, dir);
  EXPECT_THAT(out, HasSubstr("bad.yaml:5:"));
  EXPECT_THAT(out, HasSubstr("content.rules[0].regex"));
}

// `hive-policyd --check` (the unit's ExecStartPre) makes every check start
// makes before it listens: it passed a plaintext listener off loopback or a
// malformed admin token that start then refused.
TEST(ConfigErrorTest, PolicydCheckRefusesWhatStartWouldRefuse) {
  TempDir dir;
  WriteFile(dir.Sub("open.yaml"), "server: {listen: \"0.0.0.0:" + std::to_string(FreePort()) + "\"}\n");
  const std::string open = RunExpectingConfigError({HIVE_POLICYD_BIN, "--check", "--config", dir.Sub("open.yaml")}, dir);
  EXPECT_THAT(open, HasSubstr("open.yaml: policy listener: plaintext gRPC on 0.0.0.0:"));
  EXPECT_THAT(open, Not(HasSubstr(": OK")));
  WriteFile(dir.Sub("token.yaml"), "server:\n  admin:\n    listen: " + PolicydTarget(FreePort()) +
                                       "\n    tokens: [{name: grafana, sha256: abc, role: viewer}]\n");
  const std::string token = RunExpectingConfigError({HIVE_POLICYD_BIN, "--check", "--config", dir.Sub("token.yaml")}, dir);
  EXPECT_THAT(token, HasSubstr("server.admin.tokens[0].sha256: 64 hex digits"));
}

// With the admin API in file mode an apply writes beside the config and in
// the history: --check (the unit's ExecStartPre) says when it cannot,
// instead of start failing (exit 1, restarted every second).
TEST(ConfigErrorTest, PolicydCheckRefusesAnAdminHistoryItCannotWrite) {
  TempDir dir;
  WriteFile(dir.Sub("not-a-dir"), "");
  WriteFile(dir.Sub("admin.yaml"), "server:\n  admin:\n    listen: " + PolicydTarget(FreePort()) + "\n");
  const std::string out = RunExpectingConfigError(
      {HIVE_POLICYD_BIN, "--check", "--config", dir.Sub("admin.yaml"), "--admin-history", dir.Sub("not-a-dir/h")}, dir);
  EXPECT_THAT(out, HasSubstr("admin API: cannot write " + dir.Sub("not-a-dir/h") + ": " + dir.Sub("not-a-dir") +
                             " is not a directory"));
}

TEST(ConfigErrorTest, MilterRefusesABadFailureModeNamingTheLine) {
  TempDir dir;
  WriteFile(dir.Sub("bad.yaml"), "listen: inet:1@127.0.0.1\nfailure_mode: sometimes\n");
  const std::string out = RunExpectingConfigError({HIVE_MILTER_BIN, "--config", dir.Sub("bad.yaml")}, dir);
  EXPECT_THAT(out, HasSubstr("bad.yaml:2:"));
  EXPECT_THAT(out, HasSubstr("failure_mode"));
}

// `hive-milter --check` (the unit's ExecStartPre) makes the checks start
// makes before it listens: the settings, and the policy client (a plaintext
// target off loopback, an unreadable CA file). It listens to nothing and
// connects to nothing (192.0.2.1 is never contacted).
TEST(ConfigErrorTest, MilterCheckRefusesWhatStartWouldRefuseAndListensToNothing) {
  TempDir dir;
  const uint16_t port = FreePort();
  const std::string listen = "inet:" + std::to_string(port) + "@127.0.0.1";
  WriteFile(dir.Sub("ok.yaml"), "listen: " + listen + "\npolicy_target: 127.0.0.1:" + std::to_string(FreePort()) + "\n");
  Process ok({HIVE_MILTER_BIN, "--check", "--config", dir.Sub("ok.yaml")}, dir.Sub("ok.log"));
  ASSERT_TRUE(ok.WaitExit(std::chrono::seconds(15)));
  ASSERT_TRUE(WIFEXITED(ok.ExitStatus()));
  EXPECT_EQ(WEXITSTATUS(ok.ExitStatus()), 0) << ReadFile(dir.Sub("ok.log"));
  EXPECT_THAT(ReadFile(dir.Sub("ok.log")), HasSubstr("ok.yaml: OK (listen " + listen + ", policy 127.0.0.1:"));
  EXPECT_FALSE(WaitForListener(port, std::chrono::milliseconds(200)));

  WriteFile(dir.Sub("open.yaml"), "listen: " + listen + "\npolicy_target: 192.0.2.1:7450\n");
  EXPECT_THAT(RunExpectingConfigError({HIVE_MILTER_BIN, "--check", "--config", dir.Sub("open.yaml")}, dir),
              HasSubstr("plaintext gRPC to 192.0.2.1:7450 refused"));
  WriteFile(dir.Sub("tls.yaml"), "listen: " + listen + "\npolicy_target: 127.0.0.1:7450\npolicy_tls: {ca_file: " +
                                     dir.Sub("missing-ca.pem") + "}\n");
  EXPECT_THAT(RunExpectingConfigError({HIVE_MILTER_BIN, "--check", "--config", dir.Sub("tls.yaml")}, dir),
              HasSubstr("policy_tls.ca_file: cannot read"));
}

// SIGUSR1 refuses a file that start would refuse (a plaintext policy target
// off loopback): it used to pass with "policy_target stays ... until a
// restart", and the next restart then failed. The running milter serves on.
// A changed metrics endpoint is kept until a restart, and said.
TEST(MilterReloadTest, RefusesWhatARestartWouldRefuseAndSaysWhatWaitsForOne) {
  TempDir dir;
  const uint16_t port = FreePort();
  const std::string head = "listen: inet:" + std::to_string(port) + "@127.0.0.1\n";
  WriteFile(dir.Sub("milter.yaml"), head + "policy_target: 127.0.0.1:" + std::to_string(FreePort()) + "\n");
  Process milter({HIVE_MILTER_BIN, "--config", dir.Sub("milter.yaml")}, dir.Sub("milter.log"));
  ASSERT_TRUE(WaitForListener(port, std::chrono::seconds(15))) << ReadFile(dir.Sub("milter.log"));
  const auto reload_until = [&](const std::string& said) {
    return SignalAndLog(milter.pid(), SIGUSR1, dir.Sub("milter.log"), said);
  };

  WriteFile(dir.Sub("milter.yaml"), head + "policy_target: 192.0.2.1:7450\nfailure_mode: accept\n");
  const std::string refused = reload_until("keeping the running configuration");
  EXPECT_THAT(refused, HasSubstr("a restart would refuse it: plaintext gRPC to 192.0.2.1:7450 refused"));
  EXPECT_THAT(refused, Not(HasSubstr("reloaded:")));

  WriteFile(dir.Sub("milter.yaml"), head + "policy_target: 127.0.0.1:1\nfailure_mode: accept\n"
                                           "observability: {metrics_listen: \"127.0.0.1:" +
                                           std::to_string(FreePort()) + "\"}\n");
  const std::string reloaded = reload_until("reloaded:");
  EXPECT_THAT(reloaded, HasSubstr("observability.metrics_listen / log_format stay as they were until a restart"));
  EXPECT_THAT(reloaded, HasSubstr("failure_mode accept"));
  EXPECT_TRUE(WaitForListener(port, std::chrono::seconds(1)));
}

// hive-maillog-follower says when its --log file is missing (a wrong path:
// /var/log/maillog instead of mail.log) and when it reads it; it waited
// without a word.
TEST(MaillogFollowerTest, SaysWhenTheLogIsMissingAndWhenItAppears) {
  TempDir dir;
  const std::string maillog = dir.Sub("mail.log");
  Process follower({HIVE_MAILLOG_FOLLOWER_BIN, "--log", maillog, "--policy", "127.0.0.1:1", "--poll-ms", "20"},
                   dir.Sub("follower.log"));
  const auto wait_for = [&](const std::string& needle) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (ReadFile(dir.Sub("follower.log")).find(needle) == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return ReadFile(dir.Sub("follower.log"));
  };
  EXPECT_THAT(wait_for("waiting for it"),
              HasSubstr(maillog + ": No such file or directory; waiting for it (is --log the MTA's log file?)"));
  WriteFile(maillog, "");
  EXPECT_THAT(wait_for("reading it"), HasSubstr(maillog + ": reading it"));
  const std::string log = ReadFile(dir.Sub("follower.log"));
  EXPECT_EQ(log.find("waiting for it"), log.rfind("waiting for it"));  // said once
  EXPECT_THAT(log, HasSubstr("following " + maillog + ", reporting to 127.0.0.1:1"));
  follower.Stop();
}

// Under systemd with output to journald (JOURNAL_STREAM names the daemon's
// stderr) a daemon logs to syslog only: journald would otherwise store every
// line twice. Anywhere else (a file here, a terminal) stderr gets the lines.
// Returns what the daemon wrote to stderr/stdout until it listened on `port`.
std::string OutputUntilListening(const std::vector<std::string>& daemon, uint16_t port, bool journal,
                                 const TempDir& dir, const std::string& name) {
  const std::string log = dir.Sub(name + ".log");
  WriteFile(log, "");
  struct stat st {};
  EXPECT_EQ(stat(log.c_str(), &st), 0);
  std::vector<std::string> argv{"/usr/bin/env"};
  if (journal) argv.push_back("JOURNAL_STREAM=" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino));
  argv.insert(argv.end(), daemon.begin(), daemon.end());
  Process p(argv, log);
  EXPECT_TRUE(WaitForListener(port, std::chrono::seconds(15))) << ReadFile(log);
  p.Stop();
  return ReadFile(log);
}

TEST(LogDestinationTest, DaemonsLeaveStderrAloneWhenItIsTheJournal) {
  TempDir dir;
  WriteFile(dir.Sub("policyd.yaml"), "routing:\n  pools: [{name: main}]\n  default_pool: main\n");
  const uint16_t port = FreePort();
  const std::vector<std::string> policyd{HIVE_POLICYD_BIN, "--config", dir.Sub("policyd.yaml"), "--listen",
                                         PolicydTarget(port)};
  const uint16_t milter_port = FreePort();
  const std::vector<std::string> milter{HIVE_MILTER_BIN, "--listen", "inet:" + std::to_string(milter_port) + "@127.0.0.1",
                                        "--policy", PolicydTarget(port)};
  // A log line: "<ts> hive-policyd[<pid>] info: ...".
  EXPECT_THAT(OutputUntilListening(policyd, port, false, dir, "policyd-foreground"), HasSubstr("] info: "));
  EXPECT_THAT(OutputUntilListening(policyd, port, true, dir, "policyd-journal"), Not(HasSubstr("] info: ")));
  EXPECT_THAT(OutputUntilListening(milter, milter_port, false, dir, "milter-foreground"), HasSubstr("] info: "));
  EXPECT_THAT(OutputUntilListening(milter, milter_port, true, dir, "milter-journal"), Not(HasSubstr("] info: ")));
}

}  // namespace
}  // namespace hive::testing
