// The admin API end to end: a real hive-policyd with --admin-listen behind
// a real Postfix (admin_stack.h), driven by the real hivectl binary as an
// operator runs it (its output and exit codes asserted): policy writes,
// counters, dry-runs, and the live decision stream.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "admin_stack.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kPolicy = kAdminPolicy;

// kPolicy plus a tight limit for tight.example.
constexpr char kTight[] = R"(limits:
  - name: per-sender
    match: {sender_domain: [shop.example]}
    key: "{sender}"
    cost: messages
    windows:
      - {limit: 100, period: 1h}
  - name: tight
    match: {sender_domain: [tight.example]}
    key: "{sender}"
    cost: messages
    windows:
      - {limit: 1, period: 1h}
routing:
  pools:
    - {name: transactional}
  default_pool: transactional
)";

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_ = std::make_unique<AdminStack>(kPolicy);
    ASSERT_TRUE(admin_->ok()) << admin_->Diagnostics();
  }
  CtlResult Ctl(std::vector<std::string> args) { return admin_->Ctl(std::move(args)); }
  std::string WriteTemp(const std::string& name, const std::string& text) { return admin_->WriteTemp(name, text); }
  Transaction Send(const std::string& from, const std::string& subject) { return admin_->Send(from, subject); }
  std::string Diagnostics() { return admin_->Diagnostics(); }

  std::unique_ptr<AdminStack> admin_;
};

TEST_F(AdminTest, AppliedLimitIsEnforcedStaleVersionRefusedRollbackRestores) {
  CtlResult status = Ctl({"status"});
  ASSERT_EQ(status.code, 0) << status.output << Diagnostics();
  const std::string v0 = VersionAfter(status.output, "config version: ");
  ASSERT_EQ(v0.size(), 16u) << status.output;
  EXPECT_THAT(status.output, HasSubstr("store: memory (ok)"));

  // Bad policy: refused with the field, exit 2, nothing applied.
  CtlResult bad = Ctl({"policy", "apply", WriteTemp("bad.yaml", "limits:\n  - name: x\n    key: \"{sender}\"\n"
                                                                "    windows:\n      - {limit: 0, period: 1h}\n")});
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_THAT(bad.output, HasSubstr("limits[0].windows[0].limit"));

  const std::string tight = WriteTemp("tight.yaml", kTight);
  CtlResult valid = Ctl({"policy", "validate", tight});
  EXPECT_EQ(valid.code, 0) << valid.output;
  EXPECT_THAT(valid.output, HasSubstr("limit tight: added"));

  CtlResult applied = Ctl({"policy", "apply", tight, "--version", v0});
  ASSERT_EQ(applied.code, 0) << applied.output << Diagnostics();
  const std::string v1 = VersionAfter(applied.output, "applied: version ");
  ASSERT_EQ(v1.size(), 16u) << applied.output;
  EXPECT_NE(v1, v0);

  // Enforced on the next messages through Postfix: one passes, the next is 451.
  Transaction first = Send("carol@tight.example", "tight one");
  ASSERT_EQ(first.data.code, 250) << first.data.ToString() << Diagnostics();
  Transaction second = Send("carol@tight.example", "tight two");
  EXPECT_EQ(second.mail.code, 451) << second.mail.ToString() << Diagnostics();
  EXPECT_THAT(second.mail.text, HasSubstr("tight"));

  // Another operator still holding v0 is refused with the current version.
  CtlResult stale = Ctl({"policy", "apply", WriteTemp("other.yaml", kPolicy), "--version", v0});
  EXPECT_EQ(stale.code, 3) << stale.output;
  EXPECT_THAT(stale.output, HasSubstr("current version: " + v1));

  CtlResult rolled = Ctl({"policy", "rollback", v0});
  ASSERT_EQ(rolled.code, 0) << rolled.output;
  EXPECT_THAT(rolled.output, HasSubstr("applied: version " + v0));
  EXPECT_THAT(rolled.output, HasSubstr("limit tight: removed"));
  Transaction third = Send("carol@tight.example", "tight three");
  EXPECT_EQ(third.data.code, 250) << third.data.ToString() << Diagnostics();

  CtlResult history = Ctl({"policy", "history"});
  ASSERT_EQ(history.code, 0) << history.output;
  EXPECT_THAT(history.output, HasSubstr("rollback  version " + v0));
  EXPECT_THAT(history.output, HasSubstr("apply  version " + v1));
  // The file hive-policyd loaded is the rolled-back policy.
  EXPECT_EQ(Slurp(admin_->stack().dir().Sub("policyd.yaml")), kPolicy);
}

TEST_F(AdminTest, CountersShowRealTrafficDryRunCountsNothingResetIsAudited) {
  for (int i = 0; i < 2; ++i) {
    Transaction t = Send("alice@shop.example", "real " + std::to_string(i));
    ASSERT_EQ(t.data.code, 250) << t.data.ToString() << Diagnostics();
  }
  CtlResult counters = Ctl({"counters", "get", "--sender", "alice@shop.example"});
  ASSERT_EQ(counters.code, 0) << counters.output;
  EXPECT_THAT(counters.output, HasSubstr("per-sender\talice@shop.example\t1h\t100\t2\t98\t"));

  const std::string eml = WriteTemp("m.eml", MakeMessage("alice@shop.example", "bob@dest.example", "dry", "hello"));
  CtlResult dry = Ctl({"dry-run", "--eml", eml, "--from", "alice@shop.example", "--to", "bob@dest.example"});
  ASSERT_EQ(dry.code, 0) << dry.output << Diagnostics();
  EXPECT_THAT(dry.output, HasSubstr("action: CONTINUE"));
  EXPECT_THAT(dry.output, HasSubstr("pool: transactional (default pool)"));
  EXPECT_THAT(dry.output, HasSubstr("limit per-sender alice@shop.example 1h: 97 of 100 remaining"));
  // The dry-run took nothing: still 2 used, and JSON for scripts says so.
  CtlResult json = Ctl({"--json", "counters", "get", "--limit", "per-sender", "--key", "alice@shop.example"});
  ASSERT_EQ(json.code, 0) << json.output;
  EXPECT_THAT(json.output, HasSubstr("\"used\": \"2\""));
  Transaction next = Send("alice@shop.example", "after dry-run");
  EXPECT_EQ(next.data.code, 250) << next.data.ToString() << Diagnostics();
  Transaction other = Send("dora@shop.example", "another sender");
  EXPECT_EQ(other.data.code, 250) << other.data.ToString() << Diagnostics();

  // Top senders of the limit today: alice's 3 messages, then dora's 1.
  CtlResult top = Ctl({"top", "--limit", "per-sender"});
  ASSERT_EQ(top.code, 0) << top.output << Diagnostics();
  EXPECT_THAT(top.output, HasSubstr("limit per-sender, usage since "));
  EXPECT_THAT(top.output, HasSubstr("RANK\tKEY\tUSED\n1\talice@shop.example\t3\n2\tdora@shop.example\t1\n"));
  CtlResult top_json = Ctl({"--json", "top", "--limit", "per-sender", "--count", "1"});
  ASSERT_EQ(top_json.code, 0) << top_json.output;
  EXPECT_THAT(top_json.output, HasSubstr("\"key\": \"alice@shop.example\""));
  EXPECT_THAT(top_json.output, HasSubstr("\"used\": \"3\""));
  EXPECT_THAT(top_json.output, Not(HasSubstr("dora")));
  EXPECT_EQ(Ctl({"top", "--limit", "nope"}).code, 4);
  EXPECT_EQ(Ctl({"top"}).code, 2);

  CtlResult reset = Ctl({"counters", "reset", "--limit", "per-sender", "--key", "alice@shop.example",
                         "--actor", "oncall"});
  ASSERT_EQ(reset.code, 0) << reset.output;
  EXPECT_THAT(reset.output, HasSubstr("\t100\t0\t100\t"));
  CtlResult history = Ctl({"policy", "history"});
  EXPECT_THAT(history.output, HasSubstr("counters-reset"));
  EXPECT_THAT(history.output, HasSubstr("limit=per-sender key=alice@shop.example"));
  EXPECT_THAT(history.output, HasSubstr("by oncall@"));
  EXPECT_THAT(admin_->PolicydLog(), HasSubstr("action=counters-reset"));

  CtlResult unknown = Ctl({"counters", "reset", "--limit", "nope", "--key", "x"});
  EXPECT_EQ(unknown.code, 4) << unknown.output;
  CtlResult usage = Ctl({"frobnicate"});
  EXPECT_EQ(usage.code, 2) << usage.output;
  EXPECT_THAT(usage.output, Not(HasSubstr("Segmentation")));
}


TEST_F(AdminTest, TailStreamsLiveDecisionsFilteredBySenderAndAction) {
  std::unique_ptr<Process> tail =
      admin_->CtlInBackground({"tail", "--sender", "carol@tail.example", "--count", "3", "--for", "60"});
  // Subscribed once it says so: every decision from then on reaches it.
  ASSERT_TRUE(WaitForText(tail->log_path(), "tailing decisions", kAdminWait)) << Slurp(tail->log_path());
  Transaction other = Send("dave@other.example", "not carol");
  ASSERT_EQ(other.data.code, 250) << other.data.ToString() << Diagnostics();
  Transaction mine = Send("carol@tail.example", "carol's");
  ASSERT_EQ(mine.data.code, 250) << mine.data.ToString() << Diagnostics();
  ASSERT_TRUE(tail->WaitExit(kAdminWait)) << Slurp(tail->log_path());
  EXPECT_EQ(tail->ExitStatus(), 0) << Slurp(tail->log_path());
  const std::string out = Slurp(tail->log_path());
  EXPECT_THAT(out, HasSubstr("CheckSender  continue  sender=carol@tail.example"));
  EXPECT_THAT(out, HasSubstr("CheckRecipient  continue  sender=carol@tail.example rcpt=bob@dest.example"));
  EXPECT_THAT(out, HasSubstr("CheckMessage  continue  sender=carol@tail.example rcpt=bob@dest.example"));
  EXPECT_THAT(out, HasSubstr("pool=transactional"));
  EXPECT_THAT(out, Not(HasSubstr("dave@other.example")));

  // --json: one JSON object a line; the pool filter leaves the end-of-message
  // decision (the only one that carries a pool).
  std::unique_ptr<Process> json = admin_->CtlInBackground(
      {"--json", "tail", "--action", "continue", "--pool", "transactional", "--count", "1", "--for", "60"});
  ASSERT_TRUE(WaitForText(json->log_path(), "tailing decisions", kAdminWait)) << Slurp(json->log_path());
  ASSERT_EQ(Send("erin@tail.example", "json").data.code, 250) << Diagnostics();
  ASSERT_TRUE(json->WaitExit(kAdminWait)) << Slurp(json->log_path());
  EXPECT_EQ(json->ExitStatus(), 0);
  EXPECT_THAT(Slurp(json->log_path()), HasSubstr(R"({"decision_id":)"));
  EXPECT_THAT(Slurp(json->log_path()), HasSubstr(R"("rpc":"CheckMessage")"));
  EXPECT_THAT(Slurp(json->log_path()), HasSubstr(R"("sender":"erin@tail.example")"));

  CtlResult bad = Ctl({"tail", "--action", "bounce", "--for", "5"});
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_THAT(bad.output, HasSubstr("action:"));
}

}  // namespace
}  // namespace hive::testing
