// Content-Transfer-Encoding decoders (RFC 2045): base64 and
// quoted-printable, tolerant of the garbage real mail carries.
//
// Contract: never fail; the output is at most the input's size. Base64
// skips characters outside the alphabet (line breaks, spaces, junk) and
// stops at the first '=' padding group; a trailing partial quantum is
// decoded as far as it goes. Quoted-printable keeps malformed '=' sequences
// as they are (RFC 2045 6.7 note 1) and removes soft line breaks.
// `garbage`, when given, is set when the input was not clean.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hive::policy::content {

std::string DecodeBase64(std::string_view in, bool* garbage = nullptr, std::size_t max_out = SIZE_MAX);
std::string DecodeQuotedPrintable(std::string_view in, bool* garbage = nullptr);
// RFC 2047 "Q": quoted-printable with '_' for space.
std::string DecodeQEncoding(std::string_view in);

}  // namespace hive::policy::content
