// The admin API's learning path on the real content engine: labelled .eml
// files learned and saved (a reopened model has them), fingerprints of a
// message added, matched after a reopen, removed; refusals name the field.
#include "admin/learning.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "support/atomic_file.h"

namespace hive::policy::admin {
namespace {

std::string Fixture(const std::string& name) {
  absl::StatusOr<std::string> text = hive::support::ReadWholeFile(std::string(HIVE_TEST_DATA_DIR) + "/bayes/" + name);
  EXPECT_TRUE(text.ok()) << name;
  return text.value_or("");
}

class LearningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hive-learn-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(LearningTest, LearnedMessagesAreCountedAndSavedToTheModelFile) {
  const std::string path = dir_ + "/bayes.db";
  auto classifier = content::Classifier::Open(path);
  ASSERT_TRUE(classifier.ok()) << classifier.status();
  auto spam = LearnMessage(**classifier, Fixture("spam-1.eml"), true);
  ASSERT_TRUE(spam.ok()) << spam.status();
  auto ham = LearnMessage(**classifier, Fixture("ham-2.eml"), false);
  ASSERT_TRUE(ham.ok()) << ham.status();
  EXPECT_EQ(ham->spam_learns, 1u);
  EXPECT_EQ(ham->ham_learns, 1u);
  EXPECT_GT(ham->tokens, spam->tokens);
  EXPECT_TRUE(ham->saved);
  auto reopened = content::Classifier::Open(path);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->stats().spam_learns, 1u);
  EXPECT_EQ((*reopened)->stats().ham_learns, 1u);
  EXPECT_EQ((*reopened)->stats().tokens, ham->tokens);
}

TEST_F(LearningTest, InMemoryModelLearnsWithoutSavingAndEmptyInputIsRefused) {
  auto classifier = content::Classifier::Open("");
  ASSERT_TRUE(classifier.ok());
  auto out = LearnMessage(**classifier, Fixture("spam-3.eml"), true);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_FALSE(out->saved);
  EXPECT_EQ(out->spam_learns, 1u);
  EXPECT_EQ(LearnMessage(**classifier, "", true).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LearningTest, FingerprintOfAMessageIsStoredMatchedAfterReopenAndRemoved) {
  const std::string path = dir_ + "/bad.txt";
  auto store = content::FingerprintStore::Open(path);
  ASSERT_TRUE(store.ok());
  auto fp = FingerprintOfMessage(Fixture("spam-2.eml"), 20, {});
  ASSERT_TRUE(fp.ok()) << fp.status();
  EXPECT_EQ(AddFingerprint(**store, *fp, "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AddFingerprint(**store, *fp, "two words").status().code(), absl::StatusCode::kInvalidArgument);
  auto added = AddFingerprint(**store, *fp, "campaign-7");
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_TRUE(added->changed);
  EXPECT_TRUE(added->saved);
  EXPECT_EQ(added->stored, 1u);

  auto reopened = content::FingerprintStore::Open(path);
  ASSERT_TRUE(reopened.ok());
  std::optional<content::FingerprintMatch> m = (*reopened)->Match(*fp, 0);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->label, "campaign-7");

  auto removed = RemoveFingerprint(**reopened, *fp);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_TRUE(removed->changed);
  EXPECT_EQ(removed->stored, 0u);
  auto again = RemoveFingerprint(**reopened, *fp);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->changed);
  EXPECT_FALSE((*content::FingerprintStore::Open(path))->Match(*fp, 0).has_value());
}

TEST_F(LearningTest, ShortTextIsNotFingerprintedAndHexRoundTrips) {
  auto fp = FingerprintOfMessage("Subject: hi\r\n\r\nhello there\r\n", 20, {});
  EXPECT_EQ(fp.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(fp.status().message()).find("min_tokens"), std::string::npos) << fp.status();
  auto parsed = ParseFingerprint("00ff00ff00ff00fF");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(FormatFingerprint(*parsed), "00ff00ff00ff00ff");
  EXPECT_FALSE(ParseFingerprint("xyz").ok());
  EXPECT_FALSE(ParseFingerprint("00ff00ff00ff00ff0").ok());
}

}  // namespace
}  // namespace hive::policy::admin
