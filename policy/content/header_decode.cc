#include "content/header_decode.h"

#include "content/charset.h"
#include "content/transfer.h"

namespace hive::policy::content {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

struct Word {
  std::size_t end = 0;  // one past "?="
  std::string charset;
  char encoding = 0;
  std::string_view text;
};

// Parses an encoded word starting at raw[i] == '='. Tolerates the usual
// malformations: lower-case b/q and blanks inside Q text (some mailers
// forget to encode them).
bool ParseWord(std::string_view raw, std::size_t i, Word& w) {
  if (raw.substr(i, 2) != "=?") return false;
  const std::size_t cs_end = raw.find('?', i + 2);
  if (cs_end == std::string_view::npos || cs_end == i + 2 || cs_end - i > 80) return false;
  if (cs_end + 2 >= raw.size() || raw[cs_end + 2] != '?') return false;
  const char enc = raw[cs_end + 1];
  if (enc != 'B' && enc != 'b' && enc != 'Q' && enc != 'q') return false;
  const std::size_t text_start = cs_end + 3;
  const std::size_t text_end = raw.find("?=", text_start);
  if (text_end == std::string_view::npos) return false;
  w.charset = std::string(raw.substr(i + 2, cs_end - i - 2));
  w.encoding = static_cast<char>(enc & ~0x20);
  w.text = raw.substr(text_start, text_end - text_start);
  w.end = text_end + 2;
  return true;
}

// Appends raw (non-encoded) header bytes as UTF-8.
void AppendRaw(std::string& out, std::string_view bytes, std::string_view fallback, bool& unknown) {
  if (bytes.empty()) return;
  bool ascii = true;
  for (char c : bytes) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) {
    out.append(bytes);
    return;
  }
  Utf8Text t = ToUtf8(bytes, "", fallback);
  unknown = unknown || t.unknown_charset;
  out += t.text;
}

}  // namespace

std::string Unfold(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\r' && i + 1 < value.size() && value[i + 1] == '\n') continue;
    if (value[i] == '\n') continue;
    out += value[i];
  }
  return out;
}

DecodedHeader DecodeHeaderValue(std::string_view raw_value, std::string_view fallback) {
  const std::string unfolded = Unfold(raw_value);
  const std::string_view raw = unfolded;
  DecodedHeader out;
  out.text.reserve(raw.size());
  std::size_t literal_start = 0;  // start of pending raw bytes
  bool last_was_word = false;
  int words = 0;
  std::size_t i = 0;
  while (i < raw.size()) {
    Word w;
    if (raw[i] != '=' || words >= kMaxEncodedWords || !ParseWord(raw, i, w)) {
      if (raw.substr(i, 2) == "=?" && words < kMaxEncodedWords) out.malformed = true;
      ++i;
      continue;
    }
    ++words;
    std::string_view between = raw.substr(literal_start, i - literal_start);
    bool only_blank = true;
    for (char c : between) only_blank = only_blank && IsBlank(c);
    if (!(last_was_word && only_blank)) AppendRaw(out.text, between, fallback, out.unknown_charset);

    std::string bytes;
    if (w.encoding == 'B') {
      bool garbage = false;
      bytes = DecodeBase64(w.text, &garbage);
      out.malformed = out.malformed || garbage;
    } else {
      bytes = DecodeQEncoding(w.text);
    }
    Utf8Text t = ToUtf8(bytes, w.charset, fallback);
    out.unknown_charset = out.unknown_charset || t.unknown_charset;
    out.malformed = out.malformed || t.had_errors;
    out.text += t.text;
    last_was_word = true;
    i = w.end;
    literal_start = i;
  }
  AppendRaw(out.text, raw.substr(literal_start), fallback, out.unknown_charset);
  // Control characters other than tab carry nothing for rules but confuse
  // logs; NUL in particular.
  for (char& c : out.text) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t') c = ' ';
  }
  return out;
}

}  // namespace hive::policy::content
