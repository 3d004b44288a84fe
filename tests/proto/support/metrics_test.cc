// The metrics registry's exposition format and the HTTP endpoint, over a
// real loopback socket.
#include "support/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/metrics_server.h"

namespace hive::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST(MetricsTest, RendersCountersGaugesAndHistograms) {
  Registry r;
  CounterFamily& decisions = r.AddCounter("hive_test_decisions_total", "Decisions.", {"stage", "action"});
  decisions.WithLabels({"CheckMessage", "reject"}).Inc();
  decisions.WithLabels({"CheckMessage", "reject"}).Inc(2);
  r.AddGauge("hive_test_info", "Info.", {"version"}).WithLabels({"ab\"c\\\n"}).Set(1);
  HistogramFamily& latency = r.AddHistogram("hive_test_seconds", "Latency.", {"rpc"}, {0.001, 0.01, 0.1});
  latency.WithLabels({"x"}).Observe(0.0005);
  latency.WithLabels({"x"}).Observe(0.05);
  latency.WithLabels({"x"}).Observe(3);
  r.AddCallbackGauge("hive_test_sessions", "Sessions.", [] { return 7.0; });
  const std::string text = r.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE hive_test_decisions_total counter\n"));
  EXPECT_THAT(text, HasSubstr("hive_test_decisions_total{stage=\"CheckMessage\",action=\"reject\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("hive_test_info{version=\"ab\\\"c\\\\\\n\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("hive_test_seconds_bucket{rpc=\"x\",le=\"0.001\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("hive_test_seconds_bucket{rpc=\"x\",le=\"0.01\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("hive_test_seconds_bucket{rpc=\"x\",le=\"0.1\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("hive_test_seconds_bucket{rpc=\"x\",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("hive_test_seconds_count{rpc=\"x\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("hive_test_seconds_sum{rpc=\"x\"} 3.0505\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE hive_test_sessions gauge\nhive_test_sessions 7\n"));
}

TEST(MetricsTest, CardinalityIsBounded) {
  Registry r;
  CounterFamily& f = r.AddCounter("hive_test_total", "T.", {"k"});
  for (std::size_t i = 0; i < kMaxSeriesPerFamily + 10; ++i) f.WithLabels({std::to_string(i)}).Inc();
  f.WithLabels({"a", "wrong arity"}).Inc();
  EXPECT_EQ(f.WithLabels({"_overflow"}).Value(), 11u);
  EXPECT_THAT(r.Render(), HasSubstr("hive_test_total{k=\"_overflow\"} 11\n"));
}

TEST(MetricsTest, RefreshRunsBeforeEveryRender) {
  Registry registry;
  GaugeFamily& g = registry.AddGauge("hive_test_refreshed", "Set at render time.", {"k"});
  int renders = 0;
  registry.AddRefresh([&] { g.WithLabels({"v"}).Set(++renders); });
  EXPECT_NE(registry.Render().find("hive_test_refreshed{k=\"v\"} 1\n"), std::string::npos);
  EXPECT_NE(registry.Render().find("hive_test_refreshed{k=\"v\"} 2\n"), std::string::npos);
}

TEST(MetricsTest, FormatsValues) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(1e-4), "0.0001");
  EXPECT_EQ(FormatValue(1.0 / 0.0), "+Inf");
}

TEST(MetricsTest, ConcurrentIncrementsAllCount) {
  Registry r;
  CounterFamily& f = r.AddCounter("hive_test_total", "T.", {"k"});
  HistogramFamily& h = r.AddHistogram("hive_test_seconds", "T.", {}, LatencyBuckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        f.WithLabels({"x"}).Inc();
        h.WithLabels({}).Observe(0.001);
        if (i % 1000 == 0) (void)r.Render();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(f.WithLabels({"x"}).Value(), 40000u);
  EXPECT_EQ(h.WithLabels({}).Count(), 40000u);
}

TEST(MetricsServerTest, AnswersRequests) {
  Registry r;
  r.AddCounter("hive_test_total", "T.").WithLabels({}).Inc(5);
  EXPECT_THAT(HandleRequest("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", r),
              AllOf(StartsWith("HTTP/1.1 200 OK\r\n"), HasSubstr("version=0.0.4"), HasSubstr("\nhive_test_total 5\n")));
  EXPECT_THAT(HandleRequest("GET /metrics?x=1 HTTP/1.0\r\n\r\n", r), StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(HandleRequest("GET / HTTP/1.1\r\n\r\n", r), StartsWith("HTTP/1.1 404"));
  EXPECT_THAT(HandleRequest("POST /metrics HTTP/1.1\r\n\r\n", r), StartsWith("HTTP/1.1 405"));
  EXPECT_THAT(HandleRequest("garbage\r\n\r\n", r), StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(HandleRequest("HEAD /metrics HTTP/1.1\r\n\r\n", r), Not(HasSubstr("hive_test_total")));
}

// Connects to 127.0.0.1:port, sends `request`, returns everything read.
std::string Exchange(uint16_t port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    if (!request.empty()) (void)send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    char buf[4096];
    for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  return out;
}

TEST(MetricsServerTest, ServesOverLoopbackAndBoundsRequests) {
  Registry r;
  r.AddCounter("hive_test_total", "T.").WithLabels({}).Inc();
  auto server = MetricsServer::Start("127.0.0.1:0", r);
  ASSERT_TRUE(server.ok()) << server.status();
  const uint16_t port = (*server)->port();
  ASSERT_NE(port, 0);
  EXPECT_THAT(Exchange(port, "GET /metrics HTTP/1.1\r\n\r\n"), HasSubstr("\nhive_test_total 1\n"));
  // An endless header is cut off at kMaxRequestBytes.
  EXPECT_THAT(Exchange(port, "GET /metrics HTTP/1.1\r\n" + std::string(3 * MetricsServer::kMaxRequestBytes, 'x')),
              StartsWith("HTTP/1.1 431"));
  // A client that sends nothing is dropped after the timeout; the server
  // then still answers.
  EXPECT_EQ(Exchange(port, ""), "");
  EXPECT_THAT(Exchange(port, "GET /metrics HTTP/1.1\r\n\r\n"), StartsWith("HTTP/1.1 200"));
}

TEST(MetricsServerTest, RefusesBadAddresses) {
  Registry r;
  EXPECT_FALSE(MetricsServer::Start("localhost:80x", r).ok());
  EXPECT_FALSE(MetricsServer::Start("example.org:9000", r).ok());  // numeric hosts only
  auto first = MetricsServer::Start("127.0.0.1:0", r);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(MetricsServer::Start("127.0.0.1:" + std::to_string((*first)->port()), r).ok());
}

}  // namespace
}  // namespace hive::metrics
