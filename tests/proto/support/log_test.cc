#include "support/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

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

namespace hive::log {
namespace {

TEST(LogJsonTest, KeyValueLineBecomesOneObject) {
  EXPECT_EQ(ToJson(R"(tx=ab12 queue=- stage=eom action=reject score=12.50 rcpts=2 from="<a b@x>" q="say \"hi\"")",
                   "T", "info", "hive-milter"),
            R"({"ts":"T","level":"info","ident":"hive-milter","tx":"ab12","queue":"-","stage":"eom",)"
            R"("action":"reject","score":12.50,"rcpts":2,"from":"<a b@x>","q":"say \"hi\""})");
}

// An all-digit queue id (Postfix queue ids are hex) or "symbols=0" stays a
// string: a field's JSON type never depends on its value (json_log_test).
TEST(LogJsonTest, NamesAreStringsEvenWhenAllDigits) {
  EXPECT_EQ(ToJson("tx=1234 queue=31415 decision=7 symbols=0 pool=2 rcpts=3", "T", "info", "d"),
            R"({"ts":"T","level":"info","ident":"d","tx":"1234","queue":"31415","decision":"7","symbols":"0",)"
            R"("pool":"2","rcpts":3})");
}

TEST(LogJsonTest, WordsWithoutKeyBecomeMsgAndControlBytesAreEscaped) {
  EXPECT_EQ(ToJson("reload: keeping version 1 path=/etc/x\x01 id=007 n=-3", "T", "error", "d"),
            R"({"ts":"T","level":"error","ident":"d","path":"/etc/x\u0001","id":"007","n":-3,)"
            R"("msg":"reload: keeping version 1"})");
}

}  // namespace
}  // namespace hive::log

namespace hive::log {
namespace {

// JOURNAL_STREAM as systemd sets it: "<st_dev>:<st_ino>" of stderr.
TEST(StderrIsJournalTest, OnlyWhenJournalStreamNamesThisStderr) {
  const char* saved = std::getenv("JOURNAL_STREAM");
  const std::string keep = saved != nullptr ? saved : "";
  struct stat st {};
  ASSERT_EQ(fstat(STDERR_FILENO, &st), 0);
  unsetenv("JOURNAL_STREAM");
  EXPECT_FALSE(StderrIsJournal());
  const std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  setenv("JOURNAL_STREAM", mine.c_str(), 1);
  EXPECT_TRUE(StderrIsJournal());
  // A parent's journal stream, inherited by a process whose stderr is a file.
  const std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
  setenv("JOURNAL_STREAM", other.c_str(), 1);
  EXPECT_FALSE(StderrIsJournal());
  setenv("JOURNAL_STREAM", "garbage", 1);
  EXPECT_FALSE(StderrIsJournal());
  if (saved != nullptr) {
    setenv("JOURNAL_STREAM", keep.c_str(), 1);
  } else {
    unsetenv("JOURNAL_STREAM");
  }
}

}  // namespace
}  // namespace hive::log
