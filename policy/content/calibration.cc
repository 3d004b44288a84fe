#include "content/calibration.h"

#include <algorithm>
#include <cmath>

namespace hive::policy::content {

std::size_t HamsToShowFpRate(double max_fp_rate, double confidence) {
  if (max_fp_rate <= 0 || max_fp_rate >= 1 || confidence <= 0 || confidence >= 1) return 0;
  return static_cast<std::size_t>(std::ceil(std::log(1 - confidence) / std::log(1 - max_fp_rate)));
}

double ThresholdForFpRate(std::vector<ScoredExample> scored, double max_fp_rate) {
  std::sort(scored.begin(), scored.end(),
            [](const ScoredExample& a, const ScoredExample& b) { return a.probability > b.probability; });
  std::size_t hams = 0;
  for (const ScoredExample& s : scored) hams += s.is_spam ? 0 : 1;
  // The most hams flagged with (flagged + 1) / (hams + 1) <= max_fp_rate.
  const double bound = std::floor(max_fp_rate * static_cast<double>(hams + 1)) - 1;
  const std::size_t allowed = bound > 0 ? static_cast<std::size_t>(bound) : 0;
  double threshold = 1.5;
  std::size_t flagged_hams = 0;
  for (std::size_t i = 0; i < scored.size() && scored[i].probability >= 0; ++i) {
    flagged_hams += scored[i].is_spam ? 0 : 1;
    if (flagged_hams > allowed) break;
    // Only where the next probability differs: ties are flagged together.
    if (i + 1 == scored.size() || scored[i + 1].probability != scored[i].probability) {
      threshold = scored[i].probability;
    }
  }
  return threshold;
}

double CalibrateThreshold(std::span<const LabelledFeatures> examples, std::span<const int> fold_of, int folds,
                          int passes, const ClassifierOptions& options, double max_fp_rate) {
  std::vector<ScoredExample> scored;
  scored.reserve(examples.size());
  for (int fold = 0; fold < folds; ++fold) {
    std::vector<LabelledFeatures> fit;
    for (std::size_t i = 0; i < examples.size(); ++i) {
      if (fold_of[i] != fold) fit.push_back(examples[i]);
    }
    const std::shared_ptr<Classifier> model = Classifier::Open("", options).value();  // in memory: cannot fail
    model->Train(fit, passes);
    for (std::size_t i = 0; i < examples.size(); ++i) {
      if (fold_of[i] != fold) continue;
      const Classification c = model->Classify(examples[i].features);
      scored.push_back({c.ready ? c.probability : -1, examples[i].is_spam});
    }
  }
  return ThresholdForFpRate(std::move(scored), max_fp_rate);
}

}  // namespace hive::policy::content
