#include "content/html.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "content/charset.h"

namespace hive::policy::content {
namespace {

struct Entity {
  const char* name;
  unsigned cp;
};
constexpr Entity kEntities[] = {{"amp", '&'},    {"lt", '<'},      {"gt", '>'},     {"quot", '"'},
                                {"apos", '\''},  {"nbsp", 0xA0},   {"copy", 0xA9},  {"reg", 0xAE},
                                {"middot", 0xB7}, {"hellip", 0x2026}, {"mdash", 0x2014}, {"ndash", 0x2013},
                                {"ldquo", 0x201C}, {"rdquo", 0x201D}, {"lsquo", 0x2018}, {"rsquo", 0x2019},
                                {"yen", 0xA5},   {"euro", 0x20AC}, {"times", 0xD7}, {"laquo", 0xAB},
                                {"raquo", 0xBB}, {"bull", 0x2022}, {"shy", 0xAD}};

// Decodes an entity at s[i] == '&'; returns the bytes consumed (0: none).
std::size_t DecodeEntity(std::string_view s, std::size_t i, std::string& out) {
  const std::size_t end = s.find(';', i);
  if (end == std::string_view::npos || end - i > 10 || end == i + 1) return 0;
  const std::string_view body = s.substr(i + 1, end - i - 1);
  if (body[0] == '#') {
    const bool hex = body.size() > 1 && (body[1] == 'x' || body[1] == 'X');
    const std::string digits(body.substr(hex ? 2 : 1));
    if (digits.empty()) return 0;
    for (char c : digits) {
      if (hex ? !absl::ascii_isxdigit(c) : !absl::ascii_isdigit(c)) return 0;
    }
    AppendUtf8(out, static_cast<unsigned>(std::strtoul(digits.c_str(), nullptr, hex ? 16 : 10) & 0x1FFFFF));
    return end - i + 1;
  }
  for (const Entity& e : kEntities) {
    if (body == e.name) {
      AppendUtf8(out, e.cp == 0xA0 ? ' ' : e.cp);
      return end - i + 1;
    }
  }
  return 0;
}

std::string DecodeEntities(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    // The text up to the next '&' as one run.
    const std::size_t amp = std::min(s.find('&', i), s.size());
    out.append(s.substr(i, amp - i));
    i = amp;
    if (i == s.size()) break;
    const std::size_t n = DecodeEntity(s, i, out);
    if (n == 0) out += s[i];
    i += n == 0 ? 1 : n;
  }
  return out;
}

// The value of attribute `name` in a tag's inner text, entities decoded.
std::string Attribute(std::string_view tag, std::string_view name) {
  std::size_t i = 0;
  while (i < tag.size()) {
    // Next attribute name.
    while (i < tag.size() && (absl::ascii_isspace(tag[i]) || tag[i] == '/')) ++i;
    const std::size_t n_start = i;
    while (i < tag.size() && !absl::ascii_isspace(tag[i]) && tag[i] != '=' && tag[i] != '>') ++i;
    const std::string_view attr = tag.substr(n_start, i - n_start);
    while (i < tag.size() && absl::ascii_isspace(tag[i])) ++i;
    std::string_view value;
    if (i < tag.size() && tag[i] == '=') {
      ++i;
      while (i < tag.size() && absl::ascii_isspace(tag[i])) ++i;
      if (i < tag.size() && (tag[i] == '"' || tag[i] == '\'')) {
        const char q = tag[i++];
        const std::size_t v_start = i;
        while (i < tag.size() && tag[i] != q) ++i;
        value = tag.substr(v_start, i - v_start);
        if (i < tag.size()) ++i;
      } else {
        const std::size_t v_start = i;
        while (i < tag.size() && !absl::ascii_isspace(tag[i])) ++i;
        value = tag.substr(v_start, i - v_start);
      }
    }
    if (absl::EqualsIgnoreCase(absl::string_view(attr.data(), attr.size()), absl::string_view(name.data(), name.size()))) {
      return std::string(absl::StripAsciiWhitespace(DecodeEntities(value)));
    }
    if (attr.empty() && i < tag.size()) ++i;  // stray character: make progress
  }
  return "";
}

bool IsBlockTag(std::string_view name) {
  static constexpr std::string_view kBlocks[] = {"p", "br", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5",
                                                 "h6", "table", "td", "th", "ul", "ol", "blockquote", "hr",
                                                 "title", "pre", "center"};
  for (std::string_view b : kBlocks) {
    if (name == b) return true;
  }
  return false;
}

bool IsCollapsedSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Appends `text` with every run of blanks as one space (none at the start
// of `out` or after a space or line end already there).
void AppendCollapsed(std::string& out, std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    if (IsCollapsedSpace(text[i])) {
      if (!out.empty() && out.back() != ' ' && out.back() != '\n') out += ' ';
      ++i;
      continue;
    }
    // The non-blank run as one append.
    std::size_t end = i + 1;
    while (end < text.size() && !IsCollapsedSpace(text[end])) ++end;
    out.append(text.substr(i, end - i));
    i = end;
  }
}

}  // namespace

HtmlText HtmlToText(std::string_view html) {
  HtmlText out;
  out.text.reserve(html.size() / 2);
  std::string link_text;
  bool in_link = false;
  std::size_t i = 0;
  while (i < html.size()) {
    if (html[i] != '<') {
      std::size_t next = html.find('<', i);
      if (next == std::string_view::npos) next = html.size();
      // Most runs hold no entity: collapse them in place, no copy.
      const std::string_view run = html.substr(i, next - i);
      const std::string decoded = run.find('&') == std::string_view::npos ? std::string() : DecodeEntities(run);
      const std::string_view text = decoded.empty() ? run : std::string_view(decoded);
      AppendCollapsed(out.text, text);
      if (in_link) AppendCollapsed(link_text, text);
      i = next;
      continue;
    }
    if (html.substr(i, 4) == "<!--") {
      const std::size_t end = html.find("-->", i + 4);
      i = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    const std::size_t end = html.find('>', i + 1);
    if (end == std::string_view::npos) {  // unterminated tag: the rest is not text
      break;
    }
    std::string_view tag = html.substr(i + 1, end - i - 1);
    i = end + 1;
    const bool closing = !tag.empty() && tag[0] == '/';
    if (closing) tag.remove_prefix(1);
    std::size_t n = 0;
    while (n < tag.size() && (absl::ascii_isalnum(tag[n]) || tag[n] == '!')) ++n;
    const std::string name = absl::AsciiStrToLower(absl::string_view(tag.data(), n));
    if (!closing && (name == "script" || name == "style" || name == "head")) {
      // Skip to the matching end tag; invisible text is not what the
      // recipient reads (but URLs in it are still found by the raw rules).
      std::string close = "</";
      close += name;
      std::size_t j = i;
      while (j < html.size()) {
        j = html.find("</", j);
        if (j == std::string_view::npos) break;
        if (absl::StartsWithIgnoreCase(absl::string_view(html.data() + j, std::min(close.size(), html.size() - j)),
                                       close)) {
          break;
        }
        j += 2;
      }
      if (j == std::string_view::npos) {
        i = html.size();
      } else {
        const std::size_t e = html.find('>', j);
        i = e == std::string_view::npos ? html.size() : e + 1;
      }
      continue;
    }
    if (IsBlockTag(name) && !out.text.empty() && out.text.back() != '\n') {
      if (out.text.back() == ' ') out.text.back() = '\n';
      else out.text += '\n';
    }
    if (name == "a") {
      if (closing) {
        if (in_link && !out.links.empty()) {
          out.links.back().text = std::string(absl::StripAsciiWhitespace(link_text));
        }
        in_link = false;
      } else if (out.links.size() < kMaxLinks) {
        std::string href = Attribute(tag.substr(n), "href");
        if (!href.empty()) {
          out.links.push_back({std::move(href), ""});
          in_link = true;
          link_text.clear();
        }
      }
    } else if (name == "img" && !closing && out.image_sources.size() < kMaxLinks) {
      out.image_sources.push_back(Attribute(tag.substr(n), "src"));
      const std::string alt = Attribute(tag.substr(n), "alt");
      if (!alt.empty() && !out.text.empty() && out.text.back() != ' ' && out.text.back() != '\n') out.text += ' ';
      AppendCollapsed(out.text, alt);
    }
  }
  if (in_link && !out.links.empty()) out.links.back().text = std::string(absl::StripAsciiWhitespace(link_text));
  while (!out.text.empty() && (out.text.back() == ' ' || out.text.back() == '\n')) out.text.pop_back();
  return out;
}

}  // namespace hive::policy::content
