#include "support/log.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
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

// A UNIX socket bound at `path` (SOCK_DGRAM or SOCK_STREAM, listening),
// closed and unlinked at scope exit.
class BoundSocket {
 public:
  BoundSocket(const std::string& path, int type) : path_(path) {
    fd_ = socket(AF_UNIX, type, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    ok_ = fd_ >= 0 && bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 &&
          (type != SOCK_STREAM || listen(fd_, 1) == 0);
  }
  ~BoundSocket() {
    if (fd_ >= 0) close(fd_);
    unlink(path_.c_str());
  }
  bool ok() const { return ok_; }

 private:
  std::string path_;
  int fd_ = -1;
  bool ok_ = false;
};

// What Write relies on to stop calling syslog() when no daemon listens
// (glibc would reconnect for every line).
TEST(SyslogReachableTest, OnlyWhenSomethingListens) {
  char dir[] = "/tmp/hive-log-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string dgram = std::string(dir) + "/dgram";
  const std::string stream = std::string(dir) + "/stream";
  EXPECT_FALSE(SyslogReachable(dgram.c_str()));  // nothing there
  {
    BoundSocket s(dgram, SOCK_DGRAM);
    ASSERT_TRUE(s.ok());
    EXPECT_TRUE(SyslogReachable(dgram.c_str()));
  }
  EXPECT_FALSE(SyslogReachable(dgram.c_str()));  // the daemon went away
  {
    BoundSocket s(stream, SOCK_STREAM);  // glibc's fallback
    ASSERT_TRUE(s.ok());
    EXPECT_TRUE(SyslogReachable(stream.c_str()));
  }
  // A path longer than sun_path is never reachable (not silently cut).
  EXPECT_FALSE(SyslogReachable((std::string(dir) + "/" + std::string(200, 'x')).c_str()));
  rmdir(dir);
}

// The stderr prefix names the writing process: the pid read once, and a
// forked child's own after the fork.
TEST(LogStderrTest, LinesCarryThePidOfTheProcessThatWroteThem) {
  char path[] = "/tmp/hive-log-pid-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  std::fflush(stderr);
  const int saved = dup(STDERR_FILENO);
  ASSERT_GE(saved, 0);
  ASSERT_EQ(dup2(fd, STDERR_FILENO), STDERR_FILENO);
  Init({.ident = "log-test", .to_syslog = false, .to_stderr = true});
  Info("from the parent");
  Info("again from the parent");
  const pid_t child = fork();
  if (child == 0) {
    Info("from the child");
    _exit(0);
  }
  int status = 0;
  const pid_t waited = waitpid(child, &status, 0);
  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(fd);
  Init({.ident = "log-test", .to_syslog = false, .to_stderr = true});
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  unlink(path);
  ASSERT_EQ(waited, child);
  const std::string parent = "log-test[" + std::to_string(getpid()) + "] info: ";
  const std::string kid = "log-test[" + std::to_string(child) + "] info: ";
  EXPECT_NE(text.str().find(parent + "from the parent"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find(parent + "again from the parent"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find(kid + "from the child"), std::string::npos) << text.str();
}

}  // namespace
}  // namespace hive::log
