// hivectl's object and alias commands as an operator runs them: the real
// binary against a real hive-policyd behind a real Postfix (admin_stack.h),
// asserting its printed output (tables, YAML, --json) and exit codes:
// status --json, rules list|get|apply -f|delete|diff|history|rollback,
// pools, quota show|reset, check, --help.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "admin_stack.h"

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
  EXPECT_THAT(get.output, HasSubstr("  - limit: 100\n    period: 3600s\n"));
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
  // (An object write re-renders the whole policy: a new text, no change.)
  EXPECT_THAT(same.output, HasSubstr(" (was " + v0 + ")\n  no change\n"));

  Transaction before = admin.Send("alice@shop.example", "before");
  ASSERT_EQ(before.data.code, 250) << before.data.ToString() << admin.Diagnostics();
  const std::string tight = admin.WriteTemp("tight.yaml", kTightObject);
  CtlResult dry = admin.Ctl({"rules", "apply", "-f", tight, "--dry-run"});
  ASSERT_EQ(dry.code, 0) << dry.output;
  EXPECT_THAT(dry.output, StartsWith("valid: version "));
  EXPECT_THAT(dry.output, HasSubstr("  limit per-sender: changed\n"));
  CtlResult stale = admin.Ctl({"rules", "apply", "-f", tight, "--version", "0000000000000000"});
  EXPECT_EQ(stale.code, 3) << stale.output;
  EXPECT_THAT(stale.output, HasSubstr("current version: " + object_v0));
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

}  // namespace
}  // namespace hive::testing
