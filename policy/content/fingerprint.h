// Near-duplicate fingerprints of known-bad messages, like rspamd's fuzzy
// hashes: a 64-bit SimHash over the decoded body text, and a store of
// fingerprints an operator (or the admin API) marks as bad. A message whose
// SimHash is within max_distance bits (Hamming) of a stored one matches.
//
// The SimHash votes with every body token (tokenizer.h; CJK bigrams
// already carry local order, and single tokens keep a substitution from
// touching more than one or two votes). Numbers are reduced to their shape
// there, so a campaign that changes the recipient's name, a price or a
// phone number per message moves a few bits, while unrelated text differs
// in about half of the 64.
//
// Store file: text, one fingerprint a line, "<16 hex digits> <label>",
// '#' comments; written atomically (support/atomic_file.h).
//
// Thread-safety: SimHash is pure. FingerprintStore methods are thread-safe
// (Match under a shared lock, Add / Remove under an exclusive one).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hive::policy::content {

// Null when the text has fewer than `min_tokens` tokens: a short text's
// fingerprint matches too much.
std::optional<std::uint64_t> SimHash(std::span<const std::uint64_t> body_tokens, std::size_t min_tokens);

int HammingDistance(std::uint64_t a, std::uint64_t b);

// The exact counterpart of SimHash: SHA-256 (OpenSSL) of the body tokens in
// order, as 32 hex digits (its first 128 bits). The tokens are already
// normalised (case folded, numbers reduced to their shape, markup and
// spacing gone), so one template sent with other order numbers, prices or
// links' ids hashes alike: a rate-limit key ({content_hash}) that counts a
// campaign across every account sending it. "" when the text has fewer
// than `min_tokens` tokens (short texts are alike by chance).
std::string ContentHash(std::span<const std::uint64_t> body_tokens, std::size_t min_tokens);

struct FingerprintMatch {
  std::uint64_t fingerprint = 0;
  std::string label;
  int distance = 0;
};

class FingerprintStore {
 public:
  static constexpr std::size_t kMaxLabelBytes = 64;
  // Loads `path` if it exists (missing: empty). `path` may be empty: an
  // in-memory store that Save() refuses.
  static absl::StatusOr<std::shared_ptr<FingerprintStore>> Open(std::string path);

  // The closest stored fingerprint within max_distance, if any.
  std::optional<FingerprintMatch> Match(std::uint64_t fingerprint, int max_distance) const;

  // Adds (or relabels) a fingerprint. The label is cut to kMaxLabelBytes and
  // must not hold whitespace (it is one word in the file and in symbols).
  absl::Status Add(std::uint64_t fingerprint, std::string label);
  // That check on its own (a list kept elsewhere: admin/shared_fingerprints.h).
  static absl::Status CheckLabel(std::string& label);
  // False when it was not there.
  bool Remove(std::uint64_t fingerprint);
  std::size_t size() const;

  // The whole list, and a list kept elsewhere put in its place.
  using Entries = std::vector<std::pair<std::uint64_t, std::string>>;
  Entries List() const;
  void Replace(const Entries& entries);

  absl::Status Save() const;

 private:
  struct Entry {
    std::uint64_t fingerprint;
    std::string label;
  };
  explicit FingerprintStore(std::string path) : path_(std::move(path)) {}

  const std::string path_;
  mutable std::shared_mutex mu_;
  std::vector<Entry> entries_;  // linear scan: popcount of a few 10k entries is microseconds
};

}  // namespace hive::policy::content
