// content.bayes and content.fingerprints: they compile into a scorer whose
// classifier and fingerprint store are live objects, and every mistake is
// reported as file:line:col + field path.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "config/snapshot.h"

namespace hive::policy::config {
namespace {

using ::testing::HasSubstr;

std::string Errors(const std::string& yaml) {
  absl::StatusOr<SnapshotPtr> s = LoadSnapshotFromText(yaml, "p.yaml");
  return s.ok() ? "" : std::string(s.status().message());
}

TEST(LearnedConfigTest, BayesAndFingerprintsCompileAndScore) {
  const std::string fp_path = ::testing::TempDir() + "/fps." + std::to_string(::getpid());
  std::ofstream(fp_path) << "# known bad\n0123456789abcdef campaign-1\n";
  absl::StatusOr<SnapshotPtr> s = LoadSnapshotFromText(R"(content:
  bayes: {enabled: true, min_learns: 1, min_tokens: 1, spam_weight: 8}
  fingerprints: {enabled: true, store: )" + fp_path + R"(, max_distance: 3}
  metas:
    - {name: BAYES_AND_FP, expression: "BAYES_SPAM && FINGERPRINT_BAD", weight: 1}
  reject_score: 7
)",
                                                       "p.yaml");
  ASSERT_TRUE(s.ok()) << s.status();
  const content::Scorer& scorer = (*s)->content;
  ASSERT_NE(scorer.classifier(), nullptr);
  ASSERT_NE(scorer.fingerprints(), nullptr);
  EXPECT_EQ(scorer.fingerprints()->size(), 1u);
  auto msg = [](const std::string& body) {
    return content::Message{{{"Content-Type", "text/plain; charset=utf-8"}}, body};
  };
  EXPECT_TRUE(scorer.Score(msg("cheap loans act now")).hits.empty()) << "untrained: silent";
  for (int i = 0; i < 5; ++i) {
    scorer.classifier()->Learn(msg("cheap loans act now without credit check"), true);
    scorer.classifier()->Learn(msg("meeting notes attached for the release review"), false);
  }
  const content::ContentResult r = scorer.Score(msg("cheap loans now without check"));
  ASSERT_EQ(r.hits.size(), 1u);
  EXPECT_EQ(r.hits[0].rule, "BAYES_SPAM");
  EXPECT_GT(r.hits[0].weight, 7.0);  // 8 * (2p - 1)
  EXPECT_EQ(r.action, content::ContentAction::kReject);
  std::remove(fp_path.c_str());
}

TEST(LearnedConfigTest, MistakesNameTheirField) {
  EXPECT_THAT(Errors("content:\n  bayes: {enabled: true, spam_threshold: 0.4}\n"),
              HasSubstr("p.yaml:2:42: content.bayes.spam_threshold: must be above 0.5"));
  EXPECT_THAT(Errors("content:\n  bayes: {enabled: true, ham_threshold: 0.5}\n"),
              HasSubstr("content.bayes.ham_threshold"));
  EXPECT_THAT(Errors("content:\n  fingerprints: {enabled: true, max_distance: 40}\n"),
              HasSubstr("content.fingerprints.max_distance: must be at most 32"));
  EXPECT_THAT(Errors("content:\n  rules:\n    - {name: BAYES_SPAM, target: body, regex: x, weight: 1}\n"),
              HasSubstr("'BAYES_SPAM' is a built-in symbol"));
  const std::string bad = ::testing::TempDir() + "/bad.db." + std::to_string(::getpid());
  std::ofstream(bad) << "not a model";
  EXPECT_THAT(Errors("content:\n  bayes: {enabled: true, stats_db: " + bad + "}\n"),
              HasSubstr("content.bayes.stats_db: " + bad + ": not a hive token statistics file"));
  std::ofstream(bad, std::ios::trunc) << "zz bad\n";
  EXPECT_THAT(Errors("content:\n  fingerprints: {enabled: true, store: " + bad + "}\n"),
              HasSubstr("content.fingerprints.store: " + bad + ":1: expected"));
  std::remove(bad.c_str());
}

}  // namespace
}  // namespace hive::policy::config
