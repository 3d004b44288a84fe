#include "support/yaml_to_proto.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "hive/config/v1/milter_config.pb.h"
#include "support/proto_to_yaml.h"
#include "hive/config/v1/policy_config.pb.h"

namespace hive::config {
namespace {

using ::testing::HasSubstr;

TEST(YamlToProtoTest, FillsNestedMessagesListsEnumsAndDurations) {
  hive::config::v1::PolicyConfig cfg;
  ASSERT_TRUE(YamlToProto(R"(
server:
  listen: 127.0.0.1:7450
limits:
  - name: per-sender
    key: "{sender}"
    cost: recipients
    action: LIMIT_ACTION_REJECT
    windows:
      - {limit: 100, period: 1h30m}
      - {limit: 5, period: 250ms, burst: 2}
)", "t.yaml", cfg).ok());
  EXPECT_EQ(cfg.server().listen(), "127.0.0.1:7450");
  ASSERT_EQ(cfg.limits_size(), 1);
  EXPECT_EQ(cfg.limits(0).cost(), hive::config::v1::COST_RECIPIENTS);
  EXPECT_EQ(cfg.limits(0).action(), hive::config::v1::LIMIT_ACTION_REJECT);
  EXPECT_EQ(cfg.limits(0).windows(0).period().seconds(), 5400);
  EXPECT_EQ(cfg.limits(0).windows(1).period().nanos(), 250'000'000);
  EXPECT_EQ(cfg.limits(0).windows(1).burst(), 2u);
}

TEST(YamlToProtoTest, UnknownFieldNamesPathAndLine) {
  hive::config::v1::PolicyConfig cfg;
  absl::Status s = YamlToProto("limits:\n  - name: a\n    windows:\n      - limit: 1\n        perod: 1s\n",
                               "p.yaml", cfg);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("p.yaml:5:9: limits[0].windows[0].perod: unknown field"));
}

TEST(YamlToProtoTest, RefusesWrongTypesRangesAndEnums) {
  hive::config::v1::MilterConfig cfg;
  EXPECT_THAT(YamlToProto("max_headers: -1\n", "m", cfg).message(), HasSubstr("max_headers"));
  EXPECT_THAT(YamlToProto("max_headers: 99999999999\n", "m", cfg).message(), HasSubstr("out of range"));
  EXPECT_THAT(YamlToProto("failure_mode: maybe\n", "m", cfg).message(), HasSubstr("tempfail, accept"));
  EXPECT_THAT(YamlToProto("rpc_timeout: 10\n", "m", cfg).message(), HasSubstr("needs a unit"));
  EXPECT_THAT(YamlToProto("listen: [a]\n", "m", cfg).message(), HasSubstr("expected a single value"));
  EXPECT_THAT(YamlToProto("listen: a\nlisten: b\n", "m", cfg).message(), HasSubstr("duplicate"));
  EXPECT_THAT(YamlToProto("listen: [\n", "m", cfg).message(), HasSubstr("invalid YAML"));
}

TEST(YamlToProtoTest, ShortEnumNamesAndEmptyDocument) {
  hive::config::v1::MilterConfig cfg;
  ASSERT_TRUE(YamlToProto("failure_mode: accept\n", "m", cfg).ok());
  EXPECT_EQ(cfg.failure_mode(), hive::config::v1::FAILURE_MODE_ACCEPT);
  ASSERT_TRUE(YamlToProto("", "m", cfg).ok());
  EXPECT_EQ(cfg.failure_mode(), hive::config::v1::FAILURE_MODE_UNSPECIFIED);
}

TEST(YamlToProtoTest, SourceMapLocatesFieldsForLaterChecks) {
  hive::config::v1::PolicyConfig cfg;
  SourceMap where;
  ASSERT_TRUE(YamlToProto("content:\n  rules:\n    - name: x\n      regex: \"(\"\n", "c.yaml", cfg, &where).ok());
  EXPECT_EQ(where.Locate("content.rules[0].regex"), "c.yaml:4:14");
  EXPECT_EQ(where.Describe("content.rules[0].regex", "bad"), "c.yaml:4:14: content.rules[0].regex: bad");
  // A path that was never written falls back to its nearest parent.
  EXPECT_EQ(where.Locate("content.rules[0].weight"), "c.yaml:3:7");
}

// `--config /etc/hive` (the directory): it read as an empty file, so
// hive-policyd ran with no limits and the milter on defaults.
TEST(YamlFileToProtoTest, ADirectoryIsNotAnEmptyConfig) {
  const std::string dir = ::testing::TempDir();
  v1::MilterConfig milter;
  const absl::Status s = YamlFileToProto(dir, milter);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr(": is a directory, not a configuration file"));
  EXPECT_FALSE(ReadConfigFile(dir).ok());
  EXPECT_THAT(ReadConfigFile(dir + "/no-such.yaml").status().message(), HasSubstr("cannot open"));
}

// What hivectl rules get prints and an object edit writes into the file:
// enums and durations as the docs and the packaged config write them, and
// read back to the same message.
TEST(ProtoToYamlTest, WritesShortEnumsAndDurationsInTheirLargestUnit) {
  v1::PolicyConfig cfg;
  ASSERT_TRUE(YamlToProto("limits:\n  - name: a\n    cost: COST_RECIPIENTS\n    action: reject\n"
                          "    windows: [{limit: 1, period: 3600s}, {limit: 2, period: 90s}, {limit: 3, period: 1500ms},"
                          " {limit: 4, period: 14d}]\n",
                          "t", cfg)
                  .ok());
  const std::string yaml = ProtoToYaml(cfg);
  EXPECT_THAT(yaml, HasSubstr("cost: recipients\n"));
  EXPECT_THAT(yaml, HasSubstr("action: reject\n"));
  EXPECT_THAT(yaml, HasSubstr("period: 1h\n"));
  EXPECT_THAT(yaml, HasSubstr("period: 90s\n"));
  EXPECT_THAT(yaml, HasSubstr("period: 1500ms\n"));
  EXPECT_THAT(yaml, HasSubstr("period: 2w\n"));
  v1::PolicyConfig back;
  ASSERT_TRUE(YamlToProto(yaml, "back", back).ok()) << yaml;
  EXPECT_EQ(back.SerializeAsString(), cfg.SerializeAsString()) << yaml;
}

TEST(ParseDurationTest, UnitsAndErrors) {
  EXPECT_EQ(ParseDuration("2s")->seconds(), 2);
  EXPECT_EQ(ParseDuration("1d")->seconds(), 86400);
  EXPECT_EQ(ParseDuration("1w")->seconds(), 604800);
  EXPECT_EQ(ParseDuration("5m")->seconds(), 300);
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("-1s").ok());
  EXPECT_FALSE(ParseDuration("3x").ok());
  EXPECT_FALSE(ParseDuration("99999999999999999w").ok());
}

}  // namespace
}  // namespace hive::config
