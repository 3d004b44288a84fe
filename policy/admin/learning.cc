#include "admin/learning.h"

#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "content/message.h"
#include "content/parser.h"
#include "content/tokenizer.h"

namespace hive::policy::admin {
namespace {

// A model without a file refuses Save() with FAILED_PRECONDITION: it is
// in memory by configuration, so there is nothing to save.
absl::StatusOr<bool> Saved(const absl::Status& s) {
  if (s.ok()) return true;
  if (absl::IsFailedPrecondition(s)) return false;
  return absl::InternalError(absl::StrCat("changed in memory, but not saved: ", s.message()));
}

}  // namespace

absl::StatusOr<LearnOutcome> LearnMessage(content::Classifier& classifier, std::string_view eml, bool is_spam,
                                          SharedModel* shared) {
  if (eml.empty()) return absl::InvalidArgumentError("eml: required");
  if (shared != nullptr) {
    content::Tokens tokens;
    classifier.Features(content::Parse(content::SplitRawMessage(eml), classifier.options().limits), tokens);
    absl::StatusOr<SharedModelTotals> totals = shared->Learn(classifier, tokens.features, is_spam);
    if (!totals.ok()) return totals.status();
    return LearnOutcome{.spam_learns = totals->spam_learns, .ham_learns = totals->ham_learns,
                        .tokens = classifier.stats().tokens, .saved = true};
  }
  classifier.Learn(content::SplitRawMessage(eml), is_spam);
  absl::StatusOr<bool> saved = Saved(classifier.Save());
  if (!saved.ok()) return saved.status();
  const content::ClassifierStats st = classifier.stats();
  return LearnOutcome{.spam_learns = st.spam_learns, .ham_learns = st.ham_learns, .tokens = st.tokens,
                      .saved = *saved};
}

absl::StatusOr<std::uint64_t> FingerprintOfMessage(std::string_view eml, std::size_t min_tokens,
                                                   const content::Limits& limits) {
  if (eml.empty()) return absl::InvalidArgumentError("eml: required");
  content::Tokens tokens;
  content::Tokenize(content::Parse(content::SplitRawMessage(eml), limits), tokens);
  std::optional<std::uint64_t> h = content::SimHash(tokens.body, min_tokens);
  if (!h) {
    return absl::InvalidArgumentError(
        absl::StrCat("eml: too little text to fingerprint (", tokens.body.size(), " tokens, at least ", min_tokens,
                     " needed: content.fingerprints.min_tokens)"));
  }
  return *h;
}

absl::StatusOr<std::uint64_t> ParseFingerprint(std::string_view hex) {
  std::uint64_t value = 0;
  if (hex.size() != 16 || !absl::SimpleHexAtoi(absl::string_view(hex.data(), hex.size()), &value)) {
    return absl::InvalidArgumentError("fingerprint: 16 hex digits expected");
  }
  return value;
}

std::string FormatFingerprint(std::uint64_t fingerprint) {
  return absl::StrFormat("%016x", fingerprint);
}

absl::StatusOr<FingerprintOutcome> AddFingerprint(content::FingerprintStore& store, std::uint64_t fingerprint,
                                                  std::string label, SharedFingerprints* shared) {
  if (label.empty()) return absl::InvalidArgumentError("label: required (one word, e.g. the campaign)");
  if (shared != nullptr) {
    absl::StatusOr<std::size_t> stored = shared->Add(store, fingerprint, std::move(label));
    if (absl::IsInvalidArgument(stored.status())) {
      return absl::InvalidArgumentError(absl::StrCat("label: ", stored.status().message()));
    }
    if (!stored.ok()) return stored.status();
    return FingerprintOutcome{.changed = true, .stored = *stored, .saved = true};
  }
  if (absl::Status s = store.Add(fingerprint, std::move(label)); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("label: ", s.message()));
  }
  absl::StatusOr<bool> saved = Saved(store.Save());
  if (!saved.ok()) return saved.status();
  return FingerprintOutcome{.changed = true, .stored = store.size(), .saved = *saved};
}

absl::StatusOr<FingerprintOutcome> RemoveFingerprint(content::FingerprintStore& store, std::uint64_t fingerprint,
                                                     SharedFingerprints* shared) {
  if (shared != nullptr) {
    absl::StatusOr<SharedFingerprints::Removed> r = shared->Remove(store, fingerprint);
    if (!r.ok()) return r.status();
    return FingerprintOutcome{.changed = r->changed, .stored = r->stored, .saved = r->changed};
  }
  const bool removed = store.Remove(fingerprint);
  bool saved = false;
  if (removed) {
    absl::StatusOr<bool> s = Saved(store.Save());
    if (!s.ok()) return s.status();
    saved = *s;
  }
  return FingerprintOutcome{.changed = removed, .stored = store.size(), .saved = saved};
}

}  // namespace hive::policy::admin
