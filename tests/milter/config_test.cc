#include "milter/config.h"

#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hive::milter {
namespace {

using ::testing::HasSubstr;

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

TEST(ConfigTest, FlagsAloneWithDefaults) {
  auto cl = ParseCommandLine({"--listen", "inet:7451@127.0.0.1", "--policy=127.0.0.1:7450"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  auto s = LoadSettings(*cl);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->listen, "inet:7451@127.0.0.1");
  EXPECT_EQ(s->policy_target, "127.0.0.1:7450");
  EXPECT_EQ(s->rpc_timeout, absl::Seconds(2));
  EXPECT_EQ(s->failure_mode, FailureMode::kTempfail);
  EXPECT_EQ(s->max_body_bytes, 1024u * 1024);
  EXPECT_EQ(s->max_headers, 500u);
  EXPECT_EQ(s->pool_header, "X-Hive-Pool");
  EXPECT_EQ(s->unchecked_header, "X-Hive-Policy");
}

TEST(ConfigTest, FileThenFlagsOverride) {
  const std::string path = WriteFile("milter_ok.yaml",
                                     "listen: unix:/tmp/hive.sock\n"
                                     "policy_target: 10.0.0.1:7450\n"
                                     "rpc_timeout: 250ms\n"
                                     "failure_mode: accept\n"
                                     "max_body_bytes: 4096\n"
                                     "pool_header: X-Pool\n");
  auto cl = ParseCommandLine({"--config", path, "--failure-mode", "tempfail", "--debug"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  auto s = LoadSettings(*cl);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->listen, "unix:/tmp/hive.sock");
  EXPECT_EQ(s->rpc_timeout, absl::Milliseconds(250));
  EXPECT_EQ(s->failure_mode, FailureMode::kTempfail);
  EXPECT_EQ(s->max_body_bytes, 4096u);
  EXPECT_EQ(s->pool_header, "X-Pool");
  EXPECT_TRUE(s->debug);
  auto cl2 = ParseCommandLine({"--config", path, "--listen", "inet:1@127.0.0.1"});
  EXPECT_EQ(LoadSettings(*cl2)->listen, "inet:1@127.0.0.1");
  EXPECT_EQ(LoadSettings(*cl2)->failure_mode, FailureMode::kAccept);
}

TEST(ConfigTest, BadFileNamesTheLineAndField) {
  const std::string path = WriteFile("milter_bad.yaml",
                                     "listen: inet:1@127.0.0.1\n"
                                     "policy_target: x:1\n"
                                     "pool_header: \"X Pool:\"\n");
  auto s = LoadSettings(*ParseCommandLine({"--config", path}));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("milter_bad.yaml:3:"));
  EXPECT_THAT(s.status().message(), HasSubstr("pool_header"));

  const std::string timeout = WriteFile("milter_timeout.yaml", "rpc_timeout: 5m\n");
  auto t = LoadSettings(*ParseCommandLine({"--config", timeout}));
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("rpc_timeout"));

  auto missing = LoadSettings(*ParseCommandLine({"--config", ::testing::TempDir() + "does-not-exist.yaml"}));
  EXPECT_FALSE(missing.ok());
}

TEST(ConfigTest, FailureModesByClass) {
  const std::string path = WriteFile("milter_classes.yaml",
                                     "listen: inet:1@127.0.0.1\n"
                                     "policy_target: x:1\n"
                                     "class_header: X-Hive-Class\n"
                                     "max_leases: 50\n"
                                     "failure_modes:\n"
                                     "  - {class: Transactional, mode: lease_then_tempfail}\n"
                                     "  - {class: marketing, mode: tempfail}\n");
  auto s = LoadSettings(*ParseCommandLine({"--config", path}));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->class_modes.class_header, "X-Hive-Class");
  EXPECT_EQ(s->max_leases, 50u);
  EXPECT_EQ(s->class_modes.For("transactional", FailureMode::kTempfail), ClassMode::kLeaseThenTempfail);
  EXPECT_EQ(s->class_modes.For("marketing", FailureMode::kAccept), ClassMode::kTempfail);
  EXPECT_EQ(s->class_modes.For("other", FailureMode::kAccept), ClassMode::kAccept) << "unlisted: failure_mode";
  EXPECT_TRUE(s->class_modes.any_lease());

  const std::string no_header = WriteFile("milter_classes_bad.yaml",
                                          "listen: inet:1@127.0.0.1\npolicy_target: x:1\n"
                                          "failure_modes: [{class: t, mode: lease_then_tempfail}]\n");
  auto bad = LoadSettings(*ParseCommandLine({"--config", no_header}));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("class_header"));

  const std::string twice = WriteFile("milter_classes_twice.yaml",
                                      "listen: inet:1@127.0.0.1\npolicy_target: x:1\nclass_header: X-C\n"
                                      "failure_modes: [{class: t, mode: accept}, {class: T, mode: tempfail}]\n");
  auto dup = LoadSettings(*ParseCommandLine({"--config", twice}));
  ASSERT_FALSE(dup.ok());
  EXPECT_THAT(dup.status().message(), HasSubstr("listed twice"));
}

TEST(ConfigTest, BadCommandLines) {
  EXPECT_FALSE(ParseCommandLine({"--listen"}).ok());
  EXPECT_FALSE(ParseCommandLine({"--failure-mode", "maybe"}).ok());
  EXPECT_FALSE(ParseCommandLine({"--what"}).ok());
  EXPECT_FALSE(LoadSettings(*ParseCommandLine({"--listen", "inet:1@127.0.0.1"})).ok());   // no policy
  EXPECT_FALSE(LoadSettings(*ParseCommandLine({"--policy", "127.0.0.1:1"})).ok());        // no listen
  EXPECT_FALSE(LoadSettings(*ParseCommandLine({"--listen", "7451", "--policy", "x"})).ok());  // no scheme
  EXPECT_TRUE(ParseCommandLine({"--help"})->help);
}

// libmilter and gRPC read a port above 65535 modulo 65536: the milter said
// it listened on 99999 while bound to 34463.
TEST(ConfigTest, PortsAbove65535AreRefusedWithTheirField) {
  const std::string path = WriteFile("milter_ports.yaml",
                                     "listen: inet:99999@127.0.0.1\n"
                                     "policy_target: 127.0.0.1:7450\n");
  auto listen = LoadSettings(*ParseCommandLine({"--config", path}));
  ASSERT_FALSE(listen.ok());
  EXPECT_THAT(listen.status().message(), HasSubstr("milter_ports.yaml:1:9: listen: 'inet:99999@127.0.0.1': port 99999"));
  auto target = LoadSettings(*ParseCommandLine({"--listen", "inet:7451@127.0.0.1", "--policy",
                                                "127.0.0.1:7450,127.0.0.1:74600"}));
  ASSERT_FALSE(target.ok());
  EXPECT_THAT(target.status().message(), HasSubstr("--policy: '127.0.0.1:74600': port 74600 is above 65535"));
  const std::string metrics = WriteFile("milter_metrics.yaml",
                                        "listen: inet:7451@127.0.0.1\npolicy_target: 127.0.0.1:7450\n"
                                        "observability: {metrics_listen: nonsense}\n");
  auto m = LoadSettings(*ParseCommandLine({"--config", metrics}));
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.status().message(), HasSubstr("observability.metrics_listen: 'nonsense': expected HOST:PORT"));
}

TEST(ConfigTest, ReloadKeepsSocketAndTargetAndRefusesBadFiles) {
  const std::string path = WriteFile("milter_reload.yaml",
                                     "listen: inet:1@127.0.0.1\n"
                                     "policy_target: a:1\n");
  const CommandLine cl = *ParseCommandLine({"--config", path});
  const Settings running = *LoadSettings(cl);
  WriteFile("milter_reload.yaml",
            "listen: inet:2@127.0.0.1\n"
            "policy_target: b:1\n"
            "failure_mode: accept\n"
            "rpc_timeout: 500ms\n");
  std::string note;
  auto reloaded = ReloadSettings(cl, running, &note);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_EQ(reloaded->listen, "inet:1@127.0.0.1");
  EXPECT_EQ(reloaded->policy_target, "a:1");
  EXPECT_EQ(reloaded->failure_mode, FailureMode::kAccept);
  EXPECT_EQ(reloaded->rpc_timeout, absl::Milliseconds(500));
  EXPECT_THAT(note, HasSubstr("restart"));

  WriteFile("milter_reload.yaml", "listen: [\n");
  EXPECT_FALSE(ReloadSettings(cl, running, &note).ok());
}

// The start check sees the file as written (not the running target it is
// then replaced with), and what it refuses fails the reload.
TEST(ConfigTest, ReloadRefusesWhatTheStartCheckRefuses) {
  const std::string path = WriteFile("milter_reload_check.yaml", "listen: inet:1@127.0.0.1\npolicy_target: a:1\n");
  const CommandLine cl = *ParseCommandLine({"--config", path});
  const Settings running = *LoadSettings(cl);
  WriteFile("milter_reload_check.yaml",
            "listen: inet:1@127.0.0.1\npolicy_target: b:1\nobservability: {log_format: LOG_FORMAT_JSON}\n");
  std::string seen;
  const StartCheck refuse_b = [&seen](const Settings& s) {
    seen = s.policy_target;
    return s.policy_target == "b:1" ? absl::InvalidArgumentError("no b") : absl::OkStatus();
  };
  std::string note;
  auto refused = ReloadSettings(cl, running, &note, refuse_b);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(seen, "b:1");
  EXPECT_THAT(refused.status().message(), HasSubstr("a restart would refuse it: no b"));

  WriteFile("milter_reload_check.yaml",
            "listen: inet:1@127.0.0.1\npolicy_target: a:1\nobservability: {log_format: LOG_FORMAT_JSON}\n");
  auto reloaded = ReloadSettings(cl, running, &note, refuse_b);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_FALSE(reloaded->log_json);
  EXPECT_THAT(note, HasSubstr("log_format stay as they were until a restart"));
}

}  // namespace
}  // namespace hive::milter
