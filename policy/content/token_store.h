// The model of the statistical classifier: for each token hash, in how many
// learned spam and ham messages it appeared and its learned weight (the
// logistic model's coefficient), plus the number of messages learned of
// each class.
//
// It also records which features it was learned from (FeatureSet: the
// tokenizer's version and options; the store only keeps them, the
// Classifier sets and checks them).
//
// In memory: one open-addressing table of 24-byte slots (hash, spam count,
// ham count, weight), linear probing, grown at 70 % load; lookups allocate
// nothing. On disk (Serialize / Parse), little-endian:
//   "HIVEBAY3" | u32 tokenizer_version | u32 feature_flags |
//   u64 spam_learns | u64 ham_learns | u64 n |
//   n x (u64 hash, u32 spam, u32 ham, f32 weight) | u64 FNV-1a of everything before
// Older files are refused with an error that says why and names the fix
// (relearn: hive-content-learn, hivectl learn):
//   - "HIVEBAY1" (counts only, from the Bayes classifier before the
//     weights): loaded, every weight would be 0 and every message would
//     score p = 0.5, a model that looks trained and says nothing;
//   - "HIVEBAY2" (weights, but no record of the tokenizer): it may have
//     been learned from other tokens than this build makes, and would load
//     silently and score wrong.
// The checksum makes a truncated or corrupted file an error, not a model
// silently missing half its tokens.
//
// Thread-safety: none; the Classifier serialises access.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace hive::policy::content {

struct TokenCounts {
  std::uint32_t spam = 0;
  std::uint32_t ham = 0;
  float weight = 0;  // the logistic model's coefficient
};

// The fix for a model this build cannot use, for error messages.
inline constexpr char kRelearnModel[] =
    "Relearn it: move the file away and run hive-content-learn --stats-db FILE --spam ... --ham ..., or start "
    "hive-policyd without it and hivectl learn the mail again";

// What the tokens of a model are: the tokenizer's version (tokenizer.h
// kTokenizerVersion) and its options as bits (Classifier's kFeature*).
struct FeatureSet {
  std::uint32_t tokenizer_version = 0;
  std::uint32_t flags = 0;
  bool operator==(const FeatureSet&) const = default;
};

class TokenStore {
 public:
  TokenStore() = default;
  explicit TokenStore(FeatureSet features) : features_(features) {}

  const FeatureSet& features() const { return features_; }

  // Adds one learned message of the class with these (unique) tokens.
  void Learn(std::span<const std::uint64_t> tokens, bool is_spam);
  TokenCounts Find(std::uint64_t token) const;
  // Sets the weight w of each token (inserting unknown ones) to
  // w * keep + delta.
  void AddWeight(std::span<const std::uint64_t> tokens, float delta, float keep = 1);

  // One token's entry as given (a shared model's stored values), and the
  // learn totals: what a partial copy of a model is built from.
  void Set(std::uint64_t token, const TokenCounts& counts) { Insert(Key(token)).counts = counts; }
  void SetLearns(std::uint64_t spam, std::uint64_t ham) {
    spam_learns_ = spam;
    ham_learns_ = ham;
  }
  // Every stored token (0 is stored as 1) and its entry, in table order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const Slot& s : slots_) {
      if (s.key != 0) fn(s.key, s.counts);
    }
  }

  std::uint64_t spam_learns() const { return spam_learns_; }
  std::uint64_t ham_learns() const { return ham_learns_; }
  std::size_t size() const { return used_; }
  std::size_t memory_bytes() const { return slots_.capacity() * sizeof(Slot); }

  std::string Serialize() const;
  static absl::StatusOr<TokenStore> Parse(std::string_view data);

 private:
  struct Slot {
    std::uint64_t key = 0;  // 0: empty (a token hashing to 0 is stored as 1)
    TokenCounts counts;
  };
  static std::uint64_t Key(std::uint64_t token) { return token == 0 ? 1 : token; }
  Slot& Insert(std::uint64_t key);
  void Grow();

  std::vector<Slot> slots_;  // size 0 or a power of two
  std::size_t used_ = 0;
  FeatureSet features_;
  std::uint64_t spam_learns_ = 0;
  std::uint64_t ham_learns_ = 0;
};

}  // namespace hive::policy::content
