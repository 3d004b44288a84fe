#include "routing/sendmail_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hive::policy::routing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(SendmailConfigTest, OneRuleSetsEachMembersAddressAndStripsItsTag) {
  Pool tx{"tx", {PoolMember{"tx.a", "127.0.0.2", false, "tx-a.mail.example", 1, {}}}, {}, ""};
  Pool mkt{"mkt", {PoolMember{"dnl", "2001:db8::25", true, "mkt-a.mail.example", 2, {}}}, {}, ""};
  Pool legacy{"legacy", {}, {}, ""};
  const Router router({tx, mkt, legacy}, {}, "mkt");
  const std::string mc = GenerateSendmailConfig(router, {.tag = "pool"});

  // The member's tag in the envelope sender binds its address (b) and says
  // HELO with that address's name (h); the tag is stripped.
  EXPECT_THAT(mc, HasSubstr("`Re s $| $+ + pool . tx . a < @ $+ >\t$@ $(hivepool {if_addr} $@ 127.0.0.2 $) "
                            "$(hivepool {daemon_flags} $@ bh $) $1 < @ $2 >'\n"));
  // m4-quoted: a member named like an m4 builtin stays a name.
  EXPECT_THAT(mc, HasSubstr("`Re s $| $+ + pool . dnl < @ $+ >\t$@ $(hivepool {if_addr} $@ 2001:db8::25 $)"));
  // Untagged: Sendmail's default address again.
  EXPECT_THAT(mc, HasSubstr("`Re s $| $*\t$@ $(hivepool {if_addr} $) $(hivepool {daemon_flags} $) $1'\n"));
  // Bounces to a tagged return path go to the untagged one.
  EXPECT_THAT(mc, HasSubstr("SHivePoolRecipient'\n`R$+ + pool . tx . a < @ $+ >\t$@ $1 < @ $2 >'\n"));
  EXPECT_THAT(mc, HasSubstr("LOCAL_RULE_1\n`R$*\t$: $>HivePoolSender $1'\n"));
  EXPECT_THAT(mc, HasSubstr("LOCAL_RULE_2\n`R$*\t$: $>HivePoolRecipient $1'\n"));
  EXPECT_THAT(mc, HasSubstr("define(`confMCI_CACHE_SIZE', `0')dnl\n"));
  EXPECT_THAT(mc, HasSubstr("`Khivepool macro'\n"));
  EXPECT_THAT(mc, Not(HasSubstr("legacy")));
}

}  // namespace
}  // namespace hive::policy::routing
