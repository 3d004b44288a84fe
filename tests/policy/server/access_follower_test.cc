// AccessFollower: what it puts in force, when it leaves the access alone,
// and what it writes to the admin history (a real file-backed repository).
#include "server/access_follower.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "support/atomic_file.h"
#include "admin/file_policy_storage.h"
#include "config/snapshot.h"
#include "config/snapshot_holder.h"
#include "ratelimit/clock.h"
#include "support/yaml_to_proto.h"

namespace hive::policy::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

hive::config::v1::AdminServer Admin(const std::string& yaml) {
  hive::config::v1::AdminServer out;
  EXPECT_TRUE(hive::config::YamlToProto(yaml, "admin", out).ok()) << yaml;
  return out;
}

const std::string kHashA(64, 'a');
const std::string kHashB(64, 'b');

class AccessFollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hive-access-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/policyd.yaml";
    ASSERT_TRUE(hive::support::WriteFileAtomically(path_, "limits: []\n").ok());
    auto snapshot = config::LoadSnapshot(path_);
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    holder_ = std::make_unique<config::SnapshotHolder>(path_, *snapshot);
    auto storage = admin::FilePolicyStorage::Open(path_, "", 1'700'000'000'000);
    ASSERT_TRUE(storage.ok()) << storage.status();
    storage_ = *std::move(storage);
    repo_ = std::make_unique<admin::PolicyRepository>(*storage_, *holder_, clock_, path_);
    start_ = Admin("tokens: [{name: ci, sha256: " + kHashA + ", role: operator}]");
    auto settings = AccessSettingsFrom(start_, /*plaintext=*/true);
    ASSERT_TRUE(settings.ok()) << settings.status();
    access_ = std::make_unique<AccessControl>(*settings, nullptr);
    follower_ = std::make_unique<AccessFollower>(*access_, *repo_, /*plaintext=*/true, start_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string History() { return hive::support::ReadWholeFile(path_ + ".history/history.log").value_or(""); }

  std::string dir_, path_;
  ratelimit::ManualClock clock_;
  std::unique_ptr<config::SnapshotHolder> holder_;
  std::unique_ptr<admin::FilePolicyStorage> storage_;
  std::unique_ptr<admin::PolicyRepository> repo_;
  hive::config::v1::AdminServer start_;
  std::unique_ptr<AccessControl> access_;
  std::unique_ptr<AccessFollower> follower_;
};

TEST_F(AccessFollowerTest, ANewTokenReplacesTheOldOneAndTheHistoryNamesIt) {
  follower_->Follow(Admin("tokens: [{name: ci-2, sha256: " + kHashB + ", role: viewer}]"));
  const auto settings = access_->Settings();
  ASSERT_EQ(settings->tokens.size(), 1u);
  EXPECT_EQ(settings->tokens[0].name, "ci-2");
  EXPECT_EQ(settings->tokens[0].role, Role::kViewer);
  EXPECT_TRUE(settings->plaintext);  // the listener's, whatever was given
  EXPECT_EQ(settings->local_role, Role::kNone);
  EXPECT_THAT(History(), HasSubstr(R"("action":"access")"));
  EXPECT_THAT(History(), HasSubstr("ci-2"));
  EXPECT_THAT(History(), Not(HasSubstr(kHashB)));
}

TEST_F(AccessFollowerTest, TheSameAccessOrAnotherListenerChangesNothing) {
  const auto before = access_->Settings();
  follower_->Follow(start_);
  hive::config::v1::AdminServer moved = start_;
  moved.set_listen("127.0.0.1:9999");  // a listener change waits for a restart
  follower_->Follow(moved);
  EXPECT_EQ(access_->Settings(), before);
  EXPECT_THAT(History(), Not(HasSubstr(R"("action":"access")")));
}

TEST_F(AccessFollowerTest, AMalformedSectionLeavesTheAccessInForce) {
  const auto before = access_->Settings();
  follower_->Follow(Admin("tokens: [{name: ci, sha256: abc, role: viewer}]"));
  EXPECT_EQ(access_->Settings(), before);
  // Removing every token and principal gives a plaintext listener's local
  // clients the admin role (the documented default): said, and in force.
  follower_->Follow(Admin("tokens: []"));
  EXPECT_TRUE(access_->Settings()->tokens.empty());
  EXPECT_EQ(access_->Settings()->local_role, Role::kAdmin);
}

}  // namespace
}  // namespace hive::policy::server
