#include "routing/postfix_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hive::policy::routing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(PostfixConfigTest, OneTransportPerMemberMarksMappedShapingSet) {
  Pool tx{"tx", {PoolMember{"tx.a", "127.0.0.2", false, "tx-a.mail.example", 1, {}}}, {}, ""};
  Pool mkt{"mkt",
           {PoolMember{"mkt-a", "2001:db8::25", true, "mkt-a.mail.example", 2, {}},
            PoolMember{"mkt-b", "127.0.0.3", false, "mkt-b.mail.example", 1, WarmupSchedule{}}},
           {.destination_concurrency = 4, .destination_rate_delay = std::chrono::seconds(2)},
           ""};
  Pool legacy{"legacy", {}, {.destination_concurrency = 2}, ""};
  const Router router({tx, mkt, legacy}, {}, "mkt");
  const PostfixConfig pf = GeneratePostfixConfig(router, {.pool_header = "X-Hive-Pool", .config_directory = "/etc/pf"});

  EXPECT_THAT(pf.hive_pools, HasSubstr("/^X-Hive-Pool:\\s*tx\\/tx\\.a\\s*$/ FILTER hive-tx.a:\n"));
  EXPECT_THAT(pf.hive_pools, HasSubstr("/^X-Hive-Pool:\\s*mkt\\/mkt-b\\s*$/ FILTER hive-mkt-b:\n"));
  EXPECT_THAT(pf.hive_pools, HasSubstr("/^X-Hive-Pool:\\s*legacy\\s*$/ FILTER smtp-legacy:\n"));

  EXPECT_THAT(pf.master_cf, HasSubstr("hive-tx.a unix - - n - - smtp\n  -o syslog_name=postfix/hive-tx.a\n"
                                      "  -o smtp_bind_address=127.0.0.2\n  -o inet_protocols=ipv4\n  -o inet_interfaces=all\n"
                                      "  -o smtp_helo_name=tx-a.mail.example\n  -o smtp_bind_address_enforce=yes\n"
                                      "  -o smtp_header_checks=regexp:/etc/pf/hive_strip\n"));
  EXPECT_THAT(pf.master_cf, HasSubstr("  -o smtp_bind_address6=2001:db8::25\n  -o inet_protocols=ipv6\n  -o inet_interfaces=all\n"));
  EXPECT_THAT(pf.master_cf, HasSubstr("smtp-legacy unix - - n - - smtp\n"));

  EXPECT_THAT(pf.main_cf, HasSubstr("milter_header_checks = regexp:/etc/pf/hive_pools\n"));
  EXPECT_THAT(pf.main_cf, HasSubstr("hive-mkt-a_destination_concurrency_limit = 4\n"));
  EXPECT_THAT(pf.main_cf, HasSubstr("hive-mkt-b_destination_rate_delay = 2s\n"));
  EXPECT_THAT(pf.main_cf, HasSubstr("smtp-legacy_destination_concurrency_limit = 2\n"));
  EXPECT_THAT(pf.main_cf, Not(HasSubstr("hive-tx.a_destination")));

  EXPECT_THAT(pf.hive_strip, HasSubstr("/^X-Hive-Pool:/ IGNORE\n"));
  EXPECT_THAT(pf.hive_strip, HasSubstr("/^X-Hive-Policy:/ IGNORE\n"));
  EXPECT_THAT(pf.main_cf, Not(HasSubstr("default_filter_nexthop")));
}

TEST(PostfixConfigTest, DefaultNexthopIsWrittenWhenGiven) {
  const Router router({Pool{"p", {PoolMember{"m", "127.0.0.2", false, "m.example", 1, {}}}, {}, ""}}, {}, "p");
  const PostfixConfig pf = GeneratePostfixConfig(router, {.default_nexthop = "[smtp.example.net]:587"});
  EXPECT_THAT(pf.main_cf, HasSubstr("\ndefault_filter_nexthop = [smtp.example.net]:587\n"));
}

}  // namespace
}  // namespace hive::policy::routing
