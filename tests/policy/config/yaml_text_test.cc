// config/yaml_text.h: a top-level section removed from a config's text,
// everything else (comments, order, other sections) kept byte for byte.
#include "config/yaml_text.h"

#include <gtest/gtest.h>

#include "config/snapshot.h"
#include "config/snapshot_holder.h"

namespace hive::policy::config {
namespace {

constexpr char kWithServer[] = R"(# hive-policyd
server:
  listen: 127.0.0.1:7450   # loopback only
  admin:
    listen: 127.0.0.1:7454

    tokens: [{name: ci, sha256: 0000000000000000000000000000000000000000000000000000000000000000, role: viewer}]
# the limits
limits:
  - name: per-sender
    key: "{sender}"
    windows:
      - {limit: 100, period: 1h}
)";

TEST(YamlTextTest, TheSectionAndItsBlockGoTheCommentAboveTheNextKeyStays) {
  const std::string out = WithoutTopLevelSection(kWithServer, "server");
  EXPECT_EQ(out, R"(# hive-policyd
# the limits
limits:
  - name: per-sender
    key: "{sender}"
    windows:
      - {limit: 100, period: 1h}
)");
}

TEST(YamlTextTest, FlowStyleLastSectionAndAbsentKey) {
  EXPECT_EQ(WithoutTopLevelSection("limits: []\nserver: {listen: \"127.0.0.1:1\"}\n", "server"), "limits: []\n");
  EXPECT_EQ(WithoutTopLevelSection("limits: []\nserver :\n  listen: x", "server"), "limits: []\n");
  EXPECT_EQ(WithoutTopLevelSection("limits: []\n", "server"), "limits: []\n");
  // Only that key at column 0: a longer name or a nested "server:" is
  // another field.
  EXPECT_EQ(WithoutTopLevelSection("serverless: 1\nserver:\n  listen: x\n", "server"), "serverless: 1\n");
  EXPECT_EQ(WithoutTopLevelSection("x:\n  server: 1\n", "server"), "x:\n  server: 1\n");
}

TEST(YamlTextTest, WhatRemainsLoadsWithTheDefaultServerSettings) {
  absl::StatusOr<SnapshotPtr> s = LoadSnapshotFromText(WithoutTopLevelSection(kWithServer, "server"), "t");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(SameServerSettings((*s)->server, {}));
  EXPECT_EQ((*s)->limits.rules.size(), 1u);
}

}  // namespace
}  // namespace hive::policy::config
