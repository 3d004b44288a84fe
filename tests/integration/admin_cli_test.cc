// hivectl's object and alias commands as an operator runs them: the real
// binary against a real hive-policyd behind a real Postfix (admin_stack.h),
// asserting its printed output (tables, YAML, --json) and exit codes:
// status --json, rules list|get|apply -f|delete|diff|history|rollback,
// pools, quota show|reset, check, postfix-config, sendmail-config, --help.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>

#include <fstream>

#include "admin_stack.h"
#include "harness/process.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr const char* kPolicy = kAdminPolicy;

// One object, as `rules get` prints it and `rules apply -f` reads it.
constexpr char kTightObject[] = R"(name: per-sender
match:
  sender_domain: [shop.example]
key: "{sender}"
windows:
  - {limit: 1, period: 1h}
cost: COST_MESSAGES
)";

// The file on disk is not what runs: `status` says why and exits 1, as it
// does for a replica that cannot load the version in Redis.
TEST(AdminCliTest, StatusNamesAFileThatIsNotRunning) {
  AdminStack admin(kPolicy);
  ASSERT_TRUE(admin.ok()) << admin.Diagnostics();
  const std::string v0 = VersionAfter(admin.Ctl({"status"}).output, "config version: ");
  ASSERT_EQ(v0.size(), 16u);
  const std::string file = admin.stack().dir().Sub("policyd.yaml");

  // A typo, then SIGHUP: refused, the old version keeps running.
  std::ofstream(file) << kPolicy << "reject_scor: 5\n";
  ASSERT_EQ(kill(admin.policyd_pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitForText(admin.PolicydLogPath(), "reload of " + file + " failed", kAdminWait)) << admin.PolicydLog();
  CtlResult refused = admin.Ctl({"status"});
  EXPECT_EQ(refused.code, 1) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr("config version: " + v0));
  const std::string v_bad = VersionAfter(refused.output, "policy error: version ");
  ASSERT_EQ(v_bad.size(), 16u) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr("policy error: version " + v_bad + " refused, keeping version " + v0 + ": " +
                                        file + ":"));
  EXPECT_THAT(refused.output, HasSubstr(":1: reject_scor: unknown field"));

  // Mended but not reloaded yet.
  std::ofstream(file) << kPolicy << "# mended\n";
  CtlResult pending = admin.Ctl({"status"});
  EXPECT_EQ(pending.code, 1) << pending.output;
  EXPECT_THAT(pending.output, HasSubstr(" and not loaded: reload to run it (SIGHUP, systemctl reload hive-policyd)"));

  ASSERT_EQ(kill(admin.policyd_pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitForText(admin.PolicydLogPath(), "reloaded " + file, kAdminWait)) << admin.PolicydLog();
  CtlResult running = admin.Ctl({"status"});
  EXPECT_EQ(running.code, 0) << running.output;
  EXPECT_THAT(running.output, Not(HasSubstr("policy error")));
}

// Without --actor the history names the operator's account, also where
// $USER is not set (sudo -i, cron, a container's shell): it said "unknown".
TEST(AdminCliTest, TheActorIsTheAccountWhenUserIsUnset) {
  AdminStack admin(kPolicy);
  ASSERT_TRUE(admin.ok()) << admin.Diagnostics();
  const passwd* account = getpwuid(getuid());
  ASSERT_NE(account, nullptr);
  const std::string name = account->pw_name;
  unsetenv("USER");
  unsetenv("LOGNAME");
  CtlResult reset = admin.Ctl({"counters", "reset", "--limit", "per-sender", "--key", "alice@shop.example"});
  ASSERT_EQ(reset.code, 0) << reset.output;
  CtlResult history = admin.Ctl({"policy", "history", "--count", "1"});
  EXPECT_THAT(history.output, HasSubstr("counters-reset  version "));
  EXPECT_THAT(history.output, HasSubstr(" by " + name + "@"));
}

// --server naming the policy listener (7450) instead of the admin one
// (7454): hivectl said only "error 12: ".
TEST(AdminCliTest, ThePolicyListenerIsNamedAsTheLikelyMistake) {
  AdminStack admin(kPolicy);
  ASSERT_TRUE(admin.ok()) << admin.Diagnostics();
  CtlResult wrong = admin.CtlAt("127.0.0.1:" + std::to_string(admin.stack().policy_port()), {"status"});
  EXPECT_EQ(wrong.code, 1) << wrong.output;
  EXPECT_THAT(wrong.output, HasSubstr("hivectl: the server does not serve this admin call"));
  EXPECT_THAT(wrong.output, HasSubstr("policy listener instead of its admin listener"));
  // A port gRPC would take modulo 65536 (99999: 34463) is refused as such.
  CtlResult wrapped = admin.CtlAt("127.0.0.1:99999", {"status"});
  EXPECT_EQ(wrapped.code, 2) << wrapped.output;
  EXPECT_THAT(wrapped.output, HasSubstr("hivectl: server: '127.0.0.1:99999': port 99999 is above 65535"));
}

// An apply writes the file a restart reads: what a start would refuse in
// it (here a malformed admin token) is refused now, not at the next restart.
TEST(AdminCliTest, APolicyTheDaemonWouldNotStartWithIsRefused) {
  AdminStack admin(kPolicy);
  ASSERT_TRUE(admin.ok()) << admin.Diagnostics();
  const std::string file = admin.stack().dir().Sub("policyd.yaml");
  const std::string before = ReadFile(file);
  const std::string bad = admin.WriteTemp(
      "bad-token.yaml", std::string(kPolicy) + "server:\n  admin:\n    tokens: [{name: ci, sha256: abc, role: viewer}]\n");
  CtlResult validate = admin.Ctl({"policy", "validate", bad});
  EXPECT_EQ(validate.code, 2) << validate.output;
  CtlResult apply = admin.Ctl({"policy", "apply", bad});
  EXPECT_EQ(apply.code, 2) << apply.output;
  EXPECT_THAT(apply.output, HasSubstr("hive-policyd would not start with it: server.admin.tokens[0].sha256: 64 hex digits"));
  EXPECT_EQ(ReadFile(file), before);
}

TEST(AdminCliTest, RulesPoolsQuotaAndCheckAsAnOperatorRunsThem) {
  AdminStack admin(kPolicy);
  ASSERT_TRUE(admin.ok()) << admin.Diagnostics();
  const std::string v0 = VersionAfter(admin.Ctl({"status"}).output, "config version: ");
  ASSERT_EQ(v0.size(), 16u);
  // One hive-policyd: the policy lives in its file, at the running version.
  CtlResult status = admin.Ctl({"--json", "status"});
  EXPECT_EQ(status.code, 0) << status.output;
  EXPECT_THAT(status.output, HasSubstr("\"policy_store\": \"file " + admin.stack().dir().Sub("policyd.yaml") + "\""));
  EXPECT_THAT(status.output, HasSubstr("\"policy_store_version\": \"" + v0 + "\""));

  CtlResult list = admin.Ctl({"rules", "list"});
  ASSERT_EQ(list.code, 0) << list.output << admin.Diagnostics();
  EXPECT_EQ(list.output, "KIND\tNAME\t(policy version " + v0 + ")\nlimit\tper-sender\npool\ttransactional\n");
  CtlResult list_json = admin.Ctl({"--json", "rules", "list", "--kind", "pool"});
  EXPECT_EQ(list_json.output, "{\"kind\":\"OBJECT_KIND_POOL\",\"name\":\"transactional\"}\n");

  CtlResult get = admin.Ctl({"rules", "get", "per-sender"});
  ASSERT_EQ(get.code, 0) << get.output;
  const std::string object_v0 = VersionAfter(get.output, "# limit per-sender version ");
  ASSERT_EQ(object_v0.size(), 16u) << get.output;
  EXPECT_THAT(get.output, HasSubstr("(policy version " + v0 + ")\nname: \"per-sender\"\n"));
  EXPECT_THAT(get.output, HasSubstr("  - limit: 100\n    period: 1h\n"));
  EXPECT_THAT(get.output, HasSubstr("cost: messages\n"));
  CtlResult get_json = admin.Ctl({"--json", "rules", "get", "per-sender"});
  EXPECT_THAT(get_json.output, HasSubstr("\"version\": \"" + object_v0 + "\""));
  EXPECT_THAT(get_json.output, HasSubstr("\"limit\": {"));
  CtlResult missing = admin.Ctl({"rules", "get", "nope"});
  EXPECT_EQ(missing.code, 4) << missing.output;
  EXPECT_THAT(missing.output, HasSubstr("no limit named 'nope'"));
  // What `rules get` printed is what `rules apply -f` takes back.
  const std::string printed = admin.WriteTemp("printed.yaml", get.output);
  CtlResult same = admin.Ctl({"rules", "apply", "-f", printed, "--dry-run"});
  EXPECT_EQ(same.code, 0) << same.output;
  EXPECT_EQ(same.output, "unchanged: version " + v0 + " is the running policy; nothing written\n");
  // Applied as it is: the file (and its comments) stays as it was, no new
  // version, no history entry.
  const std::string file_before = ReadFile(admin.stack().dir().Sub("policyd.yaml"));
  CtlResult same_applied = admin.Ctl({"rules", "apply", "-f", printed});
  EXPECT_EQ(same_applied.code, 0) << same_applied.output;
  EXPECT_EQ(same_applied.output, "unchanged: version " + v0 + " is the running policy; nothing written\n");
  EXPECT_EQ(ReadFile(admin.stack().dir().Sub("policyd.yaml")), file_before);

  Transaction before = admin.Send("alice@shop.example", "before");
  ASSERT_EQ(before.data.code, 250) << before.data.ToString() << admin.Diagnostics();
  const std::string tight = admin.WriteTemp("tight.yaml", kTightObject);
  CtlResult dry = admin.Ctl({"rules", "apply", "-f", tight, "--dry-run"});
  ASSERT_EQ(dry.code, 0) << dry.output;
  EXPECT_THAT(dry.output, StartsWith("valid: version "));
  EXPECT_THAT(dry.output, HasSubstr("  limit per-sender: changed\n"));
  CtlResult stale = admin.Ctl({"rules", "apply", "-f", tight, "--version", "0000000000000000"});
  EXPECT_EQ(stale.code, 3) << stale.output;
  // The object's version, named as the object's (not the policy's).
  EXPECT_EQ(stale.output, "hivectl: conflict: stale version '0000000000000000': limit 'per-sender' is now at version " +
                              object_v0 + "\ncurrent version: " + object_v0 + "\n");
  CtlResult gone = admin.Ctl({"rules", "delete", "never-was", "--version", object_v0});
  EXPECT_EQ(gone.code, 3) << gone.output;
  EXPECT_THAT(gone.output, HasSubstr("stale version '" + object_v0 + "': limit 'never-was' does not exist now\n"));
  CtlResult applied = admin.Ctl({"rules", "apply", "-f", tight});
  ASSERT_EQ(applied.code, 0) << applied.output << admin.Diagnostics();
  const std::string v1 = VersionAfter(applied.output, "applied: version ");
  EXPECT_THAT(applied.output, HasSubstr("applied: version " + v1 + " (was " + v0 + ")\n  limit per-sender: changed\n"));
  // Enforced on the next message: alice's one message this hour is the limit.
  Transaction after = admin.Send("alice@shop.example", "after");
  EXPECT_EQ(after.mail.code, 451) << after.mail.ToString() << admin.Diagnostics();

  // quota show / reset are counters get / reset.
  CtlResult quota = admin.Ctl({"quota", "show", "--sender", "alice@shop.example"});
  EXPECT_EQ(quota.code, 0) << quota.output;
  EXPECT_THAT(quota.output, HasSubstr("per-sender\talice@shop.example\t1h\t1\t1\t0\t"));
  CtlResult reset = admin.Ctl({"quota", "reset", "--limit", "per-sender", "--key", "alice@shop.example"});
  EXPECT_EQ(reset.code, 0) << reset.output;
  EXPECT_THAT(reset.output, HasSubstr("per-sender\talice@shop.example\t1h\t1\t0\t1\t"));

  // adjust uses units of every window of the bucket (per-sender allows 1
  // an hour now); more than is left is refused with what is left.
  CtlResult adjust = admin.Ctl({"counters", "adjust", "--limit", "per-sender", "--key", "carol@shop.example",
                                "--consume", "1"});
  EXPECT_EQ(adjust.code, 0) << adjust.output;
  EXPECT_THAT(adjust.output, HasSubstr("per-sender\tcarol@shop.example\t1h\t1\t1\t0\t"));
  CtlResult too_much = admin.Ctl({"counters", "adjust", "--limit", "per-sender", "--key", "dave@shop.example",
                                  "--consume", "5"});
  EXPECT_EQ(too_much.code, 2) << too_much.output;
  EXPECT_THAT(too_much.output, HasSubstr("consume 5: more than the windows have left (at most 1 now;"));

  // check is dry-run with the issue's words.
  const std::string eml = admin.WriteTemp("m.eml", MakeMessage("alice@shop.example", "bob@dest.example", "c", "hi"));
  CtlResult check = admin.Ctl({"check", eml, "--from", "alice@shop.example", "--rcpt", "bob@dest.example"});
  EXPECT_EQ(check.code, 0) << check.output;
  EXPECT_THAT(check.output, HasSubstr("action: CONTINUE"));
  EXPECT_THAT(check.output, HasSubstr("limit per-sender alice@shop.example 1h: 0 of 1 remaining"));

  // Whole-policy words under rules: diff, history, rollback.
  CtlResult diff = admin.Ctl({"rules", "diff", admin.WriteTemp("whole.yaml", kPolicy)});
  EXPECT_EQ(diff.code, 0) << diff.output;
  EXPECT_THAT(diff.output, HasSubstr("valid: version " + v0 + " (was " + v1 + ")\n  limit per-sender: changed\n"));
  CtlResult history = admin.Ctl({"rules", "history"});
  EXPECT_THAT(history.output, HasSubstr("apply-object  version " + v1 + " (was " + v0 + ")"));
  // The refused writes are in the history too.
  EXPECT_THAT(history.output, HasSubstr("  refused  version " + v0 + "  by "));
  EXPECT_THAT(history.output, HasSubstr("    action=apply-object reason=stale stale version '0000000000000000': "
                                        "limit 'per-sender' is now at version " + object_v0 + "\n"));
  EXPECT_THAT(history.output, HasSubstr("    action=delete-object reason=stale stale version '" + object_v0 +
                                        "': limit 'never-was' does not exist now\n"));
  CtlResult rolled = admin.Ctl({"rules", "rollback", v0});
  EXPECT_EQ(rolled.code, 0) << rolled.output;
  EXPECT_THAT(rolled.output, HasSubstr("applied: version " + v0));

  CtlResult pools = admin.Ctl({"pools"});
  EXPECT_EQ(pools.code, 0) << pools.output;
  EXPECT_EQ(pools.output, "POOL\tMEMBERS\tOVERFLOW\ntransactional (default)\t-\t-\n");
  EXPECT_THAT(admin.Ctl({"--json", "pools"}).output, HasSubstr("\"default_pool\": \"transactional\""));

  CtlResult removed = admin.Ctl({"rules", "delete", "per-sender"});
  EXPECT_EQ(removed.code, 0) << removed.output;
  EXPECT_THAT(removed.output, HasSubstr("limit per-sender: removed"));
  EXPECT_EQ(admin.Ctl({"rules", "delete", "per-sender"}).code, 4);
  EXPECT_THAT(admin.Ctl({"rules", "list", "--kind", "limit"}).output, Not(HasSubstr("per-sender")));

  // Usage errors: exit 2, never a crash; --help lists the commands.
  EXPECT_EQ(admin.Ctl({"rules", "frobnicate"}).code, 2);
  EXPECT_EQ(admin.Ctl({"rules", "get"}).code, 2);
  EXPECT_EQ(admin.Ctl({"rules", "get", "x", "--kind", "bogus"}).code, 2);
  EXPECT_EQ(admin.Ctl({"quota", "drop"}).code, 2);
  CtlResult help = admin.Ctl({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_THAT(help.output, HasSubstr("rules get NAME"));
  EXPECT_THAT(help.output, HasSubstr("top --limit L"));
}

// A pool with two members, as `rules apply -f --kind pool` takes it.
constexpr char kBulkPool[] = R"(name: bulk
members:
  - {name: b1, address: 192.0.2.10, helo: b1.example.net}
  - {name: b2, address: 192.0.2.11, helo: b2.example.net}
shaping: {destination_concurrency: 2}
)";

// Runs one of the file-based tools (hive-postfix-config, hive-sendmail-config).
int RunTool(AdminStack& admin, std::vector<std::string> argv) {
  Process tool(std::move(argv), admin.stack().dir().Sub("tool.log"));
  return tool.WaitExit(kAdminWait) && WIFEXITED(tool.ExitStatus()) ? WEXITSTATUS(tool.ExitStatus()) : -1;
}

TEST(AdminCliTest, PostfixAndSendmailConfigComeFromTheRunningPolicy) {
  AdminStack admin(kPolicy);
  ASSERT_TRUE(admin.ok()) << admin.Diagnostics();
  // The starting policy's one pool has no members: no transport, no map line.
  CtlResult before = admin.Ctl({"postfix-config"});
  ASSERT_EQ(before.code, 0) << before.output << admin.Diagnostics();
  EXPECT_THAT(before.output, StartsWith("==> hive_pools <==\n"));
  EXPECT_THAT(before.output, Not(HasSubstr("bulk")));

  // A pool added through the admin API is in the next generation at once.
  CtlResult added = admin.Ctl({"rules", "apply", "-f", admin.WriteTemp("bulk.yaml", kBulkPool), "--kind", "pool"});
  ASSERT_EQ(added.code, 0) << added.output;
  const std::string v1 = VersionAfter(added.output, "applied: version ");
  CtlResult printed = admin.Ctl({"postfix-config", "--default-nexthop", "[127.0.0.1]:2525"});
  ASSERT_EQ(printed.code, 0) << printed.output;
  EXPECT_THAT(printed.output,
              StartsWith("==> hive_pools <==\n"
                         "# Generated by hive-postfix-config from the hive-policyd routing config: do not edit.\n"
                         "# X-Hive-Pool (added by hive-milter) -> the transport of that pool member.\n"
                         "/^X-Hive-Pool:\\s*transactional\\s*$/ FILTER smtp-transactional:\n"
                         "/^X-Hive-Pool:\\s*bulk\\/b1\\s*$/ FILTER hive-b1:\n"
                         "/^X-Hive-Pool:\\s*bulk\\/b2\\s*$/ FILTER hive-b2:\n"
                         "\n==> hive_strip <==\n"));
  EXPECT_THAT(printed.output, HasSubstr("\n==> master.cf.hive <==\n"));
  EXPECT_THAT(printed.output, HasSubstr("hive-b1 unix - - n - - smtp\n  -o syslog_name=postfix/hive-b1\n"
                                        "  -o smtp_bind_address=192.0.2.10\n"));
  EXPECT_THAT(printed.output, HasSubstr("\n==> main.cf.hive <==\n"));
  EXPECT_THAT(printed.output, HasSubstr("default_filter_nexthop = [127.0.0.1]:2525\n"));
  EXPECT_THAT(printed.output, HasSubstr("hive-b2_destination_concurrency_limit = 2\n"));

  // --out writes, byte for byte, what hive-postfix-config writes from the
  // policy file hive-policyd keeps (the same generator).
  const std::string ctl_dir = admin.stack().dir().Sub("pf-hivectl");
  const std::string tool_dir = admin.stack().dir().Sub("pf-tool");
  CtlResult wrote = admin.Ctl({"postfix-config", "--out", ctl_dir, "--postfix-dir", "/etc/postfix-hive",
                               "--pool-header", "X-Pool", "--default-nexthop", "[127.0.0.1]:2525"});
  ASSERT_EQ(wrote.code, 0) << wrote.output;
  EXPECT_EQ(wrote.output, "wrote " + ctl_dir + "/hive_pools\nwrote " + ctl_dir + "/hive_strip\nwrote " + ctl_dir +
                              "/master.cf.hive\nwrote " + ctl_dir + "/main.cf.hive\nfrom policy version " + v1 +
                              "\n");
  ASSERT_EQ(RunTool(admin, {HIVE_POSTFIX_CONFIG_BIN, "--config", admin.stack().dir().Sub("policyd.yaml"), "--out",
                            tool_dir, "--postfix-dir", "/etc/postfix-hive", "--pool-header", "X-Pool",
                            "--default-nexthop", "[127.0.0.1]:2525"}),
            0)
      << Slurp(admin.stack().dir().Sub("tool.log"));
  for (const char* name : {"hive_pools", "hive_strip", "master.cf.hive", "main.cf.hive"}) {
    const std::string from_ctl = Slurp(ctl_dir + "/" + name);
    EXPECT_FALSE(from_ctl.empty()) << name;
    EXPECT_EQ(from_ctl, Slurp(tool_dir + "/" + name)) << name;
  }
  EXPECT_THAT(Slurp(ctl_dir + "/hive_pools"), HasSubstr("/^X-Pool:\\s*bulk\\/b1\\s*$/ FILTER hive-b1:\n"));
  EXPECT_THAT(Slurp(ctl_dir + "/main.cf.hive"), HasSubstr("/etc/postfix-hive/hive_pools"));

  CtlResult json = admin.Ctl({"--json", "postfix-config"});
  ASSERT_EQ(json.code, 0) << json.output;
  EXPECT_THAT(json.output, HasSubstr("\"policy_version\": \"" + v1 + "\""));
  EXPECT_THAT(json.output, HasSubstr("\"name\": \"hive_pools\""));
  EXPECT_THAT(json.output, HasSubstr("bulk\\\\/b1\\\\s*$/ FILTER hive-b1:\\n"));

  // Sendmail: stdout is the .m4 itself, the same bytes the tool writes.
  CtlResult m4 = admin.Ctl({"sendmail-config", "--tag", "pool"});
  ASSERT_EQ(m4.code, 0) << m4.output;
  ASSERT_EQ(RunTool(admin, {HIVE_SENDMAIL_CONFIG_BIN, "--config", admin.stack().dir().Sub("policyd.yaml"), "--out",
                            admin.stack().dir().Sub("tool.m4"), "--tag", "pool"}),
            0);
  EXPECT_EQ(m4.output, Slurp(admin.stack().dir().Sub("tool.m4")));
  EXPECT_THAT(m4.output, HasSubstr("192.0.2.11"));
  const std::string m4_path = admin.stack().dir().Sub("ctl.m4");
  CtlResult m4_out = admin.Ctl({"sendmail-config", "--tag", "pool", "--out", m4_path});
  EXPECT_EQ(m4_out.output, "wrote " + m4_path + "\nfrom policy version " + v1 + "\n");
  EXPECT_EQ(Slurp(m4_path), m4.output);
  EXPECT_THAT(admin.Ctl({"--json", "sendmail-config"}).output, HasSubstr("\"name\": \"hive-pools.m4\""));

  // Exit codes: 2 for usage, 1 when the file cannot be written.
  CtlResult bad_tag = admin.Ctl({"sendmail-config", "--tag", "no spaces"});
  EXPECT_EQ(bad_tag.code, 2) << bad_tag.output;
  EXPECT_THAT(bad_tag.output, HasSubstr("--tag: letters, digits"));
  EXPECT_EQ(admin.Ctl({"postfix-config", "extra"}).code, 2);
  EXPECT_EQ(admin.Ctl({"postfix-config", "--out"}).code, 2);
  CtlResult unwritable = admin.Ctl({"sendmail-config", "--out", admin.stack().dir().Sub("no/such/dir/x.m4")});
  EXPECT_EQ(unwritable.code, 1) << unwritable.output;
  EXPECT_THAT(unwritable.output, HasSubstr("no/such/dir/x.m4: cannot write"));
  CtlResult help = admin.Ctl({"postfix-config", "--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_THAT(help.output, HasSubstr("postfix-config [--out DIR]"));
  EXPECT_THAT(help.output, HasSubstr("sendmail-config [--out FILE] [--tag TAG]"));
}

}  // namespace
}  // namespace hive::testing
