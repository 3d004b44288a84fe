// The Prometheus endpoints of both daemons, scraped over HTTP after real
// mail through Postfix: each counter must have moved by exactly what the
// traffic implies. Plus config reloads of a real hive-policyd (SIGHUP).
#include <signal.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "harness/hive_stack.h"
#include "harness/net.h"
#include "harness/process.h"
#include "harness/smtp_client.h"
#include "harness/temp_dir.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;

// The value of one series (harness/net.h).
constexpr auto& Value = MetricValue;

constexpr char kPolicy[] = R"(
limits:
  - name: per-sender
    match: {sender_domain: [limited.example]}
    key: "{sender}"
    cost: messages
    windows:
      - {limit: 2, period: 1h}
  - name: watch
    match: {sender_domain: [limited.example]}
    key: "{sender_domain}"
    cost: messages
    action: shadow
    windows:
      - {limit: 1, period: 1h}
content:
  rules:
    - {name: PHARMA_BODY, target: body, regex: "(?i)cheap v[i1]agra", weight: 8}
    - {name: MONEY_SUBJECT, target: subject, regex: "(?i)free money", weight: 4}
  reject_score: 10
routing:
  pools:
    - {name: transactional}
    - {name: marketing}
  rules:
    - {name: receipts, match: {sender_domain: [shop.example]}, pool: transactional}
  default_pool: marketing
)";

TEST(MetricsTest, CountersFollowRealTrafficThroughPostfix) {
  const uint16_t policyd_metrics = FreePort();
  const uint16_t milter_metrics = FreePort();
  HiveStack stack(StackOptions{
      .mta = "postfix",
      .policy_yaml = std::string(kPolicy) + "observability: {metrics_listen: \"127.0.0.1:" +
                     std::to_string(policyd_metrics) + "\", near_limit_ratio: 0.5}\n",
      .milter_yaml = "observability: {metrics_listen: \"127.0.0.1:" + std::to_string(milter_metrics) + "\"}\n"});
  const std::string before = ScrapeMetrics(milter_metrics);
  ASSERT_THAT(before, HasSubstr("# TYPE hive_milter_decisions_total counter")) << stack.Diagnostics();
  EXPECT_EQ(Value(before, "hive_milter_config_reloads_total{result=\"failure\"}"), 0);
  ASSERT_THAT(ScrapeMetrics(policyd_metrics), HasSubstr("hive_policyd_config_info{version=\""));

  // Ham (transactional), spam (rejected at end of message), and one sender
  // over its limit: two pass, the third is refused at MAIL.
  Transaction ham = SendMail(stack.smtp_port(), "receipts@shop.example", {"bob@dest.example"},
                             MakeMessage("receipts@shop.example", "bob@dest.example", "Receipt", "Thanks."));
  ASSERT_EQ(ham.data.code, 250) << ham.data.ToString() << stack.Diagnostics();
  Transaction spam = SendMail(stack.smtp_port(), "promo@other.example", {"bob@dest.example"},
                              MakeMessage("promo@other.example", "bob@dest.example", "FREE MONEY", "cheap viagra"));
  ASSERT_EQ(spam.data.code, 550) << spam.data.ToString() << stack.Diagnostics();
  for (int i = 0; i < 2; ++i) {
    Transaction t = SendMail(stack.smtp_port(), "alice@limited.example", {"x@dest.example"},
                             MakeMessage("alice@limited.example", "x@dest.example", "n" + std::to_string(i), "ok"));
    ASSERT_EQ(t.data.code, 250) << t.data.ToString() << stack.Diagnostics();
  }
  Transaction over = SendMail(stack.smtp_port(), "alice@limited.example", {"x@dest.example"},
                              MakeMessage("alice@limited.example", "x@dest.example", "n2", "ok"));
  ASSERT_EQ(over.mail.code, 451) << over.mail.ToString() << stack.Diagnostics();

  const std::string p = ScrapeMetrics(policyd_metrics);
  EXPECT_EQ(Value(p, "hive_policyd_decisions_total{stage=\"eom\",action=\"continue\"}"), 3) << p;
  EXPECT_EQ(Value(p, "hive_policyd_decisions_total{stage=\"eom\",action=\"reject\"}"), 1) << p;
  EXPECT_EQ(Value(p, "hive_policyd_decisions_total{stage=\"mail\",action=\"tempfail\"}"), 1) << p;
  EXPECT_EQ(Value(p, "hive_policyd_decisions_total{stage=\"rcpt\",action=\"continue\"}"), 4) << p;
  EXPECT_EQ(Value(p, "hive_policyd_rule_hits_total{symbol=\"PHARMA_BODY\"}"), 1) << p;
  EXPECT_EQ(Value(p, "hive_policyd_rule_hits_total{symbol=\"MONEY_SUBJECT\"}"), 1) << p;
  EXPECT_EQ(Value(p, "hive_policyd_pool_assignments_total{pool=\"transactional\"}"), 1) << p;
  EXPECT_EQ(Value(p, "hive_policyd_pool_assignments_total{pool=\"marketing\"}"), 2) << p;
  EXPECT_GE(Value(p, "hive_policyd_ratelimit_verdicts_total{rule=\"per-sender\",verdict=\"over\"}"), 1) << p;
  EXPECT_GE(Value(p, "hive_policyd_ratelimit_verdicts_total{rule=\"per-sender\",verdict=\"near_limit\"}"), 1) << p;
  EXPECT_GE(Value(p, "hive_policyd_ratelimit_verdicts_total{rule=\"watch\",verdict=\"shadow\"}"), 1) << p;
  EXPECT_EQ(Value(p, "hive_policyd_request_duration_seconds_count{rpc=\"CheckMessage\",code=\"OK\"}"), 4) << p;
  EXPECT_GE(Value(p, "hive_policyd_store_operation_duration_seconds_count{op=\"reserve\",result=\"ok\"}"), 2) << p;
  EXPECT_EQ(Value(p, "hive_policyd_store_errors_total{op=\"reserve\"}"), 0) << p;

  std::string m = ScrapeMetrics(milter_metrics);
  EXPECT_EQ(Value(m, "hive_milter_decisions_total{stage=\"eom\",action=\"continue\"}"), 3) << m;
  EXPECT_EQ(Value(m, "hive_milter_decisions_total{stage=\"eom\",action=\"reject\"}"), 1) << m;
  EXPECT_EQ(Value(m, "hive_milter_decisions_total{stage=\"mail\",action=\"tempfail\"}"), 1) << m;
  EXPECT_EQ(Value(m, "hive_milter_policy_rpc_duration_seconds_count{rpc=\"CheckMessage\",code=\"OK\"}"), 4) << m;
  EXPECT_EQ(Value(m, "hive_milter_policy_rpc_duration_seconds_count{rpc=\"CheckSender\",code=\"OK\"}"), 5) << m;
  EXPECT_GE(Value(m, "hive_milter_sessions_in_flight"), 0) << m;
  EXPECT_EQ(Value(m, "hive_milter_failure_mode_total{stage=\"mail\",mode=\"tempfail\"}"), -1) << m;

  // The policy service gone: the failure mode answers, and says so.
  stack.StopPolicyd();
  Transaction down = SendMail(stack.smtp_port(), "receipts@shop.example", {"bob@dest.example"},
                              MakeMessage("receipts@shop.example", "bob@dest.example", "Receipt 2", "Thanks."));
  EXPECT_EQ(down.mail.code, 451) << down.mail.ToString() << stack.Diagnostics();
  m = ScrapeMetrics(milter_metrics);
  EXPECT_EQ(Value(m, "hive_milter_failure_mode_total{stage=\"mail\",mode=\"tempfail\"}"), 1) << m;
  EXPECT_EQ(Value(m, "hive_milter_policy_rpc_duration_seconds_count{rpc=\"CheckSender\",code=\"UNAVAILABLE\"}"), 1)
      << m;
}

TEST(MetricsTest, PolicydReloadsAreCountedAndTheVersionFollows) {
  TempDir dir;
  const uint16_t grpc_port = FreePort();
  const uint16_t metrics_port = FreePort();
  const std::string config = dir.Sub("policyd.yaml");
  const std::string observability =
      "observability: {metrics_listen: \"127.0.0.1:" + std::to_string(metrics_port) + "\"}\n";
  WriteFile(config, observability + "routing: {pools: [{name: a}], default_pool: a}\n");
  Process policyd({HIVE_POLICYD_BIN, "--config", config, "--listen", "127.0.0.1:" + std::to_string(grpc_port)},
                  dir.Sub("policyd.log"));
  ASSERT_TRUE(WaitForListener(metrics_port, std::chrono::seconds(15)));
  const std::string first = ScrapeMetrics(metrics_port);
  const std::size_t at = first.find("hive_policyd_config_info{version=\"");
  ASSERT_NE(at, std::string::npos) << first;
  const std::string first_version = first.substr(at, first.find('}', at) - at);

  auto reload_and_scrape = [&](const std::string& result, double expected) {
    ASSERT_EQ(kill(policyd.pid(), SIGHUP), 0);
    const std::string series = "hive_policyd_config_reloads_total{result=\"" + result + "\"}";
    std::string text;
    for (int i = 0; i < 100 && Value(text, series) != expected; ++i) {  // bounded: 10 s
      if (i > 0) usleep(100 * 1000);
      text = ScrapeMetrics(metrics_port);
    }
    EXPECT_EQ(Value(text, series), expected) << text;
  };
  WriteFile(config, observability + "routing: {pools: [{name: a}, {name: b}], default_pool: b}\n");
  reload_and_scrape("success", 1);
  const std::string second = ScrapeMetrics(metrics_port);
  EXPECT_EQ(second.find(first_version), std::string::npos) << "the old version is gone:\n" << second;
  EXPECT_NE(second.find("hive_policyd_config_info{version=\""), std::string::npos);

  WriteFile(config, observability + "routing: {pools: [{name: a}], default_pool: nowhere}\n");
  reload_and_scrape("failure", 1);
  policyd.Stop();
}

}  // namespace
}  // namespace hive::testing
