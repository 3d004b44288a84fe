// Turns a parsed message into the token hashes the statistical classifier
// and the near-duplicate fingerprint read. One pass over the decoded text:
//   - Latin-script words, lower-cased (ASCII folding only), 2..24 bytes;
//     longer words are cut at 24 bytes so a random string yields one token;
//   - digit runs become a shape token ("a number of N digits"), so phone
//     numbers, prices and order ids that change per recipient do not
//     defeat fingerprints, while "a message full of numbers" still counts;
//   - CJK text (Han, kana, Hangul) has no spaces: every pair of adjacent
//     CJK characters is a token (character bigrams), an isolated CJK
//     character a unigram;
//   - full-width ASCII (U+FF01..U+FF5E), common in Chinese spam, is folded
//     to ASCII first;
//   - runs of symbols (punctuation, "★", "【", "!!!", "$", first 4 code
//     points of the run) and the symbol a line starts with ("> ", ": ")
//     are tokens of their own: classifier features only, not body tokens.
// Besides the body, the subject (same rules, twice: in a namespace of its
// own, and as body text), the From domain and each URL (its host,
// registrable domain, top-level label, and the words of its path and
// query) give tokens of their own kind. With `structure`, so does the
// message's shape: counts of MIME parts by kind, attachments, URLs, links
// and text size (as magnitudes), the parser's anomaly flags, each
// attachment's declared type and the top-level Content-Type. All of these
// come from headers an outbound scorer may rely on (From, Subject, MIME),
// never from Received, list headers or the Message-ID: a Message-ID names
// the mail system that wrote it, and in the Chinese corpus that is the
// label itself (its spam gateway rewrote the spam's Message-IDs).
//
// Classifier features only, never body tokens (so known-bad fingerprints
// stay valid across tokenizer changes): symbols, line starts, subject and
// URL tokens. CJK character trigrams were tried and left out: they lowered
// recall at FP rate <= 0.5% on the training part of both corpora
// (docs/scoring.md).
//
// Tokens are 64-bit FNV-1a hashes of (kind, text): never strings, so
// tokenising allocates nothing per token, and the hash is stable across
// runs and machines (it is what the token store persists).
//
// Contract: Tokenize() fills `out` (clearing it first; its vectors keep
// their capacity, so a reused Tokens allocates nothing in steady state).
// At most kMaxTokens body tokens are produced.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "content/parser.h"

namespace hive::policy::content {

struct Tokens {
  // Body tokens in text order, with repeats: what a fingerprint reads.
  std::vector<std::uint64_t> body;
  // Every token of every kind, sorted and unique: what the classifier reads.
  std::vector<std::uint64_t> features;
};

inline constexpr std::size_t kMaxTokens = 50000;

// The version of the features Tokenize() makes. Bump it with every change
// that gives any message other features (a new kind, another hash, other
// word rules): a model file records the version it was learned with, and
// a model of another version is refused (classifier.h), never loaded to
// score with tokens it does not know.
inline constexpr std::uint32_t kTokenizerVersion = 1;

void Tokenize(const ParsedMessage& parsed, Tokens& out, bool structure = true);

// The body-kind tokens of `text` (words, numbers, CJK; no symbols)
// appended to `out` in order (tests, tools).
void TokenizeText(std::string_view text, std::vector<std::uint64_t>& out);

}  // namespace hive::policy::content
