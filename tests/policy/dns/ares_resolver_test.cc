// The c-ares resolver against a real DNS responder on loopback
// (tests/dns/loopback_dns_server.h): answers, NXDOMAIN, SERVFAIL, and the
// promise that matters most: a dead or slow server costs at most the
// deadline and yields kTimeout, never a hang; a caller that finds every
// channel busy gets kTimeout at its deadline too. c-ares's own retry timer
// is set far beyond the deadlines (2 s), so only the deadline can end those
// lookups early; the upper bounds leave room for a loaded, sanitised run.
#include "dns/ares_resolver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>

#include "dns/loopback_dns_server.h"

namespace hive::policy::dns {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using hive::testing::LoopbackDnsServer;
using namespace std::chrono_literals;

std::shared_ptr<AresResolver> Make(const LoopbackDnsServer& server, int max_concurrent = 4) {
  absl::StatusOr<std::shared_ptr<AresResolver>> r =
      AresResolver::Create({.servers = {server.address()}, .max_concurrent = max_concurrent, .try_timeout = 2s});
  EXPECT_TRUE(r.ok()) << r.status();
  return *r;
}

TEST(AresResolverTest, AnswersNotFoundAndServfail) {
  LoopbackDnsServer server;
  server.Add("shop.example.uribl.test", {0x7f000002, 0x7f000004}, 120);
  auto r = Make(server);
  std::vector<Answer> a = r->LookupA({"shop.example.uribl.test", "clean.example.uribl.test"}, Clock::now() + 2s);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].status, Answer::Status::kFound);
  EXPECT_THAT(a[0].addresses, ElementsAre(0x7f000002u, 0x7f000004u));
  EXPECT_EQ(a[0].ttl, 120s);
  EXPECT_EQ(a[1].status, Answer::Status::kNotFound);

  server.SetMode(LoopbackDnsServer::Mode::kServfail);
  a = r->LookupA({"shop.example.uribl.test"}, Clock::now() + 2s);
  EXPECT_EQ(a[0].status, Answer::Status::kError) << a[0].error;
}

TEST(AresResolverTest, DeadServerCostsTheDeadlineAndTimesOut) {
  LoopbackDnsServer server;
  server.SetMode(LoopbackDnsServer::Mode::kDrop);
  auto r = Make(server);
  const auto start = Clock::now();
  std::vector<Answer> a = r->LookupA({"a.uribl.test", "b.uribl.test", "c.uribl.test"}, start + 300ms);
  const auto took = Clock::now() - start;
  EXPECT_GE(took, 290ms);
  EXPECT_LT(took, 1300ms);  // the deadline plus scheduling; c-ares alone would wait 2 s
  for (const Answer& x : a) {
    EXPECT_EQ(x.status, Answer::Status::kTimeout);
    EXPECT_THAT(x.error, HasSubstr("deadline"));
  }
  EXPECT_GE(server.queries(), 3);  // they were really asked
}

TEST(AresResolverTest, SlowServerBeyondTheDeadlineTimesOutWithinIt) {
  LoopbackDnsServer server;
  server.Add("slow.uribl.test", {0x7f000002});
  server.SetDelay(3s);
  auto r = Make(server);
  const auto start = Clock::now();
  std::vector<Answer> a = r->LookupA({"slow.uribl.test"}, start + 200ms);
  EXPECT_LT(Clock::now() - start, 1500ms);
  EXPECT_EQ(a[0].status, Answer::Status::kTimeout);
  // A server slower than nothing but faster than the deadline is waited for.
  server.SetDelay(50ms);
  a = r->LookupA({"slow.uribl.test"}, Clock::now() + 2s);
  EXPECT_EQ(a[0].status, Answer::Status::kFound);
}

TEST(AresResolverTest, ConcurrencyIsBoundedByTheChannelPool) {
  LoopbackDnsServer server;
  server.Add("x.uribl.test", {0x7f000002});
  server.SetDelay(2500ms);
  auto r = Make(server, /*max_concurrent=*/1);
  // The first lookup holds the only channel for 2.5 s; the second waits
  // for it only until its own 150 ms deadline.
  auto first = std::async(std::launch::async, [&] { return r->LookupA({"x.uribl.test"}, Clock::now() + 10s); });
  // Once the server has seen the first query, the first lookup holds the channel.
  for (auto until = Clock::now() + 2s; server.queries() == 0 && Clock::now() < until;) std::this_thread::yield();
  ASSERT_EQ(server.queries(), 1);
  const auto start = Clock::now();
  std::vector<Answer> second = r->LookupA({"x.uribl.test"}, start + 150ms);
  EXPECT_LT(Clock::now() - start, 1500ms);
  EXPECT_EQ(second[0].status, Answer::Status::kTimeout);
  EXPECT_THAT(second[0].error, HasSubstr("busy"));
  EXPECT_EQ(first.get()[0].status, Answer::Status::kFound);
  // Released: the channel serves the next caller.
  server.SetDelay(0ms);
  EXPECT_EQ(r->LookupA({"x.uribl.test"}, Clock::now() + 2s)[0].status, Answer::Status::kFound);
}

TEST(AresResolverTest, BadServerListIsAConfigurationError) {
  absl::StatusOr<std::shared_ptr<AresResolver>> r = AresResolver::Create({.servers = {"not an address"}});
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace hive::policy::dns
