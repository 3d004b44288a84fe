#include "config/snapshot.h"

#include <cstdio>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/snapshot_holder.h"

namespace hive::policy::config {
namespace {

using ::testing::HasSubstr;

constexpr char kGood[] = R"(server:
  listen: 127.0.0.1:7999
limits:
  - name: per-sender
    match: {sender_domain: [example.com]}
    key: "{sender}"
    windows:
      - {limit: 100, period: 1h}
      - {limit: 10, period: 1m, burst: 5}
  - name: per-sender-domain
    key: "{sender}:{recipient_domain}"
    cost: recipients
    action: reject
    windows: [{limit: 50, period: 1d}]
content:
  rules:
    - {name: PILLS, target: body, regex: "(?i)viagra", weight: 6}
  reject_score: 10
  quarantine_score: 5
routing:
  pools: [{name: shared}, {name: vip}]
  rules:
    - {name: vip-senders, match: {sender: ["*@vip.example.com"]}, pool: vip}
  default_pool: shared
)";

std::string Errors(const std::string& yaml) {
  absl::StatusOr<SnapshotPtr> s = LoadSnapshotFromText(yaml, "p.yaml");
  return s.ok() ? "OK" : std::string(s.status().message());
}

// Checked when the file loads (so `--check` and a reload see them): gRPC
// bound port 99999 % 65536 = 34463 and the daemon said it listened on 99999.
TEST(SnapshotTest, ListenAddressesNeedAValidPort) {
  EXPECT_THAT(Errors("server: {listen: \"127.0.0.1:99999\"}\n"),
              HasSubstr("p.yaml:1:18: server.listen: '127.0.0.1:99999': port 99999 is above 65535"));
  EXPECT_THAT(Errors("server: {admin: {listen: \"localhost\"}}\n"),
              HasSubstr("server.admin.listen: 'localhost': expected HOST:PORT"));
  EXPECT_THAT(Errors("observability: {metrics_listen: \"127.0.0.1:7452x\"}\n"),
              HasSubstr("observability.metrics_listen: '127.0.0.1:7452x': '7452x' is not a port number"));
  EXPECT_EQ(Errors("server: {listen: \"unix:/run/hive/policyd.sock\", admin: {listen: \"[::1]:7454\"}}\n"
                   "observability: {metrics_listen: \"127.0.0.1:0\"}\n"),
            "OK");
}

TEST(SnapshotTest, CompilesAGoodConfigWithDefaults) {
  absl::StatusOr<SnapshotPtr> s = LoadSnapshotFromText(kGood, "p.yaml");
  ASSERT_TRUE(s.ok()) << s.status();
  const PolicySnapshot& p = **s;
  EXPECT_EQ(p.server.listen, "127.0.0.1:7999");
  EXPECT_EQ(p.server.max_request_bytes, 8u << 20);
  EXPECT_EQ(p.limits.reservation_ttl, std::chrono::minutes(10));
  ASSERT_EQ(p.limits.rules.size(), 2u);
  EXPECT_EQ(p.limits.rules[0].cost, ratelimit::Cost::kMessages);
  EXPECT_EQ(p.limits.rules[0].action, ratelimit::LimitAction::kTempfail);
  EXPECT_TRUE(p.limits.rules[0].SenderStage());
  EXPECT_EQ(p.limits.rules[0].windows[0].burst, 100u);
  EXPECT_EQ(p.limits.rules[0].windows[1].burst, 5u);
  EXPECT_EQ(p.limits.rules[1].cost, ratelimit::Cost::kRecipients);
  EXPECT_EQ(p.limits.rules[1].action, ratelimit::LimitAction::kReject);
  EXPECT_FALSE(p.limits.rules[1].SenderStage());
  EXPECT_EQ(p.routing.Choose(match::MakeFacts("a@vip.example.com", "", "")).pool, "vip");
  EXPECT_EQ(p.version.size(), 16u);
  EXPECT_EQ(Errors(""), "OK");  // an empty file is a valid, permissive config
}

TEST(SnapshotTest, VersionFollowsTheBytes) {
  auto a = LoadSnapshotFromText(kGood, "p.yaml");
  auto b = LoadSnapshotFromText(std::string(kGood) + "\n# comment\n", "p.yaml");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->version, (*b)->version);
}

TEST(SnapshotTest, BadRegexNamesPathAndLine) {
  EXPECT_THAT(Errors("content:\n  rules:\n    - name: X\n      target: body\n      regex: \"(oops\"\n"),
              HasSubstr("p.yaml:5:14: content.rules[0].regex: invalid RE2 regex"));
}

TEST(SnapshotTest, UnknownPlaceholderNamesPathAndLine) {
  EXPECT_THAT(Errors("limits:\n  - name: a\n    key: \"{sendr}\"\n    windows: [{limit: 1, period: 1s}]\n"),
              HasSubstr("p.yaml:3:10: limits[0].key: unknown placeholder {sendr}"));
}

TEST(SnapshotTest, WindowProblemsNamePathAndLine) {
  const std::string e = Errors(
      "limits:\n"
      "  - name: a\n"
      "    windows:\n"
      "      - limit: 0\n"
      "        period: 1m\n"
      "      - limit: 5\n"
      "  - name: b\n"
      "  - name: c\n"
      "    windows: [{limit: 1, period: 1m}, {limit: 2, period: 60s}]\n");
  EXPECT_THAT(e, HasSubstr("p.yaml:4:16: limits[0].windows[0].limit: must be at least 1"));
  EXPECT_THAT(e, HasSubstr("p.yaml:6:9: limits[0].windows[1].period: is missing or zero"));
  EXPECT_THAT(e, HasSubstr("p.yaml:7:5: limits[1].windows: at least one window"));
  EXPECT_THAT(e, HasSubstr("limits[2].windows[1].period: two windows of one rule have the same period"));
}

TEST(SnapshotTest, DuplicateNamesAreRefused) {
  EXPECT_THAT(Errors("limits:\n  - {name: a, windows: [{limit: 1, period: 1s}]}\n"
                     "  - {name: a, windows: [{limit: 1, period: 1s}]}\n"),
              HasSubstr("p.yaml:3:12: limits[1].name: duplicate name 'a'"));
  EXPECT_THAT(Errors("routing:\n  pools: [{name: p}, {name: p}]\n  default_pool: p\n"),
              HasSubstr("routing.pools[1].name: duplicate name 'p'"));
  EXPECT_THAT(Errors("limits:\n  - {name: 'bad name', windows: [{limit: 1, period: 1s}]}\n"),
              HasSubstr("limits[0].name: 'bad name' is not a name"));
}

TEST(SnapshotTest, RoutingNamesUnknownPoolsAndMissingDefault) {
  EXPECT_THAT(Errors("routing:\n  pools: [{name: shared}]\n  rules:\n    - {name: r, pool: vip}\n"
                     "  default_pool: shared\n"),
              HasSubstr("p.yaml:4:23: routing.rules[0].pool: unknown pool 'vip' (pools: shared)"));
  EXPECT_THAT(Errors("routing:\n  pools: [{name: shared}]\n  default_pool: nope\n"),
              HasSubstr("p.yaml:3:17: routing.default_pool: unknown pool 'nope'"));
  EXPECT_THAT(Errors("routing:\n  pools: [{name: shared}]\n"), HasSubstr("routing.default_pool: a pool is required"));
}

TEST(SnapshotTest, MatchEntriesAreCheckedOneByOne) {
  const std::string e = Errors(
      "routing:\n  pools: [{name: p}]\n  default_pool: p\n  rules:\n    - name: r\n      pool: p\n"
      "      match:\n        client_ip: [10.0.0.0/8, 10.0.0.0/99]\n        sender: [nobody]\n");
  EXPECT_THAT(e, HasSubstr("p.yaml:8:33: routing.rules[0].match.client_ip[1]: '10.0.0.0/99' has a bad prefix"));
  EXPECT_THAT(e, HasSubstr("p.yaml:9:18: routing.rules[0].match.sender[0]: 'nobody' is not an address"));
}

TEST(SnapshotTest, ContentThresholdsAndTargets) {
  EXPECT_THAT(Errors("content:\n  reject_score: 5\n  quarantine_score: 8\n"),
              HasSubstr("p.yaml:3:21: content.quarantine_score: must be below reject_score"));
  EXPECT_THAT(Errors("content:\n  rules: [{name: X, target: envelope, regex: x}]\n"),
              HasSubstr("content.rules[0].target: 'envelope' is not a target"));
}

TEST(SnapshotTest, SchemaErrorsComeFromTheLoader) {
  EXPECT_THAT(Errors("limits:\n  - name: a\n    cost: octets\n"), HasSubstr("p.yaml:3:11: limits[0].cost"));
  EXPECT_THAT(Errors("server:\n  lisen: x\n"), HasSubstr("unknown field"));
}

TEST(SnapshotHolderTest, ReloadSwapsOnSuccessAndKeepsTheOldOnError) {
  const std::string path = ::testing::TempDir() + "/hive_policy_reload_test.yaml";
  auto write = [&](const std::string& text) { std::ofstream(path) << text; };
  write(kGood);
  absl::StatusOr<SnapshotPtr> first = LoadSnapshot(path);
  ASSERT_TRUE(first.ok()) << first.status();
  SnapshotHolder holder(path, *first);
  const SnapshotPtr in_flight = holder.Get();  // a request holding the old one

  EXPECT_FALSE(holder.LastReloadFailure().has_value());
  const std::string broken = "limits:\n  - name: a\n    windows: [{limit: 0, period: 1s}]\n";
  write(broken);
  absl::Status bad = holder.Reload();
  EXPECT_THAT(bad.message(), HasSubstr(path + ":3:"));
  EXPECT_EQ(holder.Get(), *first);
  // Kept for `hivectl status`: which text was refused and why.
  ASSERT_TRUE(holder.LastReloadFailure().has_value());
  EXPECT_EQ(holder.LastReloadFailure()->version, ConfigVersion(broken));
  EXPECT_EQ(holder.LastReloadFailure()->error, bad.message());

  write("content:\n  reject_score: 3\n");
  ASSERT_TRUE(holder.Reload().ok());
  EXPECT_FALSE(holder.LastReloadFailure().has_value());
  EXPECT_NE(holder.Get()->version, (*first)->version);
  EXPECT_EQ(holder.Get()->content.reject_score(), 3);
  EXPECT_EQ(in_flight->limits.rules.size(), 2u);  // untouched by the swap
  std::remove(path.c_str());
  EXPECT_FALSE(holder.Reload().ok());
  EXPECT_EQ(holder.LastReloadFailure()->version, "");  // nothing read
}

}  // namespace
}  // namespace hive::policy::config
