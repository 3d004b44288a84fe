#include "milter/sender_tag.h"

#include <gtest/gtest.h>

namespace hive::milter {
namespace {

struct Case {
  const char* sender;
  const char* member;
  const char* want;
};

TEST(SenderTagTest, TagsTheLocalPartAndRemovesTagsAClientWrote) {
  const Case cases[] = {
      {"news@letters.test", "bulk-cold", "news+hive.bulk-cold@letters.test"},
      {"news@letters.test", "", "news@letters.test"},
      {"news+list@letters.test", "tx.1", "news+list+hive.tx.1@letters.test"},
      // A client choosing a member itself: removed, whatever member it named.
      {"news+hive.vip-1@letters.test", "bulk-cold", "news+hive.bulk-cold@letters.test"},
      {"news+HIVE.vip-1@letters.test", "", "news@letters.test"},
      {"news+list+hive.vip-1@letters.test", "", "news+list@letters.test"},
      // The last '@' ends the local part.
      {"\"a@b\"@letters.test", "m", "\"a@b\"+hive.m@letters.test"},
      // Inside quotes Sendmail sees one token: inert, kept.
      {"\"x+hive.vip\"@letters.test", "", "\"x+hive.vip\"@letters.test"},
      {"\"x\"+hive.vip@letters.test", "m", "\"x\"+hive.m@letters.test"},
      // Nothing before the '+': no rule matches it, kept.
      {"+hive.vip@letters.test", "", "+hive.vip@letters.test"},
      // Untaggable: the null sender, no domain.
      {"", "m", ""},
      {"news", "m", "news"},
      {"@letters.test", "m", "@letters.test"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(TagSender(c.sender, "hive", c.member), c.want) << c.sender << " member " << c.member;
  }
}

TEST(SenderTagTest, AnotherTagLeavesOursAlone) {
  EXPECT_EQ(TagSender("news+hive.vip@letters.test", "pool", "m"), "news+hive.vip+pool.m@letters.test");
  EXPECT_EQ(TagSender("news@letters.test", "", "m"), "news@letters.test");
}

}  // namespace
}  // namespace hive::milter
