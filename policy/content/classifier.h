// The statistical classifier: logistic regression over the token hashes of
// tokenizer.h, learned online (one gradient step per learned message), as
// in the online filters that led the TREC spam tracks; the store also keeps
// per-token spam / ham counts (token_store.h) for readiness and statistics.
//
// A message's features x are its unique tokens, each of value 1/sqrt(n+1)
// (n: the message's feature count, so long and short messages move the
// model alike); p = 1 / (1 + exp(-sum of the known tokens' weights * x)).
// Learning a message of class y (1 spam, 0 ham) adds
// learning_rate * x * ((y - p) - l2 * w) to the weight w of each of its
// tokens: a message the model already gets right changes little, a
// mistake a lot, and the small L2 penalty pulls a weight back towards 0
// each time its token is learned (applied to the message's tokens only,
// so it costs nothing per unseen token). Without the penalty, tokens seen
// in a few messages of one class only grow large weights and make the rare
// confident false positive; with it, best recall at FP rate <= 0.5% rose on
// the training part of both corpora (docs/scoring.md).
// It answers only when it has learned at least min_learns messages of each
// class and the message has at least min_tokens tokens the model has seen:
// an untrained or uninformed classifier says nothing rather than guess.
//
// It replaced Robinson-Fisher chi-square Bayes, which reached recall 0.918
// at FP rate 1.6% on the Chinese corpus. Figures of this model, on a
// held-out test set and in cross-validation: docs/scoring.md.
//
// Usage: Open(path) loads the model file if it exists (a missing file is an
// empty model). A model learned from other features than these options and
// this build's tokenizer make (token_store.h FeatureSet: kTokenizerVersion,
// structure_tokens) is refused with an error that names the fix, never
// loaded to score with tokens it does not know; Learn(message, is_spam) learns one labelled message (the
// admin API's Learn RPC); Train(examples, passes) learns a batch, `passes`
// times over in a fixed shuffled order (`hive-content-learn`, evaluation);
// Save() writes the file atomically. Classify() is the scorer's hot path:
// one hash lookup per unique token, no allocation.
//
// Thread-safety: all methods are thread-safe; Classify() calls run
// concurrently with each other (shared lock), Learn() / Train() / Reset()
// take the exclusive lock.
#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "content/message.h"
#include "content/parser.h"
#include "content/token_store.h"
#include "content/tokenizer.h"

namespace hive::policy::content {

struct ClassifierOptions {
  std::uint64_t min_learns = 200;  // per class, before any verdict
  std::size_t min_tokens = 5;      // known tokens in the message
  double learning_rate = 10;       // step size of one learned message
  double l2 = 0.001;               // L2 penalty (0: none), see above
  bool structure_tokens = true;    // Tokenize(..., structure)
  Limits limits;                   // parsing of messages given to Learn()
};

struct Classification {
  bool ready = false;       // false: too little training or too few tokens
  double probability = 0.5; // spam probability, meaningful when ready
  std::size_t tokens = 0;   // known tokens used
};

struct LabelledFeatures {
  std::vector<std::uint64_t> features;  // Tokens::features
  bool is_spam = false;
};

struct ClassifierStats {
  std::uint64_t spam_learns = 0;
  std::uint64_t ham_learns = 0;
  std::size_t tokens = 0;
  std::size_t memory_bytes = 0;
};

// Learns one message into `model` as Classifier::Learn does: its counts,
// then one gradient step. It reads and writes only the message's tokens and
// the learn totals, so a model holding just those (a shared model's stored
// values) ends with the values the whole model would.
void LearnInto(TokenStore& model, std::span<const std::uint64_t> features, bool is_spam,
               const ClassifierOptions& options);

class Classifier {
 public:
  // `path` may be empty: an in-memory model that Save() refuses.
  static absl::StatusOr<std::shared_ptr<Classifier>> Open(std::string path, ClassifierOptions options = {});

  Classification Classify(std::span<const std::uint64_t> features) const;
  Classification Classify(const ParsedMessage& parsed) const;

  // Parses, tokenises and learns one labelled message.
  void Learn(const Message& message, bool is_spam);
  void Learn(std::span<const std::uint64_t> features, bool is_spam);
  // Counts every example once and takes `passes` gradient steps per
  // example, each pass over the same fixed (seeded) shuffled order: a batch
  // learned in one go, whatever order its files came in.
  void Train(std::span<const LabelledFeatures> examples, int passes);
  // The features this classifier learns from and classifies (the tokens of
  // tokenizer.h, with its structure_tokens option).
  void Features(const ParsedMessage& parsed, Tokens& out) const;
  // Forgets everything learned (cross-validation, retraining from scratch).
  void Reset();

  // A model kept elsewhere (a shared model, admin/shared_model.h): Install
  // replaces this one (refused when learned from other features), Merge
  // takes a partial model's entries and learn totals over this one's, Model
  // is a copy of this one; Features is what a model for it must record.
  absl::Status Install(TokenStore model);
  void Merge(const TokenStore& part);
  TokenStore Model() const;
  FeatureSet Features() const;

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

}  // namespace hive::policy::content
