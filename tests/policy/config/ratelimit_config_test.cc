// The issue-4 rate-limit fields of policyd.yaml: compiled into the
// LimitPolicy, and refused with file:line:col and the field path.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/snapshot.h"

namespace hive::policy::config {
namespace {

using ::testing::HasSubstr;

std::string Errors(const std::string& yaml) {
  absl::StatusOr<SnapshotPtr> s = LoadSnapshotFromText(yaml, "p.yaml");
  return s.ok() ? "OK" : std::string(s.status().message());
}

TEST(RateLimitConfigTest, CompilesQuotasOverridesExemptionsAndStore) {
  absl::StatusOr<SnapshotPtr> s = LoadSnapshotFromText(R"(
ratelimit:
  time_zone: Asia/Shanghai
  class_header: X-Hive-Class
  exempt:
    recipient: ["postmaster@*", "abuse@*"]
    client_ip: [10.0.0.0/8]
  store:
    kind: redis
    redis: {address: "127.0.0.1:6379", timeout: 20ms, on_outage: local, fallback_share: 0.5}
routing:
  pools: [{name: main}, {name: slow}]
  default_pool: main
limits:
  - name: per-user
    key: "{sasl_user}"
    cost: recipients
    strip_subaddress: true
    windows: [{limit: 5, period: 1s, burst: 20}, {limit: 2000, period: 1h}]
    quotas: [{limit: 50000, period: day}, {limit: 1500000, period: month}]
    overrides:
      - match: {sasl_user: [bigcustomer]}
        quotas: [{limit: 500000, period: day}]
  - name: tenant-bytes
    key: "{header:X-Tenant}"
    cost: bytes
    match: {header: [{name: X-Tenant, value: ["*"]}], message_class: [marketing]}
    windows: [{limit: 1000000000, period: 1h}]
  - name: bulk-slow-lane
    key: "{sender_domain}"
    action: route
    route_pool: slow
    match: {pool: [main]}
    windows: [{limit: 100, period: 1m}]
)", "p.yaml");
  ASSERT_TRUE(s.ok()) << s.status();
  const ratelimit::LimitPolicy& p = (*s)->limits;
  EXPECT_EQ(p.zone.name(), "Asia/Shanghai");
  ASSERT_EQ(p.rules.size(), 3u);
  EXPECT_EQ(p.rules[0].quotas.size(), 2u);
  EXPECT_EQ(p.rules[0].overrides.size(), 1u);
  EXPECT_FALSE(p.rules[0].MessageStage());
  EXPECT_TRUE(p.rules[1].MessageStage());
  EXPECT_EQ(p.rules[2].action, ratelimit::LimitAction::kRoute);
  EXPECT_EQ(p.rules[2].route_pool, "slow");
  EXPECT_TRUE(p.exempt.ExemptsRecipient(match::MakeRecipient("Abuse@example.org")));
  EXPECT_TRUE((*s)->limit_store.redis);
  EXPECT_TRUE((*s)->limit_store.redis_outage_local);
  EXPECT_EQ((*s)->limit_store.redis_timeout, std::chrono::milliseconds(20));
  EXPECT_EQ((*s)->class_header, "X-Hive-Class");
}

TEST(RateLimitConfigTest, ErrorsNameLineAndField) {
  EXPECT_THAT(Errors("ratelimit:\n  time_zone: Mars/Base\n"),
              HasSubstr("p.yaml:2:14: ratelimit.time_zone: unknown time zone 'Mars/Base'"));
  EXPECT_THAT(Errors("limits:\n  - name: q\n    quotas: [{limit: 5}]\n"),
              HasSubstr("limits[0].quotas[0].period: is required"));
  EXPECT_THAT(Errors("limits:\n  - name: r\n    action: route\n    windows: [{limit: 1, period: 1s}]\n"),
              HasSubstr("limits[0].route_pool: action route needs a route_pool"));
  EXPECT_THAT(Errors("limits:\n  - name: r\n    action: route\n    route_pool: nowhere\n"
                     "    windows: [{limit: 1, period: 1s}]\n"),
              HasSubstr("p.yaml:4:17: limits[0].route_pool: unknown pool 'nowhere'"));
  EXPECT_THAT(Errors("limits:\n  - name: o\n    windows: [{limit: 1, period: 1s}]\n"
                     "    overrides: [{windows: [{limit: 2, period: 1s}]}]\n"),
              HasSubstr("limits[0].overrides[0].match: an override needs a match"));
  EXPECT_THAT(Errors("ratelimit:\n  exempt:\n    recipient: [postmaster]\n"),
              HasSubstr("p.yaml:3:17: ratelimit.exempt.recipient[0]"));
  EXPECT_THAT(Errors("ratelimit:\n  store:\n    kind: redis\n"),
              HasSubstr("ratelimit.store.redis.address: is required"));
  EXPECT_THAT(Errors("routing:\n  pools: [{name: a}]\n  default_pool: a\n  rules: [{name: x, pool: a, match: {pool: [a]}}]\n"),
              HasSubstr("routing.rules[0].match.pool: matches the chosen pool: only limit rules"));
  EXPECT_THAT(Errors("limits:\n  - name: k\n    key: \"{header:}\"\n    windows: [{limit: 1, period: 1s}]\n"),
              HasSubstr("limits[0].key"));
}

}  // namespace
}  // namespace hive::policy::config
