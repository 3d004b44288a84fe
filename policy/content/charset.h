// Charset conversion to UTF-8 for message text (MIME parts, RFC 2047 words).
//
// Interface: CanonicalCharset(label) maps a MIME charset label to the name
// handed to iconv, from an allow-list with aliases; an unknown label maps to
// nothing, so a name from the mail never reaches iconv_open raw (an attacker
// could otherwise pick exotic converters or gconv modules). ToUtf8() converts
// with replacement: every undecodable byte becomes U+FFFD, never an error.
//
// Contract: the output is always valid UTF-8 and at most ~3x the input plus
// a constant. GB2312/GBK/EUC-CN/CP936 are read as GB18030 (their superset:
// real "gb2312" mail carries GBK-only characters), Latin-1 as Windows-1252,
// Big5 as Big5-HKSCS, Shift_JIS as CP932, EUC-KR as CP949.
//
// Thread-safety: all functions are thread-safe (converters are cached per
// thread).
#pragma once

#include <string>
#include <string_view>

namespace hive::policy::content {

// The converter name for `label` (case, quotes, blanks and an RFC 2231
// "*lang" suffix ignored), "UTF-8" for UTF-8/ASCII labels, or "" when the
// label is not on the allow-list.
std::string_view CanonicalCharset(std::string_view label);

struct Utf8Text {
  std::string text;
  bool unknown_charset = false;  // the label was not on the allow-list
  bool had_errors = false;       // some bytes were replaced by U+FFFD
};

// Converts `bytes` declared as `label` to UTF-8. An empty or unknown label
// means: keep the bytes when they are valid UTF-8, otherwise read them as
// `fallback` (an allow-listed label, e.g. "gb18030").
Utf8Text ToUtf8(std::string_view bytes, std::string_view label, std::string_view fallback = "gb18030");

// True when `s` is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);

// `s` with every ill-formed UTF-8 sequence replaced by U+FFFD.
std::string SanitizeUtf8(std::string_view s);

// Appends the UTF-8 encoding of `cp` (U+FFFD for surrogates and > U+10FFFF).
void AppendUtf8(std::string& out, unsigned cp);

}  // namespace hive::policy::content
