// URL extraction from decoded text and HTML links, with the obfuscations
// spammers use to slip past naive matchers: "hxxp://", "example[.]com",
// "example(dot)com", full-width and ideographic dots ("example。com",
// common in Chinese spam), "http://trusted.com@evil.com", percent-encoded
// and upper-case hosts, and bare domains without a scheme ("www.x.com",
// "x.cn/path" when the top-level domain is a known one).
//
// Contract: never fails; returns at most `max_urls` URLs, de-duplicated, in
// order of appearance; each has a lower-cased host without a trailing dot.
//
// Thread-safety: pure functions (the RE2 objects are immutable statics).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hive::policy::content {

struct Url {
  std::string url;   // as normalised: scheme://host/rest
  std::string host;  // lower case, IDN left as UTF-8
  bool obfuscated = false;  // found only after undoing an obfuscation
};

// Replaces the dot and scheme obfuscations listed above with their plain
// form. UTF-8 in, UTF-8 out.
std::string Deobfuscate(std::string_view text);

std::vector<Url> ExtractUrls(std::string_view text, std::size_t max_urls = 256);

// Parses one URL (an href): host and normalised form; false when it has no
// host (mailto:, relative links, javascript:).
bool ParseUrl(std::string_view href, Url& out);

}  // namespace hive::policy::content
