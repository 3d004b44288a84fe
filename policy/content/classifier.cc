#include "content/classifier.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "support/atomic_file.h"

namespace hive::policy::content {

namespace {

constexpr std::uint32_t kFeatureStructure = 1;  // FeatureSet::flags: shape tokens

FeatureSet FeaturesOf(const ClassifierOptions& options) {
  return {kTokenizerVersion, options.structure_tokens ? kFeatureStructure : 0};
}

// Why a model learned from `model`'s features cannot be used with `ours`.
std::string FeatureMismatch(const FeatureSet& model, const FeatureSet& ours) {
  if (model.tokenizer_version != ours.tokenizer_version) {
    return absl::StrCat("the model was learned with tokenizer version ", model.tokenizer_version,
                        " and this build makes version ", ours.tokenizer_version,
                        " tokens: it would score wrong without saying so. ", kRelearnModel);
  }
  const bool structure = (model.flags & kFeatureStructure) != 0;
  return absl::StrCat("the model was learned with", structure ? "" : "out",
                      " message-shape tokens and content.bayes.structure_tokens is ", structure ? "false" : "true",
                      ": set structure_tokens back to ", structure ? "true" : "false",
                      ", or relearn with the other setting (hive-content-learn --no-structure-tokens matches false, "
                      "hivectl learn uses the running config's)");
}

}  // namespace

Classifier::Classifier(std::string path, ClassifierOptions options, TokenStore store)
    : path_(std::move(path)), options_(std::move(options)), store_(std::move(store)) {}

absl::StatusOr<std::shared_ptr<Classifier>> Classifier::Open(std::string path, ClassifierOptions options) {
  TokenStore store(FeaturesOf(options));
  if (!path.empty()) {
    absl::StatusOr<std::string> data = hive::support::ReadWholeFile(path);
    if (data.ok()) {
      absl::StatusOr<TokenStore> parsed = TokenStore::Parse(*data);
      if (!parsed.ok()) {
        return absl::Status(parsed.status().code(), path + ": " + std::string(parsed.status().message()));
      }
      if (!(parsed->features() == store.features())) {
        return absl::FailedPreconditionError(path + ": " + FeatureMismatch(parsed->features(), store.features()));
      }
      store = *std::move(parsed);
    } else if (!absl::IsNotFound(data.status())) {
      return data.status();
    }
  }
  return std::shared_ptr<Classifier>(new Classifier(std::move(path), std::move(options), std::move(store)));
}

namespace {

// The value of each feature of a message with n features.
double FeatureValue(std::size_t n) { return 1.0 / std::sqrt(static_cast<double>(n) + 1.0); }

double Predict(const TokenStore& model, std::span<const std::uint64_t> features, std::size_t* known) {
  double z = 0;
  std::size_t seen = 0;
  for (std::uint64_t t : features) {
    const TokenCounts c = model.Find(t);
    if (c.spam == 0 && c.ham == 0) continue;
    z += c.weight;
    ++seen;
  }
  if (known != nullptr) *known = seen;
  z *= FeatureValue(features.size());
  return 1.0 / (1.0 + std::exp(-std::clamp(z, -700.0, 700.0)));
}

void Step(TokenStore& model, std::span<const std::uint64_t> features, bool is_spam, const ClassifierOptions& options) {
  const double p = Predict(model, features, nullptr);
  const double step = options.learning_rate * FeatureValue(features.size());
  // w += step * ((y - p) - l2 * w), i.e. w = w * (1 - step * l2) + step * (y - p).
  const double keep = std::max(0.0, 1.0 - step * options.l2);
  model.AddWeight(features, static_cast<float>(step * ((is_spam ? 1.0 : 0.0) - p)), static_cast<float>(keep));
}

}  // namespace

void LearnInto(TokenStore& model, std::span<const std::uint64_t> features, bool is_spam,
               const ClassifierOptions& options) {
  model.Learn(features, is_spam);
  Step(model, features, is_spam, options);
}

Classification Classifier::Classify(std::span<const std::uint64_t> features) const {
  std::shared_lock lock(mu_);
  Classification result;
  if (store_.spam_learns() < options_.min_learns || store_.ham_learns() < options_.min_learns ||
      store_.spam_learns() == 0 || store_.ham_learns() == 0) {
    return result;
  }
  std::size_t known = 0;
  const double p = Predict(store_, features, &known);
  if (known < options_.min_tokens) return result;
  result.ready = true;
  result.probability = p;
  result.tokens = known;
  return result;
}

void Classifier::Features(const ParsedMessage& parsed, Tokens& out) const {
  Tokenize(parsed, out, options_.structure_tokens);
}

Classification Classifier::Classify(const ParsedMessage& parsed) const {
  thread_local Tokens tokens;
  Features(parsed, tokens);
  return Classify(tokens.features);
}

void Classifier::Learn(const Message& message, bool is_spam) {
  Tokens tokens;
  Features(Parse(message, options_.limits), tokens);
  Learn(tokens.features, is_spam);
}

void Classifier::Learn(std::span<const std::uint64_t> features, bool is_spam) {
  std::unique_lock lock(mu_);
  LearnInto(store_, features, is_spam, options_);
}

absl::Status Classifier::Install(TokenStore model) {
  std::unique_lock lock(mu_);
  if (!(model.features() == store_.features())) {
    return absl::FailedPreconditionError(FeatureMismatch(model.features(), store_.features()));
  }
  store_ = std::move(model);
  return absl::OkStatus();
}

void Classifier::Merge(const TokenStore& part) {
  std::unique_lock lock(mu_);
  part.ForEach([this](std::uint64_t token, const TokenCounts& counts) { store_.Set(token, counts); });
  store_.SetLearns(part.spam_learns(), part.ham_learns());
}

TokenStore Classifier::Model() const {
  std::shared_lock lock(mu_);
  return store_;
}

FeatureSet Classifier::Features() const { return FeaturesOf(options_); }

void Classifier::Train(std::span<const LabelledFeatures> examples, int passes) {
  std::vector<std::size_t> order(examples.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  // A fixed seed and our own Fisher-Yates: the same batch gives the same
  // model on every machine and standard library.
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  for (std::size_t i = order.size(); i > 1; --i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    std::swap(order[i - 1], order[state % i]);
  }
  std::unique_lock lock(mu_);
  for (const LabelledFeatures& e : examples) store_.Learn(e.features, e.is_spam);
  for (int pass = 0; pass < passes; ++pass) {
    for (std::size_t i : order) Step(store_, examples[i].features, examples[i].is_spam, options_);
  }
}

void Classifier::Reset() {
  std::unique_lock lock(mu_);
  store_ = TokenStore(FeaturesOf(options_));
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
  return hive::support::WriteFileAtomically(path, data);
}

ClassifierStats Classifier::stats() const {
  std::shared_lock lock(mu_);
  return {store_.spam_learns(), store_.ham_learns(), store_.size(), store_.memory_bytes()};
}

}  // namespace hive::policy::content
