// HTML to text for scoring: the visible text, the links (href + the text
// shown for them) and the images of an HTML part.
//
// Contract: a forgiving single pass over the input, never fails, output
// size <= input size plus entity expansion (bounded: one entity is at most
// 4 bytes of UTF-8 for >= 3 bytes of input). Script, style and head
// contents and comments are dropped; block elements become line breaks;
// entities (named common ones, &#N;, &#xH;) are decoded. At most kMaxLinks
// links are kept. Input must be UTF-8 (convert first).
//
// Thread-safety: pure function.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hive::policy::content {

inline constexpr std::size_t kMaxLinks = 512;

struct HtmlLink {
  std::string href;
  std::string text;  // visible text inside <a>..</a>, whitespace collapsed
};

struct HtmlText {
  std::string text;
  std::vector<HtmlLink> links;
  std::vector<std::string> image_sources;  // <img src>, at most kMaxLinks
};

HtmlText HtmlToText(std::string_view html);

}  // namespace hive::policy::content
