// The issue-6 routing fields of policyd.yaml: pools with members, shaping,
// warm-up schedules, provider groups, rule conditions and feedback, compiled
// into the Router, and refused with file:line:col and the field path.
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

constexpr char kGood[] = R"(
limits:
  - name: hourly
    key: "{sender}"
    action: route
    route_pool: slow
    windows: [{limit: 100, period: 1h}]
routing:
  provider_groups:
    - {name: google, domains: [gmail.com, googlemail.com]}
  warmups:
    - {name: new-ip, day_one: 50, growth: 1.5, warm_at: 5000, step_back_days: 3}
  pools:
    - name: transactional
      members:
        - {name: tx-a, address: 127.0.0.2, helo: tx-a.mail.example.com}
    - name: marketing
      shaping: {destination_concurrency: 5, destination_rate_delay: 1s}
      overflow_pool: slow
      members:
        - {name: mkt-a, address: "2001:db8::0:25", helo: mkt-a.mail.example.com, weight: 3}
        - {name: mkt-b, address: 127.0.0.3, helo: mkt-b.mail.example.com, warmup: new-ip}
    - {name: slow}
  rules:
    - {name: lane, slow_lane_limits: [hourly], pool: slow}
    - {name: spammy, min_score: 5, pool: slow}
    - {name: tx, match: {message_class: [transactional]}, pool: transactional}
  default_pool: marketing
  transactional_classes: [transactional, "otp-*"]
  feedback: {block_patterns: ["^4\\.7\\.", "TSS04"], ignore_patterns: ["greylist"], block_threshold: 5,
             block_window: 30m, pause: 4h}
)";

TEST(RoutingConfigTest, CompilesPoolsMembersWarmupsAndRules) {
  absl::StatusOr<SnapshotPtr> s = LoadSnapshotFromText(kGood, "p.yaml");
  ASSERT_TRUE(s.ok()) << s.status();
  const routing::Router& r = (*s)->routing;
  const routing::Pool* mkt = r.FindPool("marketing");
  ASSERT_NE(mkt, nullptr);
  ASSERT_EQ(mkt->members.size(), 2u);
  EXPECT_EQ(mkt->members[0].address, "2001:db8::25");
  EXPECT_TRUE(mkt->members[0].ipv6);
  EXPECT_EQ(mkt->members[0].weight, 3u);
  EXPECT_FALSE(mkt->members[0].warmup.has_value());
  ASSERT_TRUE(mkt->members[1].warmup.has_value());
  EXPECT_EQ(mkt->members[1].warmup->day_one, 50u);
  EXPECT_EQ(mkt->members[1].warmup->step_back_days, 3u);
  EXPECT_EQ(mkt->shaping.destination_concurrency, 5u);
  EXPECT_EQ(mkt->shaping.destination_rate_delay, std::chrono::seconds(1));
  EXPECT_EQ(mkt->overflow_pool, "slow");
  EXPECT_EQ(r.groups().GroupOf("googlemail.com"), "google");
  EXPECT_TRUE(r.IsTransactional("otp-reset"));
  EXPECT_NE(r.feedback().classifier.Match(routing::DeliveryStatus::kDeferred, "4.2.0", "TSS04 deferred"), "");
  EXPECT_EQ(r.feedback().classifier.Match(routing::DeliveryStatus::kDeferred, "4.7.1", "greylisted"), "");
  EXPECT_EQ(r.feedback().block_threshold, 5);
  EXPECT_EQ(r.feedback().block_window, std::chrono::minutes(30));
  EXPECT_EQ(r.feedback().pause, std::chrono::hours(4));
  match::Facts f = match::MakeFacts("a@x.example", "", "");
  EXPECT_EQ(r.Choose(routing::RouteInput{f, 6}).pool, "slow");
  EXPECT_EQ(r.Choose(routing::RouteInput{f, 1, "hourly"}).pool, "slow");
  f.message_class = "transactional";
  EXPECT_EQ(r.Choose(routing::RouteInput{f, 1}).pool, "transactional");
}

TEST(RoutingConfigTest, RefusesBadMembersWithLines) {
  const std::string e = Errors(R"(
routing:
  warmups:
    - {name: w, day_one: 10, growth: 1, warm_at: 5}
  pools:
    - name: p
      members:
        - {name: a, address: 300.0.0.1, helo: a.example.com}
        - {name: b, address: 127.0.0.2, helo: "not a name", warmup: nope}
        - {name: a, address: 127.0.0.2, helo: c.example.com}
      shaping: {destination_rate_delay: 500ms}
  default_pool: p
)");
  EXPECT_THAT(e, HasSubstr("p.yaml:4:"));
  EXPECT_THAT(e, HasSubstr("routing.warmups[0].growth: must be above 1"));
  EXPECT_THAT(e, HasSubstr("routing.warmups[0].warm_at"));
  EXPECT_THAT(e, HasSubstr("routing.pools[0].members[0].address: '300.0.0.1' is not an IP address"));
  EXPECT_THAT(e, HasSubstr("routing.pools[0].members[1].helo"));
  EXPECT_THAT(e, HasSubstr("routing.pools[0].members[1].warmup: unknown warm-up schedule 'nope'"));
  EXPECT_THAT(e, HasSubstr("routing.pools[0].members[2].name: duplicate name 'a'"));
  EXPECT_THAT(e, HasSubstr("routing.pools[0].members[2].address: 127.0.0.2 is already member 'b'"));
  EXPECT_THAT(e, HasSubstr("routing.pools[0].shaping.destination_rate_delay: whole seconds"));
}

TEST(RoutingConfigTest, RefusesOverflowProblemsBandsAndLanes) {
  const std::string e = Errors(R"(
routing:
  warmups: [{name: w, day_one: 10, warm_at: 500}]
  provider_groups: [{name: g, domains: [gmail.com]}, {name: h, domains: [gmail.com]}]
  pools:
    - {name: cold, members: [{name: c, address: 127.0.0.2, helo: c.example.com, warmup: w}]}
    - {name: x, overflow_pool: y}
    - {name: y, overflow_pool: x}
  rules:
    - {name: band, min_score: 5, max_score: 5, pool: x}
    - {name: lane, slow_lane_limits: [nope], pool: x}
  default_pool: x
  feedback: {block_patterns: ["("], ignore_patterns: ["ok", "[x"], block_threshold: 1001, block_window: 5s,
             pause: 8d}
)");
  EXPECT_THAT(e, HasSubstr("routing.pools[0].overflow_pool: every member warms up"));
  EXPECT_THAT(e, HasSubstr("routing.pools[1].overflow_pool: overflow pools form a cycle"));
  EXPECT_THAT(e, HasSubstr("routing.provider_groups[1].domains[0]: 'gmail.com' is already in group 'g'"));
  EXPECT_THAT(e, HasSubstr("routing.rules[0].max_score: must be greater than min_score"));
  EXPECT_THAT(e, HasSubstr("routing.rules[1].slow_lane_limits[0]: 'nope' is not a limit rule with action route"));
  EXPECT_THAT(e, HasSubstr("routing.feedback.block_patterns"));
  EXPECT_THAT(e, HasSubstr("routing.feedback.ignore_patterns: [1]:"));
  EXPECT_THAT(e, HasSubstr("routing.feedback.block_threshold: at most 1000"));
  EXPECT_THAT(e, HasSubstr("routing.feedback.block_window: must be between 10s and 1d"));
  EXPECT_THAT(e, HasSubstr("routing.feedback.pause: must be between 1m and 7d"));
}

TEST(RoutingConfigTest, FeedbackDefaultsCountThreeBlocksInTenMinutesAndPauseTwoHours) {
  absl::StatusOr<SnapshotPtr> s = LoadSnapshotFromText("routing: {}\n", "p.yaml");
  ASSERT_TRUE(s.ok()) << s.status();
  const routing::FeedbackPolicy& f = (*s)->routing.feedback();
  EXPECT_EQ(f.block_threshold, 3);
  EXPECT_EQ(f.block_window, std::chrono::minutes(10));
  EXPECT_EQ(f.pause, std::chrono::hours(2));
  EXPECT_NE(f.classifier.Match(routing::DeliveryStatus::kDeferred, "4.7.0", "421 4.7.0 rate limited"), "");
  EXPECT_EQ(f.classifier.Match(routing::DeliveryStatus::kDeferred, "4.7.1", "451 4.7.1 Greylisted"), "");
}

}  // namespace
}  // namespace hive::policy::config
