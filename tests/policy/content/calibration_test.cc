#include "content/calibration.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "content/parser.h"
#include "learned_fixtures.h"

namespace hive::policy::content {
namespace {

using testing::ReadFixture;

// n hams at probabilities 0.01 .. 0.01 * n, and spam at the given ones.
std::vector<ScoredExample> Scored(int hams, std::vector<double> spam) {
  std::vector<ScoredExample> v;
  for (int i = 1; i <= hams; ++i) v.push_back({0.01 * i, false});
  for (double p : spam) v.push_back({p, true});
  return v;
}

TEST(CalibrationTest, TheThresholdFlagsNoMoreHamsThanTheSmoothedRateAllows) {
  // 99 hams (0.01 .. 0.99): at 2%, (flagged + 1) / 100 <= 0.02 allows one
  // ham, so the threshold is the highest ham's p; at 3%, two.
  EXPECT_DOUBLE_EQ(ThresholdForFpRate(Scored(99, {0.995, 0.5}), 0.02), 0.99);
  EXPECT_DOUBLE_EQ(ThresholdForFpRate(Scored(99, {0.995, 0.5}), 0.03), 0.98);
  // At 0.5% of 99 hams not even one: the threshold is just the spam above
  // every ham (the plain count, 0.5% of 99 = 0.495, would say the same;
  // of 300 hams it would allow one where the smoothed rate does not).
  EXPECT_DOUBLE_EQ(ThresholdForFpRate(Scored(99, {0.995, 0.5}), 0.005), 0.995);
  EXPECT_DOUBLE_EQ(ThresholdForFpRate(Scored(60, {0.995, 0.5}), 0.005), 0.995);
  std::vector<ScoredExample> many = Scored(99, {});
  for (int i = 0; i < 201; ++i) many.push_back({0.001, false});  // 300 hams
  many.push_back({0.999, true});
  EXPECT_DOUBLE_EQ(ThresholdForFpRate(many, 0.005), 0.999);
  // Nothing can be flagged: above 1.
  EXPECT_GT(ThresholdForFpRate(Scored(99, {}), 0.005), 1.0);
  // A message the classifier did not answer for is never flagged.
  EXPECT_GT(ThresholdForFpRate({{-1, true}, {0.2, false}}, 0.5), 1.0);
}

TEST(CalibrationTest, HamsToShowARateAreWhereNoneFlaggedBoundsItAtTheConfidence) {
  EXPECT_EQ(HamsToShowFpRate(0.005, 0.9), 460u);  // ln 0.1 / ln 0.995 = 459.4
  EXPECT_EQ(HamsToShowFpRate(0.01, 0.9), 230u);
  EXPECT_EQ(HamsToShowFpRate(0.05, 0.95), 59u);
  EXPECT_EQ(HamsToShowFpRate(0, 0.9), 0u);
}

TEST(CalibrationTest, TiesAreFlaggedTogether) {
  // 99 hams, two of them tied at 0.9 with a spam: a threshold of 0.9
  // would flag both.
  std::vector<ScoredExample> v = {{0.95, true}, {0.9, false}, {0.9, true}, {0.9, false}};
  for (int i = 1; i <= 97; ++i) v.push_back({0.001 * i, false});
  EXPECT_DOUBLE_EQ(ThresholdForFpRate(v, 0.02), 0.95);
  EXPECT_DOUBLE_EQ(ThresholdForFpRate(v, 0.03), 0.9);
}

TEST(CalibrationTest, CrossValidationOnTheFixturesSeparatesThem) {
  ClassifierOptions options{.min_learns = 4, .min_tokens = 2};
  const std::shared_ptr<Classifier> tokens = Classifier::Open("", options).value();
  std::vector<LabelledFeatures> examples;
  std::vector<int> fold_of;
  for (int i = 1; i <= 8; ++i) {
    for (const bool spam : {true, false}) {
      Tokens t;
      tokens->Features(Parse(ReadFixture(std::string(spam ? "spam-" : "ham-") + std::to_string(i) + ".eml")), t);
      examples.push_back({t.features, spam});
      fold_of.push_back(i % 2);
    }
  }
  const double threshold = CalibrateThreshold(examples, fold_of, 2, 3, options, 0.05);
  // Each half's model flags some held-out spam and no held-out ham.
  EXPECT_GT(threshold, 0.0);
  EXPECT_LE(threshold, 1.0);
  // Not one fold: only models that never saw a message score it.
  EXPECT_GT(CalibrateThreshold(examples, std::vector<int>(examples.size(), 0), 1, 3, options, 0.05), 1.0)
      << "one fold trains on nothing: no answer, nothing flagged";
}

}  // namespace
}  // namespace hive::policy::content
