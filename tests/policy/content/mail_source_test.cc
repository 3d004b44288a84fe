// Reading labelled mail as operators keep it (content/mail_source.h): mbox
// splitting and unquoting, Maildir folders, and files that are not mail
// skipped rather than learned. hive-content-learn itself on a directory
// with a README in it: tests/policy/CMakeLists.txt
// (content_learn_skips_what_is_not_mail).
#include "content/mail_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace hive::policy::content {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(SplitMboxTest, MessagesStartAtAFromLineAfterAnEmptyLineAndQuotedFromLinesAreUndone) {
  const std::string mbox =
      "From alice@example.com Thu Aug 22 13:17:22 2002\n"
      "Subject: one\n\nbody one\nFrom here on a line that is not a separator\n>From quoted\n>>From twice\n\n"
      "From bob@example.com Thu Aug 22 13:18:00 2002\n"
      "Subject: two\n\nbody two\n\n"
      "From carol@example.com Thu Aug 22 13:19:00 2002\r\n"
      "Subject: three\r\n\r\nbody three\r\n";
  EXPECT_THAT(SplitMbox(mbox),
              ElementsAre("Subject: one\n\nbody one\nFrom here on a line that is not a separator\nFrom quoted\n"
                          ">From twice\n",
                          "Subject: two\n\nbody two\n", "Subject: three\r\n\r\nbody three\r\n"));
}

TEST(SplitMboxTest, AFileOfOneMessageIsThatMessageWithOrWithoutItsFromLine) {
  EXPECT_THAT(SplitMbox("From a@b Thu Aug 22 13:17:22 2002\nSubject: x\n\nbody\n"), ElementsAre("Subject: x\n\nbody\n"));
  // Without a "From " line nothing is unquoted: the body is as sent.
  EXPECT_THAT(SplitMbox("Subject: x\n\n>From the body\n"), ElementsAre("Subject: x\n\n>From the body\n"));
}

TEST(NotAMessageTest, AMessageStartsWithAHeaderFieldAfterAnOptionalFromLine) {
  EXPECT_EQ(NotAMessage("Return-Path: <a@b>\nSubject: x\n\nbody"), "");
  EXPECT_EQ(NotAMessage("From a@b Thu Aug 22 13:17:22 2002\nX-Mailer_Id: 1\n"), "");
  EXPECT_EQ(NotAMessage("Subject : obsolete syntax\n\nbody"), "");
  EXPECT_EQ(NotAMessage(""), "empty");
  EXPECT_EQ(NotAMessage("{\"id\":\"00001\",\"text\":\"From a@b\"}"), "does not start with a header field");
  EXPECT_EQ(NotAMessage("3 V1700000000 N1 G0123\n"), "does not start with a header field");  // dovecot-uidlist
  EXPECT_EQ(NotAMessage("Fixtures for the classifier tests.\n"), "does not start with a header field");
}

class MailSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hive-mail-source-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& relative, const std::string& text) {
    const std::filesystem::path path = std::filesystem::path(dir_) / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
  }
  // name -> first line of each message, in the order given.
  absl::StatusOr<MailSourceReport> Read(const std::string& path, std::vector<std::pair<std::string, std::string>>& seen) {
    return ForEachMessage(path, [&](std::string_view name, std::string_view raw) {
      seen.emplace_back(std::string(name).substr(dir_.size() + 1), std::string(raw.substr(0, raw.find('\n'))));
      return absl::OkStatus();
    });
  }
  std::string dir_;
};

TEST_F(MailSourceTest, AMaildirFolderIsItsCurAndNewMessagesNotItsOwnFiles) {
  Write("Junk/cur/1700000001.M1P1.host:2,S", "Subject: read one\n\nbody\n");
  Write("Junk/cur/1700000002.M2P2.host:2,S", "Subject: read two\n\nbody\n");
  Write("Junk/new/1700000003.M3P3.host", "Subject: unread\n\nbody\n");
  Write("Junk/tmp/1700000004.M4P4.host", "Subject: still being delivered\n\nbody\n");
  Write("Junk/dovecot-uidlist", "3 V1700000000 N4 G0123\n");
  Write("Junk/maildirfolder", "");
  std::vector<std::pair<std::string, std::string>> seen;
  absl::StatusOr<MailSourceReport> report = Read(dir_ + "/Junk", seen);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(seen, ElementsAre(Pair("Junk/cur/1700000001.M1P1.host:2,S", "Subject: read one"),
                                Pair("Junk/cur/1700000002.M2P2.host:2,S", "Subject: read two"),
                                Pair("Junk/new/1700000003.M3P3.host", "Subject: unread")));
  EXPECT_EQ(report->messages, 3u);
  EXPECT_TRUE(report->skipped.empty());
}

TEST_F(MailSourceTest, ADirectorySkipsAndNamesWhatIsNotMailAndSplitsAnMboxInIt) {
  Write("spam/00001.eml", "From a@b Thu Aug 22 13:17:22 2002\nSubject: eml\n\nbody\n");
  Write("spam/00001.json", "{\"id\":\"00001\"}");
  Write("spam/README", "These are spam.\n");
  Write("spam/archive.mbox", "From a@b Mon Jan  1 00:00:00 2024\nSubject: m1\n\nx\n\nFrom c@d Mon Jan  1 00:00:01 2024\n"
                             "Subject: m2\n\ny\n");
  Write("spam/sub/nested.eml", "Subject: not read: directories are not walked\n\nbody\n");
  std::vector<std::pair<std::string, std::string>> seen;
  absl::StatusOr<MailSourceReport> report = Read(dir_ + "/spam", seen);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(seen, ElementsAre(Pair("spam/00001.eml", "Subject: eml"), Pair("spam/archive.mbox:1", "Subject: m1"),
                                Pair("spam/archive.mbox:2", "Subject: m2")));
  ASSERT_EQ(report->skipped.size(), 2u);
  EXPECT_EQ(report->skipped[0].name, dir_ + "/spam/00001.json");
  EXPECT_EQ(report->skipped[1].name, dir_ + "/spam/README");
  EXPECT_EQ(report->skipped[1].why, "does not start with a header field");
}

TEST_F(MailSourceTest, AMissingPathIsAnErrorAndAVisitorErrorStopsTheWalk) {
  std::vector<std::pair<std::string, std::string>> seen;
  EXPECT_THAT(Read(dir_ + "/missing", seen).status().message(), HasSubstr(dir_ + "/missing"));
  Write("two/a.eml", "Subject: a\n\n");
  Write("two/b.eml", "Subject: b\n\n");
  int visited = 0;
  absl::StatusOr<MailSourceReport> stopped = ForEachMessage(dir_ + "/two", [&](std::string_view, std::string_view) {
    ++visited;
    return absl::InternalError("full");
  });
  EXPECT_EQ(stopped.status().message(), "full");
  EXPECT_EQ(visited, 1);
}

}  // namespace
}  // namespace hive::policy::content
