#include "content/classifier.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <vector>

#include "content/atomic_file.h"

namespace hive::policy::content {

double Chi2Q(double x2, std::size_t dof) {
  const double m = x2 / 2.0;
  if (m <= 0) return 1.0;
  // P = e^-m * sum_{i < dof/2} m^i / i!, summed as logs (log-sum-exp).
  const double log_m = std::log(m);
  double max_log = -m;
  double log_term = -m;
  const std::size_t n = dof / 2;
  // First pass finds the largest term, second sums relative to it.
  for (std::size_t i = 1; i < n; ++i) {
    log_term += log_m - std::log(static_cast<double>(i));
    max_log = std::max(max_log, log_term);
  }
  double sum = 0;
  log_term = -m;
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) log_term += log_m - std::log(static_cast<double>(i));
    sum += std::exp(log_term - max_log);
  }
  return std::min(1.0, std::exp(max_log + std::log(sum)));
}

Classifier::Classifier(std::string path, ClassifierOptions options, TokenStore store)
    : path_(std::move(path)), options_(std::move(options)), store_(std::move(store)) {}

absl::StatusOr<std::shared_ptr<Classifier>> Classifier::Open(std::string path, ClassifierOptions options) {
  TokenStore store;
  if (!path.empty()) {
    absl::StatusOr<std::string> data = ReadWholeFile(path);
    if (data.ok()) {
      absl::StatusOr<TokenStore> parsed = TokenStore::Parse(*data);
      if (!parsed.ok()) {
        return absl::InvalidArgumentError(path + ": " + std::string(parsed.status().message()));
      }
      store = *std::move(parsed);
    } else if (!absl::IsNotFound(data.status())) {
      return data.status();
    }
  }
  return std::shared_ptr<Classifier>(new Classifier(std::move(path), std::move(options), std::move(store)));
}

Classification Classifier::Classify(std::span<const std::uint64_t> features) const {
  // Per-thread scratch: the hot path allocates only on a thread's first,
  // largest messages.
  thread_local std::vector<double> probs;
  probs.clear();
  std::shared_lock lock(mu_);
  Classification result;
  const double nspam = static_cast<double>(store_.spam_learns());
  const double nham = static_cast<double>(store_.ham_learns());
  if (store_.spam_learns() < options_.min_learns || store_.ham_learns() < options_.min_learns || nspam == 0 ||
      nham == 0) {
    return result;
  }
  const double s = options_.robinson_s;
  const double x = options_.robinson_x;
  for (std::uint64_t t : features) {
    const TokenCounts c = store_.Find(t);
    const double n = static_cast<double>(c.spam) + c.ham;
    if (n == 0) continue;
    const double spam_share = c.spam / nspam;
    const double ham_share = c.ham / nham;
    const double p = spam_share / (spam_share + ham_share);
    const double f = (s * x + n * p) / (s + n);
    if (std::abs(f - 0.5) >= options_.min_deviation) probs.push_back(f);
  }
  lock.unlock();
  if (probs.size() < options_.min_tokens) return result;
  if (probs.size() > options_.max_interesting) {
    auto further = [](double a, double b) { return std::abs(a - 0.5) > std::abs(b - 0.5); };
    std::nth_element(probs.begin(), probs.begin() + static_cast<std::ptrdiff_t>(options_.max_interesting),
                     probs.end(), further);
    probs.resize(options_.max_interesting);
  }
  double log_p = 0, log_not_p = 0;
  for (double f : probs) {
    log_p += std::log(f);
    log_not_p += std::log1p(-f);
  }
  const std::size_t dof = 2 * probs.size();
  const double spamminess = 1.0 - Chi2Q(-2.0 * log_not_p, dof);
  const double hamminess = 1.0 - Chi2Q(-2.0 * log_p, dof);
  result.ready = true;
  result.probability = (spamminess - hamminess + 1.0) / 2.0;
  result.tokens = probs.size();
  return result;
}

Classification Classifier::Classify(const ParsedMessage& parsed) const {
  thread_local Tokens tokens;
  Tokenize(parsed, tokens);
  return Classify(tokens.features);
}

void Classifier::Learn(const Message& message, bool is_spam) {
  Tokens tokens;
  Tokenize(Parse(message, options_.limits), tokens);
  Learn(tokens.features, is_spam);
}

void Classifier::Learn(std::span<const std::uint64_t> features, bool is_spam) {
  std::unique_lock lock(mu_);
  store_.Learn(features, is_spam);
}

void Classifier::Reset() {
  std::unique_lock lock(mu_);
  store_ = TokenStore();
}

absl::Status Classifier::Save() const {
  if (path_.empty()) return absl::FailedPreconditionError("the classifier has no statistics file (stats_db)");
  return SaveTo(path_);
}

absl::Status Classifier::SaveTo(const std::string& path) const {
  std::string data;
  {
    std::shared_lock lock(mu_);
    data = store_.Serialize();
  }
  return WriteFileAtomically(path, data);
}

ClassifierStats Classifier::stats() const {
  std::shared_lock lock(mu_);
  return {store_.spam_learns(), store_.ham_learns(), store_.size(), store_.memory_bytes()};
}

}  // namespace hive::policy::content
