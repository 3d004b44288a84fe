// Chooses the statistical classifier's spam threshold (content.bayes.
// spam_threshold) from labelled training mail alone, for a target
// false-positive rate: cross-validation gives every training message a
// probability from a model that never saw it, and the threshold is the
// lowest at which few enough of those hams would be flagged.
//
// "Few enough" is estimated with one ham added to the flagged ones and to
// all hams, (flagged + 1) / (hams + 1) <= max_fp_rate: with 300 hams and a
// target of 0.5%, no ham may be flagged (one would be 0.66%), where the
// plain count would allow one, and a threshold picked that close to the
// training hams flagged about 0.75% of unseen hams (docs/scoring.md). With
// thousands of hams the two agree.
//
// Used by hive-content-learn --calibrate and by the corpus evaluation
// (tests/bench/content_eval.cc), so both pick thresholds the same way.
//
// Thread-safety: pure functions (CalibrateThreshold trains models of its own).
#pragma once

#include <span>
#include <vector>

#include "content/classifier.h"

namespace hive::policy::content {

struct ScoredExample {
  double probability = -1;  // the classifier's p; < 0: it did not answer (never flagged)
  bool is_spam = false;
};

// How many hams a calibration needs before it can show `max_fp_rate` at
// all: with none of n flagged, the one-sided upper confidence bound on the
// rate is 1 - (1 - confidence)^(1/n) (Clopper-Pearson), and it must not
// exceed max_fp_rate. 460 for 0.5% at 90%: below that, a threshold chosen
// on these hams says little about unseen ones (docs/scoring.md).
std::size_t HamsToShowFpRate(double max_fp_rate, double confidence);

// The lowest threshold t such that flagging p >= t flags at most the
// allowed share of the hams, as above. Above 1 when nothing can be
// flagged.
double ThresholdForFpRate(std::vector<ScoredExample> scored, double max_fp_rate);

// K-fold cross-validation of a classifier with `options` over `examples`
// (examples[i] held out in fold fold_of[i], 0 <= fold_of[i] < folds;
// `passes` as Classifier::Train), then ThresholdForFpRate over the
// held-out probabilities.
double CalibrateThreshold(std::span<const LabelledFeatures> examples, std::span<const int> fold_of, int folds,
                          int passes, const ClassifierOptions& options, double max_fp_rate);

}  // namespace hive::policy::content
