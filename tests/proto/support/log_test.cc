#include "support/log.h"

#include <gtest/gtest.h>

namespace hive::log {
namespace {

TEST(SanitizeTest, EscapesControlQuotesAndBadUtf8KeepsGoodUtf8) {
  EXPECT_EQ(Sanitize("a\r\nb"), "a\\x0d\\x0ab");
  EXPECT_EQ(Sanitize("say \"hi\" \\"), "say \\\"hi\\\" \\\\");
  EXPECT_EQ(Sanitize("\xe4\xbd\xa0\xe5\xa5\xbd"), "\xe4\xbd\xa0\xe5\xa5\xbd");  // 你好
  EXPECT_EQ(Sanitize("\xc4\xe3"), "\\xc4\\xe3");                                  // GBK, not UTF-8
}

TEST(SanitizeTest, CutsLongText) {
  EXPECT_EQ(Sanitize(std::string(300, 'x'), 10), std::string(10, 'x') + "...");
}

}  // namespace
}  // namespace hive::log
