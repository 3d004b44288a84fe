// The statistical classifier: Bayes over tokens (tokenizer.h) with
// Robinson's per-token probability and Fisher's chi-square combining, as in
// SpamBayes, bogofilter and SpamAssassin's BAYES_* rules.
//
// For each token of a message seen in training: p = (spam share) /
// (spam share + ham share), shrunk towards 0.5 for rare tokens (Robinson:
// f = (s*x + n*p) / (s + n)); the tokens furthest from 0.5 (at most
// max_interesting, at least min_deviation away) are combined by two
// chi-square tests into a spam probability in [0, 1]. It answers only when
// it has learned at least min_learns messages of each class and the
// message has at least min_tokens interesting tokens: an untrained or
// uninformed classifier says nothing rather than guess.
//
// Usage: Open(path) loads the statistics file if it exists (a missing file
// is an empty model); Learn(message, is_spam) adds a labelled message (the
// admin API's Learn RPC and `hive-content-learn` call it); Save() writes
// the file atomically. Classify() is the scorer's hot path: one hash lookup
// per unique token, no allocation in steady state.
//
// Thread-safety: all methods are thread-safe; Classify() calls run
// concurrently with each other (shared lock), Learn() / Reset() take the
// exclusive lock.
#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "content/message.h"
#include "content/parser.h"
#include "content/token_store.h"
#include "content/tokenizer.h"

namespace hive::policy::content {

struct ClassifierOptions {
  std::uint64_t min_learns = 200;  // per class, before any verdict
  std::size_t min_tokens = 5;      // interesting tokens in the message
  std::size_t max_interesting = 150;
  double min_deviation = 0.1;      // |f - 0.5| of an interesting token
  double robinson_s = 1.0;         // strength of the prior ...
  double robinson_x = 0.5;         // ... and the prior of an unknown token
  Limits limits;                   // parsing of messages given to Learn()
};

struct Classification {
  bool ready = false;       // false: too little training or too few tokens
  double probability = 0.5; // spam probability, meaningful when ready
  std::size_t tokens = 0;   // interesting tokens used
};

struct ClassifierStats {
  std::uint64_t spam_learns = 0;
  std::uint64_t ham_learns = 0;
  std::size_t tokens = 0;
  std::size_t memory_bytes = 0;
};

class Classifier {
 public:
  // `path` may be empty: an in-memory model that Save() refuses.
  static absl::StatusOr<std::shared_ptr<Classifier>> Open(std::string path, ClassifierOptions options = {});

  Classification Classify(std::span<const std::uint64_t> features) const;
  Classification Classify(const ParsedMessage& parsed) const;

  // Parses, tokenises and counts one labelled message.
  void Learn(const Message& message, bool is_spam);
  void Learn(std::span<const std::uint64_t> features, bool is_spam);
  // Forgets everything learned (cross-validation, retraining from scratch).
  void Reset();

  absl::Status Save() const;
  absl::Status SaveTo(const std::string& path) const;

  ClassifierStats stats() const;
  const std::string& path() const { return path_; }
  const ClassifierOptions& options() const { return options_; }

 private:
  Classifier(std::string path, ClassifierOptions options, TokenStore store);

  const std::string path_;
  const ClassifierOptions options_;
  mutable std::shared_mutex mu_;
  TokenStore store_;
};

// Fisher's inverse chi-square: P(X >= x2) for X ~ chi-square with `dof`
// (even) degrees of freedom, computed in log space so that large sums do
// not underflow to a wrong answer. Exposed for tests.
double Chi2Q(double x2, std::size_t dof);

}  // namespace hive::policy::content
