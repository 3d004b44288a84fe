// The policy repository over its file storage: optimistic concurrency, atomic writes,
// history with diffs, rollback, audit records; and the YAML writer that
// object edits go through.
#include "admin/policy_repository.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/cord.h"
#include "support/atomic_file.h"
#include "admin/file_policy_storage.h"
#include "admin/policy_objects.h"
#include "support/proto_to_yaml.h"
#include "support/yaml_to_proto.h"

namespace hive::policy::admin {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kV1[] = R"(limits:
  - name: per-sender
    key: "{sender}"
    windows:
      - {limit: 100, period: 1h}
)";
constexpr char kV2[] = R"(limits:
  - name: per-sender
    key: "{sender}"
    windows:
      - {limit: 10, period: 1h}
  - name: per-domain
    key: "{sender_domain}"
    windows:
      - {limit: 1000, period: 1d}
)";

class PolicyRepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hive-repo-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/policyd.yaml";
    ASSERT_TRUE(hive::support::WriteFileAtomically(path_, kV1).ok());
    auto snapshot = config::LoadSnapshot(path_);
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    holder_ = std::make_unique<config::SnapshotHolder>(path_, *snapshot);
    clock_.SetWall(std::chrono::seconds(1'700'000'000));
    auto storage = FilePolicyStorage::Open(path_, "", 1'700'000'000'000);
    ASSERT_TRUE(storage.ok()) << storage.status();
    storage_ = *std::move(storage);
    repo_ = std::make_unique<PolicyRepository>(*storage_, *holder_, clock_, path_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string FileText() { return hive::support::ReadWholeFile(path_).value_or("<missing>"); }

  std::string dir_, path_;
  ratelimit::ManualClock clock_;
  std::unique_ptr<config::SnapshotHolder> holder_;
  std::unique_ptr<FilePolicyStorage> storage_;
  std::unique_ptr<PolicyRepository> repo_;
};

TEST_F(PolicyRepositoryTest, ApplyAtTheCurrentVersionWritesTheFileAndSwapsTheSnapshot) {
  const std::string v1 = config::ConfigVersion(kV1);
  auto out = repo_->Apply(kV2, v1, "alice", "apply", false);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->applied);
  EXPECT_EQ(out->previous_version, v1);
  EXPECT_EQ(out->version, config::ConfigVersion(kV2));
  EXPECT_EQ(FileText(), kV2);
  EXPECT_EQ(holder_->Get()->version, out->version);
  EXPECT_EQ(holder_->Get()->limits.rules.size(), 2u);
  EXPECT_THAT(out->changes, ElementsAre("limit per-sender: changed", "limit per-domain: added"));
  // No temporary file is left beside the policy.
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
  }
}

TEST_F(PolicyRepositoryTest, StaleVersionIsRefusedWithTheCurrentOneAndChangesNothing) {
  auto out = repo_->Apply(kV2, "0123456789abcdef", "bob", "apply", false);
  ASSERT_EQ(out.status().code(), absl::StatusCode::kFailedPrecondition);
  const std::string v1 = config::ConfigVersion(kV1);
  EXPECT_THAT(std::string(out.status().message()), HasSubstr(v1));
  ASSERT_TRUE(out.status().GetPayload(kCurrentVersionPayload).has_value());
  EXPECT_EQ(std::string(*out.status().GetPayload(kCurrentVersionPayload)), v1);
  EXPECT_EQ(FileText(), kV1);
  EXPECT_EQ(holder_->Get()->version, v1);
}

TEST_F(PolicyRepositoryTest, InvalidPolicyIsRefusedWithTheFieldAndNothingChanges) {
  const std::string bad = "limits:\n  - name: x\n    key: \"{sender}\"\n    windows:\n      - {limit: 0, period: 1h}\n";
  auto out = repo_->Apply(bad, config::ConfigVersion(kV1), "carol", "apply", false);
  ASSERT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("limits[0].windows[0].limit"));
  EXPECT_EQ(FileText(), kV1);
  EXPECT_EQ(holder_->Get()->version, config::ConfigVersion(kV1));
}

TEST_F(PolicyRepositoryTest, ValidateOnlyReportsTheDiffAndWritesNothing) {
  auto out = repo_->Apply(kV2, "", "dave", "validate", true);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_FALSE(out->applied);
  EXPECT_EQ(out->changes.size(), 2u);
  EXPECT_EQ(FileText(), kV1);
  auto history = repo_->History(10);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 1u);  // only the initial load
}

TEST_F(PolicyRepositoryTest, HistoryAndRollbackRestoreAnEarlierVersion) {
  const std::string v1 = config::ConfigVersion(kV1);
  auto applied = repo_->Apply(kV2, v1, "alice", "apply", false);
  ASSERT_TRUE(applied.ok());
  clock_.Advance(std::chrono::seconds(5));
  // A rollback based on a stale version is refused like any write.
  EXPECT_EQ(repo_->Rollback(v1, v1, "alice").status().code(), absl::StatusCode::kFailedPrecondition);
  auto back = repo_->Rollback(v1, applied->version, "alice");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->version, v1);
  EXPECT_EQ(FileText(), kV1);
  EXPECT_EQ(holder_->Get()->version, v1);
  ASSERT_TRUE(repo_->Audit("ops", "counters-reset", "limit=per-sender key=a@b").ok());

  auto history = repo_->History(10);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 5u);  // newest first
  EXPECT_EQ((*history)[0].action(), "counters-reset");
  EXPECT_EQ((*history)[0].detail(), "limit=per-sender key=a@b");
  EXPECT_EQ((*history)[1].action(), "rollback");
  EXPECT_EQ((*history)[1].previous_version(), applied->version);
  // Object by object, by name within a kind.
  EXPECT_THAT((*history)[1].changes(), ElementsAre("limit per-domain: removed", "limit per-sender: changed"));
  // The refused rollback is audited: who, what, why.
  EXPECT_EQ((*history)[2].action(), "refused");
  EXPECT_EQ((*history)[2].actor(), "alice");
  EXPECT_EQ((*history)[2].detail(),
            "action=rollback reason=stale expected=" + v1 + " current=" + applied->version);
  EXPECT_EQ((*history)[3].action(), "apply");
  EXPECT_EQ((*history)[3].actor(), "alice");
  EXPECT_EQ((*history)[3].time_unix_ms(), 1'700'000'000'000);
  EXPECT_EQ((*history)[4].action(), "load");
  EXPECT_EQ((*history)[0].seq(), 5u);

  // A reopened repository continues the sequence.
  auto reopened = FilePolicyStorage::Open(path_, "", 1'700'000'000'000);
  ASSERT_TRUE(reopened.ok());
  PolicyRepository again(**reopened, *holder_, clock_, path_);
  ASSERT_TRUE(again.Audit("ops", "counters-adjust", "x").ok());
  EXPECT_EQ(again.History(1)->front().seq(), 6u);
}

TEST_F(PolicyRepositoryTest, UnknownRollbackTargetIsNotFoundAndAudited) {
  EXPECT_EQ(repo_->Rollback("ffffffffffffffff", config::ConfigVersion(kV1), "x").status().code(),
            absl::StatusCode::kNotFound);
  auto history = repo_->History(1);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ(history->front().action(), "refused");
  EXPECT_EQ(history->front().detail(), "action=rollback reason=not-found version=ffffffffffffffff");
}

TEST_F(PolicyRepositoryTest, AStaleWriteIsAuditedAndNamesThePolicyVersion) {
  auto out = repo_->Apply(kV2, "0000000000000000", "eve", "apply", false);
  ASSERT_EQ(out.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(out.status().message()), "stale version '0000000000000000': the policy is now at version " +
                                                     config::ConfigVersion(kV1));
  auto history = repo_->History(1);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->front().action(), "refused");
  EXPECT_EQ(history->front().actor(), "eve");
}

TEST_F(PolicyRepositoryTest, EditWritesWhatTheEditorMakesOfTheCurrentTextOrAuditsItsRefusal) {
  auto refused = repo_->Edit(
      [](const PolicyText& current) -> absl::StatusOr<std::string> {
        return StaleVersion("aaaa", current.version, "limit 'x'");
      },
      "frank", "apply-object", false);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  auto history = repo_->History(1);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->front().action(), "refused");
  EXPECT_EQ(history->front().detail(), "action=apply-object reason=stale stale version 'aaaa': limit 'x' is now at "
                                       "version " + config::ConfigVersion(kV1));
  std::string seen;
  auto edited = repo_->Edit(
      [&](const PolicyText& current) -> absl::StatusOr<std::string> {
        seen = current.yaml;
        return std::string(kV2);
      },
      "frank", "apply-object", false);
  ASSERT_TRUE(edited.ok()) << edited.status();
  EXPECT_EQ(seen, kV1);
  EXPECT_TRUE(edited->applied);
  EXPECT_EQ(FileText(), kV2);
}

// `hivectl rules apply` of an object as it is, or `policy apply` of the text
// that runs: nothing written (an object write re-renders the whole file,
// which would drop the operator's comments for no change), no history entry.
TEST_F(PolicyRepositoryTest, AWriteThatChangesNothingWritesNothing) {
  const std::string commented = std::string("# the operator's note\n") + kV1;
  const std::string v1 = config::ConfigVersion(kV1);
  ASSERT_TRUE(repo_->Apply(commented, v1, "alice", "apply", false).ok());
  const std::string head = config::ConfigVersion(commented);
  const std::size_t entries = repo_->History(100)->size();

  auto same_object = repo_->Edit(
      [](const PolicyText& current) -> absl::StatusOr<std::string> {
        hive::config::v1::PolicyConfig config;
        if (absl::Status s = hive::config::YamlToProto(current.yaml, "t", config); !s.ok()) return s;
        return hive::config::ProtoToYaml(config);  // re-rendered: comments gone, nothing changed
      },
      "frank", "apply-object", false);
  ASSERT_TRUE(same_object.ok()) << same_object.status();
  EXPECT_FALSE(same_object->applied);
  EXPECT_EQ(same_object->version, head);
  EXPECT_EQ(same_object->previous_version, head);
  EXPECT_TRUE(same_object->changes.empty());

  auto same_text = repo_->Apply(commented, head, "frank", "apply", false);
  ASSERT_TRUE(same_text.ok()) << same_text.status();
  EXPECT_FALSE(same_text->applied);
  EXPECT_EQ(same_text->version, head);

  EXPECT_EQ(FileText(), commented);
  EXPECT_EQ(holder_->Get()->version, head);
  EXPECT_EQ(repo_->History(100)->size(), entries);
}

// Another replica (policy in Redis) publishes just before each of this
// repository's next `races` writes: the write finds the policy moved.
class AnotherReplicaWritesFirst final : public PolicyStorage {
 public:
  AnotherReplicaWritesFirst(PolicyStorage& inner, std::vector<std::string> texts)
      : inner_(inner), texts_(std::move(texts)) {}
  absl::StatusOr<PolicyText> Head() const override { return inner_.Head(); }
  absl::StatusOr<std::string> HeadVersion() const override { return inner_.HeadVersion(); }
  absl::StatusOr<std::string> Text(std::string_view v) const override { return inner_.Text(v); }
  absl::StatusOr<std::uint64_t> Publish(const PolicyText& text, std::string_view expected,
                                        hive::admin::v1::HistoryEntry entry) override {
    if (next_ < texts_.size()) {
      const std::string& yaml = texts_[next_++];
      hive::admin::v1::HistoryEntry theirs;
      theirs.set_actor("replica-2");
      theirs.set_action("apply");
      if (auto s = inner_.Publish({config::ConfigVersion(yaml), yaml}, expected, theirs); !s.ok()) return s;
    }
    return inner_.Publish(text, expected, std::move(entry));
  }
  absl::StatusOr<std::uint64_t> Append(hive::admin::v1::HistoryEntry e) override { return inner_.Append(std::move(e)); }
  absl::StatusOr<std::vector<hive::admin::v1::HistoryEntry>> History(std::size_t n) const override {
    return inner_.History(n);
  }
  std::string Describe() const override { return inner_.Describe(); }

 private:
  PolicyStorage& inner_;
  std::vector<std::string> texts_;
  std::size_t next_ = 0;
};

// An object edit as the admin service makes one: refused if per-sender is
// not what the caller saw (limit 100), else per-sender's limit becomes 50.
absl::StatusOr<std::string> SetPerSenderTo50(const PolicyText& current) {
  const std::string seen = "{limit: 100, period: 1h}";
  std::string yaml = current.yaml;
  const std::size_t at = yaml.find(seen);
  if (at == std::string::npos) return StaleVersion("v100", current.version, "limit 'per-sender'");
  return yaml.replace(at, seen.size(), "{limit: 50, period: 1h}");
}

// kV1 with a limit the caller's edit does not touch.
const std::string kV1PlusDomain =
    std::string(kV1) + "  - {name: per-domain, key: \"{sender_domain}\", windows: [{limit: 1000, period: 1d}]}\n";

TEST_F(PolicyRepositoryTest, AnObjectEditRacedByAnotherReplicaIsMadeAgainOnItsText) {
  AnotherReplicaWritesFirst racing(*storage_, {kV1PlusDomain});
  PolicyRepository repo(racing, *holder_, clock_, path_);
  int edits = 0;
  auto out = repo.Edit([&](const PolicyText& c) { ++edits; return SetPerSenderTo50(c); }, "frank", "apply-object",
                       false);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(edits, 2);
  // The other replica's limit is kept; the object the caller saw changed.
  EXPECT_THAT(FileText(), HasSubstr("name: per-domain"));
  EXPECT_THAT(FileText(), HasSubstr("{limit: 50, period: 1h}"));
  EXPECT_EQ(out->previous_version, config::ConfigVersion(kV1PlusDomain));
  auto history = repo.History(3);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->at(0).action(), "apply-object");
  EXPECT_EQ(history->at(1).actor(), "replica-2");
}

TEST_F(PolicyRepositoryTest, AnObjectTheOtherReplicaChangedIsRefusedWithTheObjectsVersion) {
  AnotherReplicaWritesFirst racing(*storage_, {kV2});
  PolicyRepository repo(racing, *holder_, clock_, path_);
  auto out = repo.Edit(SetPerSenderTo50, "frank", "apply-object", false);
  ASSERT_EQ(out.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(out.status().message()),
            "stale version 'v100': limit 'per-sender' is now at version " + config::ConfigVersion(kV2));
  EXPECT_EQ(FileText(), kV2);
}

TEST_F(PolicyRepositoryTest, AnEditRacedEveryTimeGivesUpAfterItsAttemptsAndIsAuditedOnce) {
  const std::string v3 = kV1PlusDomain + "  - {name: three, key: \"{sender}\", windows: [{limit: 3, period: 1h}]}\n";
  const std::string v4 = kV1PlusDomain + "  - {name: four, key: \"{sender}\", windows: [{limit: 4, period: 1h}]}\n";
  AnotherReplicaWritesFirst racing(*storage_, {kV1PlusDomain, v3, v4});
  PolicyRepository repo(racing, *holder_, clock_, path_);
  auto out = repo.Edit(SetPerSenderTo50, "frank", "apply-object", false);
  ASSERT_EQ(out.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("the policy is now at version " + config::ConfigVersion(v4)));
  auto history = repo.History(10);
  ASSERT_TRUE(history.ok());
  int refused = 0;
  for (const auto& e : *history) refused += e.action() == "refused";
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(FileText(), v4);
}

TEST(StaleVersionTest, NamesWhoseVersionItIs) {
  EXPECT_EQ(std::string(StaleVersion("aaaa", "bbbb", "limit 'per-sender'").message()),
            "stale version 'aaaa': limit 'per-sender' is now at version bbbb");
  EXPECT_EQ(std::string(StaleVersion("aaaa", kAbsent, "pool 'bulk'").message()),
            "stale version 'aaaa': pool 'bulk' does not exist now");
  EXPECT_EQ(std::string(StaleVersion("", "bbbb", "pool 'bulk'").message()),
            "stale version (none): pool 'bulk' is now at version bbbb");
  EXPECT_EQ(std::string(StaleVersion("aaaa", "bbbb").message()), "stale version 'aaaa': the policy is now at version bbbb");
}

TEST(PolicyObjectsTest, ObjectEditsRoundTripThroughTheYamlWriter) {
  hive::config::v1::PolicyConfig config;
  ASSERT_TRUE(hive::config::YamlToProto(kV2, "t", config).ok());
  hive::config::v1::LimitRule changed = config.limits(0);
  changed.mutable_windows(0)->set_limit(5);
  const std::string before = ObjectVersion(config.limits(0));
  PutObject(config, ObjectKind::kLimit, changed);
  EXPECT_NE(ObjectVersion(*FindObject(config, ObjectKind::kLimit, "per-sender")), before);
  EXPECT_TRUE(DeleteObject(config, ObjectKind::kLimit, "per-domain"));
  EXPECT_FALSE(DeleteObject(config, ObjectKind::kLimit, "per-domain"));
  hive::config::v1::ContentRule rule;
  rule.set_name("MONEY");
  rule.set_target("subject");
  rule.set_regex("(?i)\\$\\$\\$ \"quoted\"");
  rule.set_weight(2.5);
  PutObject(config, ObjectKind::kContentRule, rule);

  const std::string yaml = hive::config::ProtoToYaml(config);
  hive::config::v1::PolicyConfig back;
  ASSERT_TRUE(hive::config::YamlToProto(yaml, "written", back).ok()) << yaml;
  EXPECT_TRUE(DiffPolicies(config, back).empty()) << yaml;
  EXPECT_EQ(back.content().rules(0).regex(), rule.regex());
  // And it still compiles as a policy.
  auto compiled = config::LoadSnapshotFromText(yaml, "written");
  EXPECT_TRUE(compiled.ok()) << compiled.status() << "\n" << yaml;
}

}  // namespace
}  // namespace hive::policy::admin
