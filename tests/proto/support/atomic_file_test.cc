// support/atomic_file.h: a replaced file is whole, a failed write leaves
// the old file and no temporary behind, errors name the path, and a
// missing file is NotFound (what the classifier and the fingerprint list
// read as "not trained yet").
#include "support/atomic_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>

namespace hive::support {
namespace {

using ::testing::HasSubstr;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hive-atomic-file-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(AtomicFileTest, AWriteReplacesTheFileWholeAndLeavesNoTemporary) {
  const std::string path = dir_ + "/policy.yaml";
  ASSERT_TRUE(WriteFileAtomically(path, "version: 1\n").ok());
  ASSERT_TRUE(WriteFileAtomically(path, std::string(1 << 20, 'x')).ok());
  absl::StatusOr<std::string> text = ReadWholeFile(path);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(text->size(), 1u << 20);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), std::filesystem::directory_iterator()), 1);
}

TEST_F(AtomicFileTest, AMissingFileIsNotFoundAndOtherErrorsAreNot) {
  absl::StatusOr<std::string> missing = ReadWholeFile(dir_ + "/bayes.db");
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
  EXPECT_THAT(missing.status().message(), HasSubstr(dir_ + "/bayes.db"));
  // A write into a directory that does not exist fails, naming the path,
  // and the file it would have replaced is untouched.
  const std::string path = dir_ + "/kept";
  ASSERT_TRUE(WriteFileAtomically(path, "old").ok());
  const absl::Status failed = WriteFileAtomically(dir_ + "/no/such/dir/file", "new");
  EXPECT_FALSE(failed.ok());
  EXPECT_THAT(failed.message(), HasSubstr(dir_ + "/no/such/dir/file"));
  EXPECT_EQ(ReadWholeFile(path).value_or(""), "old");
  // A file where a directory is wanted.
  const absl::Status not_a_dir = EnsureDirectory(path + "/history");
  EXPECT_FALSE(not_a_dir.ok());
  EXPECT_FALSE(absl::IsNotFound(not_a_dir));
}

TEST_F(AtomicFileTest, AppendLineAddsOneLineAtATimeAndEnsureDirectoryIsIdempotent) {
  ASSERT_TRUE(EnsureDirectory(dir_ + "/history").ok());
  ASSERT_TRUE(EnsureDirectory(dir_ + "/history").ok());
  const std::string log = dir_ + "/history/history.log";
  ASSERT_TRUE(AppendLine(log, "{\"seq\":1}").ok());
  ASSERT_TRUE(AppendLine(log, "{\"seq\":2}").ok());
  EXPECT_EQ(ReadWholeFile(log).value_or(""), "{\"seq\":1}\n{\"seq\":2}\n");
}

}  // namespace
}  // namespace hive::support
