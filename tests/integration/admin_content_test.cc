// Learned signals through the admin API: hivectl fingerprint add / remove
// and hivectl learn against a real hive-policyd behind a real Postfix; each
// change is enforced on the next message, saved to the model's file, and
// audited.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "absl/strings/escaping.h"
#include "admin_stack.h"
#include "harness/net.h"
#include "harness/process.h"
#include "harness/redis_server.h"
#include "harness/temp_dir.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;

std::string Utf8Message(const std::string& from, const std::string& subject, const std::string& text) {
  return MakeMessage(from, "bob@dest.example", subject, absl::Base64Escape(text),
                     {"MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
                      "Content-Transfer-Encoding: base64"});
}

constexpr char kCampaign[] =
    "Dear customer Alice Smith, your parcel 4471 is waiting at our depot. To arrange the delivery "
    "please confirm your address and pay the customs fee of 2 dollars at our secure portal within "
    "24 hours, otherwise the parcel is returned to the sender. Reference 99812, agent Mark.";
// The same campaign to someone else: other name, numbers and agent.
constexpr char kVariant[] =
    "Dear customer Bob Jones, your parcel 8120 is waiting at our depot. To arrange the delivery "
    "please confirm your address and pay the customs fee of 3 dollars at our secure portal within "
    "48 hours, otherwise the parcel is returned to the sender. Reference 12345, agent Lucy.";

class AdminContentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string base = ::testing::TempDir() + "/admin-content." + std::to_string(::getpid());
    db_ = base + ".db";
    fps_ = base + ".fps";
    // Both files start missing: an empty model and an empty list. Learned
    // class by class from sixteen messages, one RPC each, the model is
    // about 0.82 sure of the unseen spam below: BAYES_SPAM (p >= 0.8)
    // weighs 10 * (2p - 1), over reject_score.
    admin_ = std::make_unique<AdminStack>(R"(
content:
  bayes: {enabled: true, stats_db: )" + db_ + R"(, min_learns: 8, spam_weight: 10}
  fingerprints: {enabled: true, store: )" + fps_ + R"(, max_distance: 12}
  reject_score: 5
)");
    ASSERT_TRUE(admin_->ok()) << admin_->Diagnostics();
  }
  void TearDown() override {
    admin_.reset();
    std::remove(db_.c_str());
    for (const char* made : {".Junk", ".ham.mbox", ".empty"}) std::filesystem::remove_all(db_ + made);
    std::remove(fps_.c_str());
  }

  std::string db_, fps_;
  std::unique_ptr<AdminStack> admin_;
};

TEST_F(AdminContentTest, FingerprintAddedThroughHivectlRefusesTheNextNearDuplicateAndRemoveUndoes) {
  const std::string variant = Utf8Message("notice@parcel.example", "Your parcel", kVariant);
  Transaction before = admin_->SendRaw("notice@parcel.example", variant);
  ASSERT_EQ(before.data.code, 250) << before.data.ToString() << admin_->Diagnostics();

  const std::string eml =
      admin_->WriteTemp("campaign.eml", Utf8Message("notice@parcel.example", "Your parcel", kCampaign));
  CtlResult added = admin_->Ctl({"fingerprint", "add", "--eml", eml, "--label", "parcel-scam", "--actor", "abuse"});
  ASSERT_EQ(added.code, 0) << added.output << admin_->Diagnostics();
  ASSERT_THAT(added.output, HasSubstr(" parcel-scam (1 stored)"));
  const std::string hash = added.output.substr(std::string("added ").size(), 16);
  // Saved where the config says, in the store's own format.
  EXPECT_THAT(Slurp(fps_), HasSubstr(hash + " parcel-scam"));

  Transaction refused = admin_->SendRaw("notice@parcel.example", variant);
  EXPECT_EQ(refused.data.code, 550) << refused.data.ToString() << admin_->Diagnostics();
  EXPECT_THAT(refused.data.ToString(), HasSubstr("FINGERPRINT_BAD"));

  CtlResult removed = admin_->Ctl({"fingerprint", "remove", "--hash", hash});
  EXPECT_EQ(removed.code, 0) << removed.output;
  EXPECT_THAT(removed.output, HasSubstr("removed " + hash + " (0 stored)"));
  EXPECT_EQ(admin_->Ctl({"fingerprint", "remove", "--hash", hash}).code, 4);
  Transaction after = admin_->SendRaw("notice@parcel.example", variant);
  EXPECT_EQ(after.data.code, 250) << after.data.ToString() << admin_->Diagnostics();

  CtlResult short_text = admin_->Ctl({"fingerprint", "add", "--eml", admin_->WriteTemp("s.eml", "Subject: x\n\nhi\n"),
                                      "--label", "x"});
  EXPECT_EQ(short_text.code, 2) << short_text.output;
  EXPECT_THAT(short_text.output, HasSubstr("too little text"));

  CtlResult history = admin_->Ctl({"policy", "history"});
  EXPECT_THAT(history.output, HasSubstr("fingerprint-add"));
  EXPECT_THAT(history.output, HasSubstr("fingerprint=" + hash + " label=parcel-scam"));
  EXPECT_THAT(history.output, HasSubstr("by abuse@"));
  EXPECT_THAT(history.output, HasSubstr("fingerprint-remove"));
}

// Unseen by the model: one spam of the kind of tests/data/bayes, one ham.
std::string UnseenSpam() {
  return Utf8Message("sales@promo.example", "特价",
                     "增值税发票点数优惠，欢迎来电咨询王经理。课程名额有限，报名从速，机会难得，商机无限。");
}
std::string UnseenHam() {
  return Utf8Message("dev@team.example", "组会", "下周组会讨论测试报告和项目进度，请准时参加，地点在三楼会议室。");
}

TEST_F(AdminContentTest, LearnedThroughHivectlTheClassifierRefusesTheNextSpam) {
  const std::string spam = UnseenSpam();
  // Untrained: the classifier says nothing, the message goes through.
  Transaction before = admin_->SendRaw("sales@promo.example", spam);
  ASSERT_EQ(before.data.code, 250) << before.data.ToString() << admin_->Diagnostics();

  // Mail as an operator keeps it: the spam in a Maildir folder (whose own
  // dovecot-uidlist is not mail), the ham in an mbox.
  const std::string junk = db_ + ".Junk";
  std::filesystem::create_directories(junk + "/cur");
  std::filesystem::create_directories(junk + "/new");
  WriteFile(junk + "/dovecot-uidlist", "3 V1700000000 N9 G0123\n");
  std::string mbox;
  for (int i = 1; i <= 8; ++i) {
    const std::string n = std::to_string(i);
    WriteFile(junk + (i % 2 ? "/cur/17000000" : "/new/17000000") + n + ".M" + n + ".host:2,S",
              Slurp(std::string(HIVE_TEST_DATA_DIR) + "/bayes/spam-" + n + ".eml"));
    mbox += "From user" + n + "@team.example Mon Jan  1 00:00:0" + n + " 2024\n" +
            Slurp(std::string(HIVE_TEST_DATA_DIR) + "/bayes/ham-" + n + ".eml") + "\n";
  }
  WriteFile(db_ + ".ham.mbox", mbox);
  CtlResult learned_spam = admin_->Ctl({"learn", "--spam", junk});
  ASSERT_EQ(learned_spam.code, 0) << learned_spam.output << admin_->Diagnostics();
  EXPECT_THAT(learned_spam.output, HasSubstr("model has 8 spam, 0 ham,"));
  CtlResult learned_ham = admin_->Ctl({"learn", "--ham", db_ + ".ham.mbox"});
  ASSERT_EQ(learned_ham.code, 0) << learned_ham.output;
  EXPECT_THAT(learned_ham.output, HasSubstr("learned " + db_ + ".ham.mbox:8 as ham: model has 8 spam, 8 ham,"));

  Transaction refused = admin_->SendRaw("sales@promo.example", spam);
  EXPECT_EQ(refused.data.code, 550) << refused.data.ToString() << admin_->Diagnostics();
  EXPECT_THAT(refused.data.ToString(), HasSubstr("BAYES_SPAM"));
  Transaction passed = admin_->SendRaw("dev@team.example", UnseenHam());
  EXPECT_EQ(passed.data.code, 250) << passed.data.ToString() << admin_->Diagnostics();

  // Saved: the model file exists and a restart would load it.
  EXPECT_FALSE(Slurp(db_).empty());
  EXPECT_THAT(admin_->Ctl({"status"}).output, HasSubstr("bayes model: file " + db_ + ": 8 spam, 8 ham learned,"));
  CtlResult history = admin_->Ctl({"--json", "policy", "history"});
  EXPECT_THAT(history.output, HasSubstr("\"action\": \"learn-spam\""));
  EXPECT_THAT(history.output, HasSubstr("\"action\": \"learn-ham\""));

  CtlResult usage = admin_->Ctl({"learn", "--spam", "--ham", "x.eml"});
  EXPECT_EQ(usage.code, 2) << usage.output;
  std::filesystem::create_directories(db_ + ".empty");
  CtlResult empty = admin_->Ctl({"learn", "--spam", db_ + ".empty"});
  EXPECT_EQ(empty.code, 2) << empty.output;
  EXPECT_THAT(empty.output, HasSubstr(".empty: no message in it"));
}

// Two hive-policyd replicas on one real redis-server: A, whose admin API
// the tests drive (an AdminStack), and B, which the milter of A's Postfix
// asks. What is learned or marked through A must be enforced by B.
class SharedOnRedisTest : public ::testing::Test {
 protected:
  void Start(const std::string& content) {
    policy_ = "ratelimit:\n  store:\n    kind: redis\n    redis: {address: \"" + redis_.address() +
              "\", timeout: 1s, policy_poll_interval: 200ms}\n" + content;
    WriteFile(dir_.Sub("b.yaml"), policy_);
    b_port_ = FreePort();
    StartB();
    a_ = std::make_unique<AdminStack>(policy_, std::vector<std::string>{"--policy", "127.0.0.1:" + std::to_string(b_port_)});
    ASSERT_TRUE(a_->ok()) << a_->Diagnostics();
  }
  void StartB() {
    b_.reset();
    b_ = std::make_unique<Process>(std::vector<std::string>{HIVE_POLICYD_BIN, "--config", dir_.Sub("b.yaml"),
                                                            "--listen", "127.0.0.1:" + std::to_string(b_port_)},
                                   dir_.Sub("b.log"));
    EXPECT_TRUE(WaitForListener(b_port_, kAdminWait)) << ReadFile(dir_.Sub("b.log"));
  }
  std::string Diagnostics() { return a_->Diagnostics() + "\n===== replica B\n" + ReadFile(dir_.Sub("b.log")); }
  // B loads a change within its poll interval: sends until the reply is `code`.
  Transaction SendUntil(int code, const std::string& from, const std::string& message) {
    Transaction t;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    do {
      t = a_->SendRaw(from, message);
    } while (t.data.code != code && std::chrono::steady_clock::now() < deadline);
    return t;
  }

  RedisServer redis_;
  TempDir dir_;
  std::string policy_;
  uint16_t b_port_ = 0;
  std::unique_ptr<Process> b_;
  std::unique_ptr<AdminStack> a_;
};

// content.bayes.model_in_redis: learned through A, the model is scored by B,
// and by a B started afterwards with no model file at all.
TEST_F(SharedOnRedisTest, LearnedThroughOneReplicaTheOtherAndARestartedOneRefuseTheNextSpam) {
  Start("content:\n  bayes: {enabled: true, model_in_redis: true, min_learns: 8, spam_weight: 10}\n  reject_score: 5\n");
  Transaction before = a_->SendRaw("sales@promo.example", UnseenSpam());
  ASSERT_EQ(before.data.code, 250) << before.data.ToString() << Diagnostics();

  std::vector<std::string> spam_args{"learn", "--spam"}, ham_args{"learn", "--ham"};
  for (int i = 1; i <= 8; ++i) {
    spam_args.push_back(std::string(HIVE_TEST_DATA_DIR) + "/bayes/spam-" + std::to_string(i) + ".eml");
    ham_args.push_back(std::string(HIVE_TEST_DATA_DIR) + "/bayes/ham-" + std::to_string(i) + ".eml");
  }
  ASSERT_EQ(a_->Ctl(spam_args).code, 0) << Diagnostics();
  CtlResult learned = a_->Ctl(ham_args);
  ASSERT_EQ(learned.code, 0) << learned.output << Diagnostics();
  EXPECT_THAT(learned.output, HasSubstr("model has 8 spam, 8 ham,"));
  CtlResult status = a_->Ctl({"status"});
  EXPECT_THAT(status.output, HasSubstr("bayes model: redis " + redis_.address() + " hive:{bayes}:meta"));
  EXPECT_THAT(status.output, HasSubstr(": 8 spam, 8 ham learned,"));

  Transaction refused = SendUntil(550, "sales@promo.example", UnseenSpam());
  EXPECT_EQ(refused.data.code, 550) << refused.data.ToString() << Diagnostics();
  EXPECT_THAT(refused.data.ToString(), HasSubstr("BAYES_SPAM"));
  Transaction passed = a_->SendRaw("dev@team.example", UnseenHam());
  EXPECT_EQ(passed.data.code, 250) << passed.data.ToString() << Diagnostics();

  // Nothing of it is in a file: a B started now has it from Redis.
  StartB();
  Transaction after_restart = SendUntil(550, "sales@promo.example", UnseenSpam());
  EXPECT_EQ(after_restart.data.code, 550) << after_restart.data.ToString() << Diagnostics();
}

// content.fingerprints.list_in_redis: a campaign marked through A is refused
// by B; removed through A, B lets it through again.
TEST_F(SharedOnRedisTest, AFingerprintMarkedThroughOneReplicaIsMatchedByTheOther) {
  Start("content:\n  fingerprints: {enabled: true, list_in_redis: true, max_distance: 12}\n  reject_score: 5\n");
  const std::string variant = Utf8Message("notice@parcel.example", "Your parcel", kVariant);
  ASSERT_EQ(a_->SendRaw("notice@parcel.example", variant).data.code, 250) << Diagnostics();

  const std::string eml = a_->WriteTemp("campaign.eml", Utf8Message("notice@parcel.example", "Your parcel", kCampaign));
  CtlResult added = a_->Ctl({"fingerprint", "add", "--eml", eml, "--label", "parcel-scam"});
  ASSERT_EQ(added.code, 0) << added.output << Diagnostics();
  EXPECT_THAT(added.output, HasSubstr(" parcel-scam (1 stored)"));
  const std::string hash = added.output.substr(std::string("added ").size(), 16);
  Transaction refused = SendUntil(550, "notice@parcel.example", variant);
  EXPECT_EQ(refused.data.code, 550) << refused.data.ToString() << Diagnostics();
  EXPECT_THAT(refused.data.ToString(), HasSubstr("FINGERPRINT_BAD"));

  CtlResult removed = a_->Ctl({"fingerprint", "remove", "--hash", hash});
  EXPECT_THAT(removed.output, HasSubstr("removed " + hash + " (0 stored)"));
  Transaction after = SendUntil(250, "notice@parcel.example", variant);
  EXPECT_EQ(after.data.code, 250) << after.data.ToString() << Diagnostics();
}

TEST(AdminContentOffTest, LearnWithoutAConfiguredModelIsRefusedAndSaysWhy) {
  AdminStack admin("limits:\n  - name: per-sender\n    key: \"{sender}\"\n    windows:\n      - {limit: 100, period: 1h}\n");
  ASSERT_TRUE(admin.ok()) << admin.Diagnostics();
  CtlResult r = admin.Ctl({"learn", "--spam", std::string(HIVE_TEST_DATA_DIR) + "/bayes/spam-1.eml"});
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("content.bayes is not enabled"));
  CtlResult f = admin.Ctl({"fingerprint", "add", "--hash", "00ff00ff00ff00ff", "--label", "x"});
  EXPECT_EQ(f.code, 1) << f.output;
  EXPECT_THAT(f.output, HasSubstr("content.fingerprints is not enabled"));
}

}  // namespace
}  // namespace hive::testing
