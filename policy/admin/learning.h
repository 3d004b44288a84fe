// What the admin API's Learn and fingerprint RPCs do to the running content
// engine: a raw message (.eml bytes) is learned by the statistical
// classifier or fingerprinted into the known-bad store, and the model is
// saved to its file at once, so that the next reload or restart (which
// reads the files again) keeps what was learned.
//
// The objects are the ones the current snapshot's Scorer scores with
// (Scorer::classifier(), Scorer::fingerprints()): a change is live for the
// next message without a reload. A model configured without a file (in
// memory only) learns but has nothing to save; that is not an error.
//
// Thread-safety: as thread-safe as Classifier and FingerprintStore (both
// are); functions keep no state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "admin/shared_fingerprints.h"
#include "admin/shared_model.h"
#include "content/classifier.h"
#include "content/fingerprint.h"

namespace hive::policy::admin {

struct LearnOutcome {
  std::uint64_t spam_learns = 0;  // totals after this message
  std::uint64_t ham_learns = 0;
  std::size_t tokens = 0;
  bool saved = false;  // false: an in-memory model
};

// Learns `eml` with its label and saves the model: to its file, or with
// `shared` (content.bayes.model_in_redis) into the model every replica
// shares, `classifier` taking the same change (saved: stored there).
absl::StatusOr<LearnOutcome> LearnMessage(content::Classifier& classifier, std::string_view eml, bool is_spam,
                                          SharedModel* shared = nullptr);

// The SimHash of `eml`'s body as the scorer computes it (parsed with the
// scorer's `limits`, Scorer::limits()); INVALID_ARGUMENT
// when the text has fewer than `min_tokens` tokens (the scorer would never
// fingerprint it, so storing it would match nothing).
absl::StatusOr<std::uint64_t> FingerprintOfMessage(std::string_view eml, std::size_t min_tokens,
                                                   const content::Limits& limits);

// "0123456789abcdef" (16 hex digits, as the store file and the
// FINGERPRINT_BAD symbol show them) -> value.
absl::StatusOr<std::uint64_t> ParseFingerprint(std::string_view hex);
std::string FormatFingerprint(std::uint64_t fingerprint);

struct FingerprintOutcome {
  bool changed = false;  // added / relabelled, or removed; false: was not there
  std::size_t stored = 0;
  bool saved = false;
};

// Add (label required: one word) or remove, then save the store: to its
// file, or with `shared` (content.fingerprints.list_in_redis) into the list
// every replica shares, `store` taking the same change.
absl::StatusOr<FingerprintOutcome> AddFingerprint(content::FingerprintStore& store, std::uint64_t fingerprint,
                                                  std::string label, SharedFingerprints* shared = nullptr);
absl::StatusOr<FingerprintOutcome> RemoveFingerprint(content::FingerprintStore& store, std::uint64_t fingerprint,
                                                     SharedFingerprints* shared = nullptr);

}  // namespace hive::policy::admin
