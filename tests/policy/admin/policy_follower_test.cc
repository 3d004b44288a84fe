// PolicyFollower over a small in-memory PolicyStorage of our own: seeding
// an empty store, following a new version, refusing a broken one (reported
// once, old snapshot kept) and an unreachable store, then in step again.
// The same behaviour against real Redis and real replicas:
// tests/integration/admin_replicas_test.cc.
#include "admin/policy_follower.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "config/snapshot.h"

namespace hive::policy::admin {
namespace {

using ::testing::HasSubstr;

class FakeStorage final : public PolicyStorage {
 public:
  absl::StatusOr<PolicyText> Head() const override {
    absl::StatusOr<std::string> v = HeadVersion();
    if (!v.ok()) return v.status();
    return PolicyText{*v, texts.at(*v)};
  }
  absl::StatusOr<std::string> HeadVersion() const override {
    ++reads;
    if (!down.ok()) return down;
    if (head.empty()) return absl::NotFoundError("empty");
    return head;
  }
  absl::StatusOr<std::string> Text(std::string_view version) const override {
    auto it = texts.find(std::string(version));
    if (it == texts.end()) return absl::NotFoundError("no such version");
    return it->second;
  }
  absl::StatusOr<std::uint64_t> Publish(const PolicyText& text, std::string_view expected,
                                        hive::admin::v1::HistoryEntry entry) override {
    if (expected != head) return StaleVersion(expected, head);
    texts[text.version] = text.yaml;
    head = text.version;
    history.push_back(entry);
    return history.size();
  }
  absl::StatusOr<std::uint64_t> Append(hive::admin::v1::HistoryEntry entry) override {
    history.push_back(entry);
    return history.size();
  }
  absl::StatusOr<std::vector<hive::admin::v1::HistoryEntry>> History(std::size_t) const override { return history; }
  std::string Describe() const override { return "fake"; }

  // A version stored as a writer outside hive would (no checks).
  void Put(const std::string& version, const std::string& text) {
    texts[version] = text;
    head = version;
  }

  std::string head;
  std::map<std::string, std::string> texts;
  std::vector<hive::admin::v1::HistoryEntry> history;
  absl::Status down;
  mutable int reads = 0;
};

constexpr char kV1[] = "limits:\n  - name: a\n    key: \"{sender}\"\n    windows:\n      - {limit: 5, period: 1h}\n";
constexpr char kV2[] = "limits:\n  - name: b\n    key: \"{sender}\"\n    windows:\n      - {limit: 7, period: 1h}\n";
constexpr char kBroken[] = "limits:\n  - name: x\n    windows: [{limit: -1, period: never}]\n";

class PolicyFollowerTest : public ::testing::Test {
 protected:
  PolicyFollowerTest() : holder_("seed.yaml", config::LoadSnapshotFromText(kV1, "seed.yaml").value()) {}
  PolicyFollower Follower() {
    return PolicyFollower(storage_, holder_, clock_,
                          {.interval = std::chrono::hours(1),
                           .on_load = [this](bool ok) { loads_.push_back(ok); },
                           .on_poll = [this](bool in_step) { in_step_ = in_step; }});
  }

  FakeStorage storage_;
  config::SnapshotHolder holder_;
  ratelimit::ManualClock clock_;
  std::vector<bool> loads_;
  bool in_step_ = false;
};

TEST_F(PolicyFollowerTest, SeedsAnEmptyStoreThenFollowsRefusesAndRecovers) {
  PolicyFollower f = Follower();
  const std::string v1 = config::ConfigVersion(kV1);
  // Empty: seeded with the running text.
  ASSERT_TRUE(f.PollOnce().ok());
  EXPECT_EQ(storage_.head, v1);
  EXPECT_EQ(storage_.texts[v1], kV1);
  ASSERT_EQ(storage_.history.size(), 1u);
  EXPECT_EQ(storage_.history[0].action(), "seed");
  EXPECT_TRUE(in_step_);

  // A new version: loaded and installed.
  const std::string v2 = config::ConfigVersion(kV2);
  storage_.Put(v2, kV2);
  ASSERT_TRUE(f.PollOnce().ok());
  EXPECT_EQ(holder_.Get()->version, v2);
  EXPECT_EQ(holder_.Get()->limits.rules.front().name, "b");
  EXPECT_EQ(loads_, std::vector<bool>({true}));

  // A broken one: refused, v2 kept, reported with the field; not retried.
  const std::string vb = config::ConfigVersion(kBroken);
  storage_.Put(vb, kBroken);
  absl::Status refused = f.PollOnce();
  EXPECT_FALSE(refused.ok());
  EXPECT_THAT(refused.message(), HasSubstr("version " + vb + " refused, keeping version " + v2));
  EXPECT_THAT(refused.message(), HasSubstr("limits[0].windows[0]"));
  EXPECT_EQ(holder_.Get()->version, v2);
  EXPECT_FALSE(in_step_);
  EXPECT_EQ(f.state().store_version, vb);
  EXPECT_EQ(f.state().running_version, v2);
  EXPECT_THAT(f.state().error, HasSubstr("refused"));
  EXPECT_FALSE(f.PollOnce().ok());
  EXPECT_EQ(loads_, std::vector<bool>({true, false}));  // counted once

  // A text that does not hash to its version name is refused too.
  storage_.Put("0123456789abcdef", kV1);
  EXPECT_THAT(f.PollOnce().message(), HasSubstr("the stored text is version " + v1));
  EXPECT_EQ(holder_.Get()->version, v2);

  // Unreachable: reported, the running policy stays.
  storage_.down = absl::UnavailableError("connection refused");
  EXPECT_THAT(f.PollOnce().message(), HasSubstr("cannot read the policy: connection refused"));
  EXPECT_EQ(holder_.Get()->version, v2);

  // Back, at a good version: in step again.
  storage_.down = absl::OkStatus();
  storage_.Put(v1, kV1);
  ASSERT_TRUE(f.PollOnce().ok());
  EXPECT_EQ(holder_.Get()->version, v1);
  EXPECT_TRUE(in_step_);
  EXPECT_EQ(f.state().error, "");
}

TEST(PolicyFollowerSeedTest, TheSeedLeavesOutTheServerSectionWhichEachReplicaTakesFromItsOwnFile) {
  const std::string file = std::string("server:\n  admin:\n    listen: 127.0.0.1:7454\n    tokens: [{name: ci, sha256: ") +
                           std::string(64, 'a') + ", role: viewer}]\n" + kV1;
  FakeStorage storage;
  config::SnapshotHolder holder("replica.yaml", config::LoadSnapshotFromText(file, "replica.yaml").value());
  ratelimit::ManualClock clock;
  PolicyFollower f(storage, holder, clock, {.interval = std::chrono::hours(1)});
  ASSERT_TRUE(f.PollOnce().ok());
  const std::string seeded = config::ConfigVersion(kV1);
  EXPECT_EQ(storage.head, seeded);
  EXPECT_EQ(storage.texts[seeded], kV1);  // no token hash, no address stored
  ASSERT_EQ(storage.history.size(), 1u);
  EXPECT_EQ(storage.history[0].version(), seeded);
  // The replica runs the stored version (its listeners and admin access
  // came from its file at start and follow the file on SIGHUP: main.cc).
  EXPECT_EQ(holder.Get()->version, seeded);
  EXPECT_EQ(f.state().error, "");
}

TEST_F(PolicyFollowerTest, ThePollingThreadStopsPromptly) {
  PolicyFollower f = Follower();
  f.Start();
  const auto t0 = std::chrono::steady_clock::now();
  while (f.state().store_version.empty() && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  f.Stop();  // interval 1h: returns at once, not after the wait
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  EXPECT_EQ(f.state().store_version, config::ConfigVersion(kV1));
  EXPECT_EQ(storage_.head, config::ConfigVersion(kV1));  // the thread has ended
}

}  // namespace
}  // namespace hive::policy::admin
