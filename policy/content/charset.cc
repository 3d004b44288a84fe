#include "content/charset.h"

#include <iconv.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/ascii.h"

namespace hive::policy::content {
namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";

struct Alias {
  const char* label;
  const char* converter;
};

// The allow-list. Supersets replace their subsets because mail labels lie
// in that direction (a "gb2312" message with GBK characters is the norm).
constexpr Alias kAliases[] = {
    {"utf-8", "UTF-8"}, {"utf8", "UTF-8"}, {"us-ascii", "UTF-8"}, {"ascii", "UTF-8"},
    {"ansi_x3.4-1968", "UTF-8"}, {"iso646-us", "UTF-8"}, {"unicode-1-1-utf-8", "UTF-8"},
    {"gb2312", "GB18030"}, {"gbk", "GB18030"}, {"gb18030", "GB18030"}, {"euc-cn", "GB18030"},
    {"cp936", "GB18030"}, {"ms936", "GB18030"}, {"windows-936", "GB18030"}, {"x-gbk", "GB18030"},
    {"csgb2312", "GB18030"}, {"gb_2312-80", "GB18030"}, {"chinese", "GB18030"}, {"x-euc-cn", "GB18030"},
    {"gb2312-80", "GB18030"},
    {"big5", "BIG5-HKSCS"}, {"big5-hkscs", "BIG5-HKSCS"}, {"x-big5", "BIG5-HKSCS"}, {"cp950", "BIG5-HKSCS"},
    {"csbig5", "BIG5-HKSCS"},
    {"iso-2022-jp", "ISO-2022-JP-2"}, {"csiso2022jp", "ISO-2022-JP-2"}, {"iso-2022-jp-2", "ISO-2022-JP-2"},
    {"shift_jis", "CP932"}, {"shift-jis", "CP932"}, {"sjis", "CP932"}, {"x-sjis", "CP932"},
    {"windows-31j", "CP932"}, {"cp932", "CP932"}, {"ms_kanji", "CP932"}, {"euc-jp", "EUC-JP"},
    {"x-euc-jp", "EUC-JP"},
    {"euc-kr", "CP949"}, {"ks_c_5601-1987", "CP949"}, {"cp949", "CP949"}, {"ks_c_5601", "CP949"},
    {"iso-2022-kr", "ISO-2022-KR"},
    {"iso-8859-1", "WINDOWS-1252"}, {"iso8859-1", "WINDOWS-1252"}, {"latin1", "WINDOWS-1252"},
    {"l1", "WINDOWS-1252"}, {"iso_8859-1", "WINDOWS-1252"}, {"cp819", "WINDOWS-1252"},
    {"iso-8859-2", "ISO-8859-2"}, {"iso-8859-3", "ISO-8859-3"}, {"iso-8859-4", "ISO-8859-4"},
    {"iso-8859-5", "ISO-8859-5"}, {"iso-8859-6", "ISO-8859-6"}, {"iso-8859-7", "ISO-8859-7"},
    {"iso-8859-8", "ISO-8859-8"}, {"iso-8859-9", "ISO-8859-9"}, {"iso-8859-10", "ISO-8859-10"},
    {"iso-8859-13", "ISO-8859-13"}, {"iso-8859-14", "ISO-8859-14"}, {"iso-8859-15", "ISO-8859-15"},
    {"iso-8859-16", "ISO-8859-16"}, {"latin2", "ISO-8859-2"},
    {"windows-1250", "WINDOWS-1250"}, {"windows-1251", "WINDOWS-1251"}, {"windows-1252", "WINDOWS-1252"},
    {"windows-1253", "WINDOWS-1253"}, {"windows-1254", "WINDOWS-1254"}, {"windows-1255", "WINDOWS-1255"},
    {"windows-1256", "WINDOWS-1256"}, {"windows-1257", "WINDOWS-1257"}, {"windows-1258", "WINDOWS-1258"},
    {"cp1250", "WINDOWS-1250"}, {"cp1251", "WINDOWS-1251"}, {"cp1252", "WINDOWS-1252"},
    {"cp1253", "WINDOWS-1253"}, {"cp1254", "WINDOWS-1254"}, {"cp1255", "WINDOWS-1255"},
    {"cp1256", "WINDOWS-1256"}, {"cp1257", "WINDOWS-1257"}, {"cp1258", "WINDOWS-1258"},
    {"windows-874", "WINDOWS-874"}, {"tis-620", "WINDOWS-874"}, {"koi8-r", "KOI8-R"}, {"koi8-u", "KOI8-U"},
    {"utf-16", "UTF-16"}, {"utf-16le", "UTF-16LE"}, {"utf-16be", "UTF-16BE"}, {"utf-7", "UTF-7"},
};

std::string NormaliseLabel(std::string_view label) {
  std::string s = absl::AsciiStrToLower(absl::StripAsciiWhitespace(absl::string_view(label.data(), label.size())));
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  if (std::size_t star = s.find('*'); star != std::string::npos) s.resize(star);  // RFC 2231 language
  return s;
}

// One converter per (thread, charset): iconv_open costs far more than a
// typical header word, and an iconv_t must not be shared between threads.
class ConverterCache {
 public:
  ~ConverterCache() {
    for (auto& [name, cd] : converters_) {
      if (cd != reinterpret_cast<iconv_t>(-1)) iconv_close(cd);
    }
  }
  iconv_t Get(const char* name) {
    auto [it, inserted] = converters_.try_emplace(name, reinterpret_cast<iconv_t>(-1));
    if (inserted) it->second = iconv_open("UTF-8", name);
    if (it->second != reinterpret_cast<iconv_t>(-1)) iconv(it->second, nullptr, nullptr, nullptr, nullptr);
    return it->second;
  }

 private:
  std::map<std::string, iconv_t> converters_;
};

// Decodes one UTF-8 sequence at s[i]; returns its length, or 0 if ill-formed.
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned c = b(i);
  if (c < 0x80) return 1;
  std::size_t n;
  unsigned cp;
  if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
  else return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
    return 0;
  }
  return n;
}

// The number of ASCII bytes `s` starts with, eight at a time (most mail
// text is ASCII: this is the validation's whole cost then).
std::size_t AsciiPrefix(std::string_view s) {
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, s.data() + i, sizeof word);
    if ((word & 0x8080808080808080ULL) != 0) break;
  }
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) ++i;
  return i;
}

// The end of the run of non-ASCII GB18030 characters that starts at s[i]
// (a byte >= 0x80, a character boundary): the next character boundary
// holding an ASCII byte, or the end. npos when the run is not well-formed
// (a lead byte without its trail bytes, a trail byte out of range).
// Two-byte characters may have a trail byte in 0x40-0x7E and four-byte ones
// digits, so a run is not simply the bytes >= 0x80.
std::size_t Gb18030RunEnd(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  while (i < s.size() && b(i) >= 0x80) {
    if (b(i) == 0x80 || b(i) == 0xFF || i + 1 >= s.size()) return std::string_view::npos;
    const unsigned c2 = b(i + 1);
    if (c2 >= 0x30 && c2 <= 0x39) {
      if (i + 3 >= s.size() || b(i + 2) < 0x81 || b(i + 2) == 0xFF || b(i + 3) < 0x30 || b(i + 3) > 0x39) {
        return std::string_view::npos;
      }
      i += 4;
    } else if ((c2 >= 0x40 && c2 <= 0x7E) || (c2 >= 0x80 && c2 <= 0xFE)) {
      i += 2;
    } else {
      return std::string_view::npos;
    }
  }
  return i;
}

// Converts `rest` with `cd`, appending to `out` and consuming `rest`: true
// when all of it is converted, false at an invalid or incomplete sequence
// (`rest` then starts with it).
bool IconvUntilError(iconv_t cd, std::string_view& rest, std::string& out) {
  char* in = const_cast<char*>(rest.data());  // iconv's API is not const-correct
  std::size_t in_left = rest.size();
  char buffer[4096];
  bool ok = true;
  while (in_left > 0 && ok) {
    char* o = buffer;
    std::size_t o_left = sizeof(buffer);
    const std::size_t r = iconv(cd, &in, &in_left, &o, &o_left);
    out.append(buffer, static_cast<std::size_t>(o - buffer));
    ok = r != static_cast<std::size_t>(-1) || errno == E2BIG;
  }
  rest = std::string_view(in, in_left);
  return ok;
}

// GB18030 (what GB2312 and GBK are read as) is stateless and ASCII-compatible:
// at a character boundary a byte < 0x80 is that ASCII character. So ASCII
// runs (markup, Latin words, line ends: much of Chinese mail) are copied as
// they are and only the runs of Chinese characters go through iconv, which
// costs ~60 instructions a byte. The result is what one iconv pass over the
// whole text gives. False when a run is not well-formed or iconv refuses a
// sequence: the caller then converts the whole text with replacements.
bool Gb18030ByRuns(std::string_view bytes, iconv_t cd, std::string& out) {
  for (std::size_t i = 0; i < bytes.size();) {
    const std::size_t ascii = AsciiPrefix(bytes.substr(i));
    out.append(bytes.substr(i, ascii));
    i += ascii;
    if (i == bytes.size()) break;
    const std::size_t end = Gb18030RunEnd(bytes, i);
    if (end == std::string_view::npos) return false;
    std::string_view run = bytes.substr(i, end - i);
    if (!IconvUntilError(cd, run, out)) return false;
    i = end;
  }
  return true;
}

// `valid`: IsValidUtf8(bytes), when the caller already knows it.
Utf8Text Convert(std::string_view bytes, const char* converter, std::optional<bool> valid = std::nullopt) {
  Utf8Text out;
  if (std::string_view(converter) == "UTF-8") {
    out.had_errors = !(valid.has_value() ? *valid : IsValidUtf8(bytes));  // value_or would run it anyway
    out.text = out.had_errors ? SanitizeUtf8(bytes) : std::string(bytes);
    return out;
  }
  thread_local ConverterCache cache;
  iconv_t cd = cache.Get(converter);
  if (cd == reinterpret_cast<iconv_t>(-1)) {  // allow-listed but missing from this libc
    out.unknown_charset = true;
    out.had_errors = !IsValidUtf8(bytes);
    out.text = SanitizeUtf8(bytes);
    return out;
  }
  out.text.reserve(bytes.size() * 3 / 2 + 16);
  if (std::string_view(converter) == "GB18030") {
    if (Gb18030ByRuns(bytes, cd, out.text)) {
      if (!IsValidUtf8(out.text)) out.text = SanitizeUtf8(out.text);  // as below
      return out;
    }
    out.text.clear();  // not well-formed: the whole text through iconv, as any charset
    iconv(cd, nullptr, nullptr, nullptr, nullptr);
  }
  for (std::string_view rest = bytes; !IconvUntilError(cd, rest, out.text);) {
    // EILSEQ (invalid) or EINVAL (incomplete at the end): replace one byte
    // and resynchronise; reset the shift state of stateful encodings.
    out.had_errors = true;
    out.text += kReplacement;
    rest.remove_prefix(1);
    iconv(cd, nullptr, nullptr, nullptr, nullptr);
  }
  // Flush the shift state (ISO-2022-*).
  char buffer[4096];
  char* o = buffer;
  std::size_t o_left = sizeof(buffer);
  iconv(cd, nullptr, nullptr, &o, &o_left);
  out.text.append(buffer, static_cast<std::size_t>(o - buffer));
  // Defence in depth: whatever the converter did, the output is UTF-8.
  if (!IsValidUtf8(out.text)) out.text = SanitizeUtf8(out.text);
  return out;
}

}  // namespace

std::string_view CanonicalCharset(std::string_view label) {
  const std::string s = NormaliseLabel(label);
  if (s.empty()) return {};
  for (const Alias& a : kAliases) {
    if (s == a.label) return a.converter;
  }
  // "x-" prefixed and "cs"-less spellings of the same names.
  if (s.size() > 2 && s.compare(0, 2, "x-") == 0) return CanonicalCharset(std::string_view(s).substr(2));
  if (s.compare(0, 8, "iso8859-") == 0) return CanonicalCharset("iso-8859-" + s.substr(8));
  if (s.compare(0, 9, "iso_8859-") == 0) return CanonicalCharset("iso-8859-" + s.substr(9));
  return {};
}

Utf8Text ToUtf8(std::string_view bytes, std::string_view label, std::string_view fallback) {
  std::string_view converter = CanonicalCharset(label);
  const bool unknown = converter.empty() && !NormaliseLabel(label).empty();
  const std::string normalised = NormaliseLabel(label);
  const bool says_utf8 = normalised == "utf-8" || normalised == "utf8";
  // Whether the bytes are valid UTF-8, computed once (a pass over them).
  std::optional<bool> valid;
  if (converter.empty() || converter == "UTF-8") valid = IsValidUtf8(bytes);
  if (converter.empty() || (converter == "UTF-8" && !says_utf8 && !*valid)) {
    // Undeclared, unknown, or "utf-8"/"us-ascii" that is not: valid UTF-8
    // stays; anything else is read as the fallback (8-bit text labelled
    // us-ascii is common in Chinese mail).
    if (*valid) {
      Utf8Text out{std::string(bytes), unknown, false};
      return out;
    }
    converter = CanonicalCharset(fallback);
    if (converter.empty()) converter = "WINDOWS-1252";
  }
  Utf8Text out = Convert(bytes, std::string(converter).c_str(), valid);
  out.unknown_charset = out.unknown_charset || unknown;
  return out;
}

bool IsValidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    i += AsciiPrefix(s.substr(i));
    if (i == s.size()) break;
    const std::size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string SanitizeUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

void AppendUtf8(std::string& out, unsigned cp) {
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace hive::policy::content
