#include "content/mime_params.h"

#include <cstdlib>
#include <vector>

#include "absl/strings/ascii.h"
#include "content/charset.h"
#include "content/header_decode.h"

namespace hive::policy::content {
namespace {

bool IsTokenChar(char c) {
  return static_cast<unsigned char>(c) > 32 && c != ';' && c != '=' && c != '"' && c != '(' && c != ')';
}

void SkipBlanksAndComments(std::string_view s, std::size_t& i) {
  while (i < s.size()) {
    if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
      ++i;
    } else if (s[i] == '(') {  // comment, nested up to a bound
      int depth = 0;
      while (i < s.size()) {
        if (s[i] == '\\') ++i;
        else if (s[i] == '(') ++depth;
        else if (s[i] == ')' && --depth == 0) break;
        ++i;
      }
      ++i;
    } else {
      break;
    }
  }
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && absl::ascii_isxdigit(s[i + 1]) &&
        absl::ascii_isxdigit(s[i + 2])) {
      out += static_cast<char>(std::strtol(std::string(s.substr(i + 1, 2)).c_str(), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct Section {
  bool extended = false;  // name*n* or name*: percent-encoded
  std::string raw;
};

}  // namespace

const std::string& FieldValue::Param(const std::string& name) const {
  static const std::string kEmpty;
  auto it = params.find(name);
  return it == params.end() ? kEmpty : it->second;
}

FieldValue ParseFieldValue(std::string_view raw_in, std::string_view fallback) {
  const std::string unfolded = Unfold(raw_in);
  const std::string_view s = unfolded;
  FieldValue out;
  std::size_t i = 0;
  SkipBlanksAndComments(s, i);
  const std::size_t start = i;
  while (i < s.size() && s[i] != ';' && s[i] != ' ' && s[i] != '\t' && s[i] != '(') ++i;
  out.value = absl::AsciiStrToLower(absl::string_view(s.data() + start, i - start));
  // name -> sections by index (RFC 2231 continuations); index -1: plain.
  std::map<std::string, std::map<int, Section>> raw_params;
  int count = 0;
  while (i < s.size() && count < kMaxParams) {
    SkipBlanksAndComments(s, i);
    if (i < s.size() && s[i] == ';') {
      ++i;
      continue;
    }
    if (i >= s.size()) break;
    const std::size_t name_start = i;
    while (i < s.size() && IsTokenChar(s[i])) ++i;
    std::string name = absl::AsciiStrToLower(absl::string_view(s.data() + name_start, i - name_start));
    SkipBlanksAndComments(s, i);
    if (name.empty() || i >= s.size() || s[i] != '=') {
      out.malformed = true;
      while (i < s.size() && s[i] != ';') ++i;  // resynchronise at the next parameter
      continue;
    }
    ++i;
    SkipBlanksAndComments(s, i);
    std::string value;
    if (i < s.size() && s[i] == '"') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          value += s[i + 1];
          i += 2;
        } else if (s[i] == '"') {
          ++i;
          closed = true;
          break;
        } else {
          value += s[i++];
        }
      }
      out.malformed = out.malformed || !closed;
    } else {
      // Unquoted: up to ';' (blanks inside kept: broken mailers send
      // unquoted file names with spaces).
      const std::size_t v_start = i;
      while (i < s.size() && s[i] != ';') ++i;
      value = std::string(absl::StripTrailingAsciiWhitespace(absl::string_view(s.data() + v_start, i - v_start)));
    }
    ++count;
    Section section;
    int index = -1;
    if (std::size_t star = name.find('*'); star != std::string::npos) {
      std::string_view rest = std::string_view(name).substr(star + 1);
      section.extended = !rest.empty() && rest.back() == '*';
      if (rest.empty()) section.extended = true, index = 0;
      if (section.extended && !rest.empty()) rest.remove_suffix(1);
      if (!rest.empty()) {
        index = 0;
        for (char c : rest) {
          if (!absl::ascii_isdigit(c) || index > 1000) {
            index = -2;
            break;
          }
          index = index * 10 + (c - '0');
        }
      } else if (index < 0) {
        index = 0;
      }
      name.resize(star);
      if (index < 0 || index >= kMaxContinuations) {
        out.malformed = true;
        continue;
      }
    }
    section.raw = std::move(value);
    raw_params[name][index] = std::move(section);
  }
  for (auto& [name, sections] : raw_params) {
    if (sections.size() == 1 && sections.begin()->first == -1) {
      // A plain value: may carry RFC 2047 words (non-standard but common).
      out.params[name] = DecodeHeaderValue(sections.begin()->second.raw, fallback).text;
      continue;
    }
    sections.erase(-1);  // an extended form wins over a plain one
    std::string charset;
    std::string bytes;
    bool first = true;
    for (auto& [index, section] : sections) {
      std::string_view text = section.raw;
      if (first && section.extended) {
        // charset'language'value
        const std::size_t q1 = text.find('\'');
        const std::size_t q2 = q1 == std::string_view::npos ? q1 : text.find('\'', q1 + 1);
        if (q2 != std::string_view::npos) {
          charset = std::string(text.substr(0, q1));
          text = text.substr(q2 + 1);
        } else {
          out.malformed = true;
        }
      }
      first = false;
      bytes += section.extended ? PercentDecode(text) : std::string(text);
    }
    Utf8Text t = ToUtf8(bytes, charset, fallback);
    out.params[name] = std::move(t.text);
  }
  return out;
}

}  // namespace hive::policy::content
