// Header value decoding: unfolding (RFC 5322 2.2.3) and RFC 2047 encoded
// words ("=?charset?B|Q?text?=") to UTF-8.
//
// Contract: never fails; the result is valid UTF-8. Encoded words in any
// allow-listed charset (see charset.h) are decoded, whitespace between two
// adjacent encoded words is dropped (RFC 2047 6.2), a malformed word is kept
// literally, raw 8-bit bytes (common in Chinese mail) are read as UTF-8 when
// valid, else as `fallback`. At most kMaxEncodedWords words are decoded per
// value: the rest stays literal, which bounds the work per header.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace hive::policy::content {

inline constexpr int kMaxEncodedWords = 256;

struct DecodedHeader {
  std::string text;
  bool malformed = false;        // a word looked encoded but did not decode
  bool unknown_charset = false;  // a word's charset is not on the allow-list
};

// Removes CRLF/LF folds (keeping the whitespace that follows them).
std::string Unfold(std::string_view value);

DecodedHeader DecodeHeaderValue(std::string_view raw, std::string_view fallback = "gb18030");

}  // namespace hive::policy::content
