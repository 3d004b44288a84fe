// What hive-policyd's start refuses in its listeners before anything
// listens (server/listeners.h), and the counter store it picks
// (server/counter_store.h). The same refusals through the real daemon:
// tests/integration/daemons_test.cc (ConfigErrorTest), security_test.cc.
#include "server/listeners.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ratelimit/clock.h"
#include "server/counter_store.h"

namespace hive::policy::server {
namespace {

using ::testing::HasSubstr;

config::ServerSettings Plaintext(std::string listen, std::string admin_listen) {
  config::ServerSettings server;
  server.listen = std::move(listen);
  server.admin.set_listen(std::move(admin_listen));
  return server;
}

TEST(ListenersTest, PlaintextOnLoopbackWithAnAdminListenerOfItsOwn) {
  absl::StatusOr<Listeners> l = PrepareListeners({}, Plaintext("127.0.0.1:7450", "unix:/run/hive/admin.sock"));
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->listen, "127.0.0.1:7450");
  EXPECT_EQ(l->admin_listen, "unix:/run/hive/admin.sock");
  EXPECT_NE(l->policy_credentials, nullptr);
  EXPECT_NE(l->admin_credentials, nullptr);
  ASSERT_TRUE(l->access.has_value());
  EXPECT_TRUE(l->access->plaintext);
  EXPECT_TRUE(StartRefusal({}, Plaintext("127.0.0.1:7450", "unix:/run/hive/admin.sock")).ok());
}

TEST(ListenersTest, NoAdminListenerMeansNoAdminApi) {
  absl::StatusOr<Listeners> l = PrepareListeners({}, Plaintext("127.0.0.1:7450", ""));
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_TRUE(l->admin_listen.empty());
  EXPECT_EQ(l->admin_credentials, nullptr);
  EXPECT_FALSE(l->access.has_value());
}

TEST(ListenersTest, CommandLineAddressesOverrideTheConfigsAndAreNamedInErrors) {
  const config::ServerSettings server = Plaintext("127.0.0.1:7450", "127.0.0.1:7454");
  absl::StatusOr<Listeners> l = PrepareListeners({"127.0.0.1:9000", "127.0.0.1:9001"}, server);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->listen, "127.0.0.1:9000");
  EXPECT_EQ(l->admin_listen, "127.0.0.1:9001");
  absl::StatusOr<Listeners> same = PrepareListeners({"", "127.0.0.1:7450"}, server);
  ASSERT_FALSE(same.ok());
  EXPECT_THAT(same.status().message(),
              HasSubstr("--admin-listen (127.0.0.1:7450) and server.listen (127.0.0.1:7450) are the same listener"));
}

TEST(ListenersTest, PlaintextOffLoopbackIsRefusedByStartAndByTheStartCheckAlike) {
  for (const auto& [server, field] : {std::pair{Plaintext("192.0.2.1:7450", ""), "server.listen"},
                                      std::pair{Plaintext("127.0.0.1:7450", "192.0.2.1:7454"), "admin"}}) {
    const absl::Status refused = StartRefusal({}, server);
    ASSERT_FALSE(refused.ok()) << field;
    EXPECT_THAT(refused.message(), HasSubstr("plaintext gRPC on 192.0.2.1"));
    EXPECT_FALSE(PrepareListeners({}, server).ok()) << field;
  }
  // The override is what is checked, not the config's loopback address.
  EXPECT_FALSE(StartRefusal({"192.0.2.1:7450", ""}, Plaintext("127.0.0.1:7450", "")).ok());
}

TEST(ListenersTest, AMalformedTokenIsRefusedBeforeAnythingListensNamingTheField) {
  config::ServerSettings server = Plaintext("127.0.0.1:7450", "127.0.0.1:7454");
  server.admin.add_tokens()->set_sha256("not hex");  // and no name
  EXPECT_THAT(StartRefusal({}, server).message(), HasSubstr("server.admin.tokens[0]"));
  EXPECT_THAT(PrepareListeners({}, server).status().message(), HasSubstr("server.admin.tokens[0]"));
}

TEST(ListenersTest, ShownAddressNamesThePortTheKernelPicked) {
  EXPECT_EQ(ShownAddress("127.0.0.1:0", 41234), "127.0.0.1:41234");
  EXPECT_EQ(ShownAddress("[::1]:0", 5), "[::1]:5");
  EXPECT_EQ(ShownAddress("127.0.0.1:7450", 7450), "127.0.0.1:7450");
  EXPECT_EQ(ShownAddress("unix:/run/hive/policy.sock", 0), "unix:/run/hive/policy.sock");
}

TEST(CounterStoreTest, MemoryByDefaultRedisWhenConfiguredAndABadAddressIsAnError) {
  ratelimit::SteadyClock clock;
  absl::StatusOr<std::unique_ptr<CounterStore>> memory = CounterStore::Open({}, clock);
  ASSERT_TRUE(memory.ok()) << memory.status();
  EXPECT_EQ((*memory)->name(), "memory");
  // Redis is not reached at start: the store is built, its outage handling
  // answers for it until Redis does.
  absl::StatusOr<std::unique_ptr<CounterStore>> redis =
      CounterStore::Open({.redis = true, .redis_address = "127.0.0.1:1"}, clock);
  ASSERT_TRUE(redis.ok()) << redis.status();
  EXPECT_EQ((*redis)->name(), "redis 127.0.0.1:1");
  EXPECT_NE(&(*redis)->store(), &(*memory)->store());
  absl::StatusOr<std::unique_ptr<CounterStore>> bad =
      CounterStore::Open({.redis = true, .redis_address = "127.0.0.1:notaport"}, clock);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("ratelimit.store.redis.address"));
}

}  // namespace
}  // namespace hive::policy::server
