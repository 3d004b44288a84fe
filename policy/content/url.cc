#include "content/url.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <set>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <re2/re2.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace hive::policy::content {
namespace {

absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Top-level domains accepted for a bare domain without scheme or "www.":
// the common ones, so that "file.txt" or "e.g" are not taken for hosts.
constexpr char kBareDomain[] =
    R"re((?i)(?:^|[^a-z0-9@._%+-])((?:[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\.)+)re"
    R"re((?:com|net|org|cn|info|biz|top|xyz|ru|io|co|uk|de|jp|hk|tw|us|me|cc|tv|site|online|club|vip|shop|link|)re"
    R"re(ly|gl|in|ws|su|pw|tk|ml|ga|cf|gq|win|loan|work|click|email|live|store|app|fr|it|nl|es|br|kr))\b)re"
    R"re(((?:[/:?#][^\s<>"'\x{3000}-\x{303F}\x{FF00}-\x{FFEF}]*)?))re";
// "www." names a host whatever its top-level domain.
constexpr char kWwwDomain[] =
    R"re((?i)(?:^|[^a-z0-9@._%+-])(www\.(?:[a-z0-9-]{1,63}\.)+[a-z]{2,63})\b)re"
    R"re(((?:[/:?#][^\s<>"'\x{3000}-\x{303F}\x{FF00}-\x{FFEF}]*)?))re";
constexpr char kSchemeUrl[] = R"re((?i)\b((?:https?|ftp)://[^\s<>"'\x{3000}-\x{303F}\x{FF00}-\x{FFEF}]+))re";

const RE2& BareDomainRe() {
  static const RE2 re(kBareDomain);
  return re;
}
const RE2& WwwDomainRe() {
  static const RE2 re(kWwwDomain);
  return re;
}
const RE2& SchemeUrlRe() {
  static const RE2 re(kSchemeUrl);
  return re;
}

// Obfuscations undone before URLs are looked for, longest first where one
// is the prefix of another.
constexpr std::pair<std::string_view, std::string_view> kSwaps[] = {
    {"[.]", "."},          {"(.)", "."},         {"{.}", "."},       {"[dot]", "."},
    {"(dot)", "."},        {"\xE3\x80\x82", "."},  // 。 ideographic full stop
    {"\xEF\xBC\x8E", "."},                        // ． full-width full stop
    {"\xEF\xBD\xA1", "."},                        // ｡ half-width ideographic full stop
    {"\xEF\xBC\x9A", ":"},                        // ： full-width colon
    {"\xEF\xBC\x8F", "/"},                        // ／ full-width solidus
    {"hxxp", "http"},      {"HXXP", "http"},     {"h**p", "http"},  {"[:]", ":"}};

// Every swap is at least 3 bytes long.
constexpr std::size_t kMinSwap = 3;
static_assert(std::all_of(std::begin(kSwaps), std::end(kSwaps), [](const auto& s) { return s.first.size() >= kMinSwap; }));

// The bytes a swap can start with, then its first two bytes as a
// 65,536-bit set: text between them is copied in runs instead of being
// compared against every swap byte by byte (that compare was most of the
// parser's time on long text), and a swap is compared only where its first
// two bytes are ('h' is common text; "hx" and "h*" are not).
constexpr std::array<bool, 256> kSwapStart = [] {
  std::array<bool, 256> t{};
  for (const auto& swap : kSwaps) t[static_cast<unsigned char>(swap.first[0])] = true;
  return t;
}();
constexpr std::size_t Pair(unsigned char a, unsigned char b) { return std::size_t{a} << 8 | b; }
constexpr std::array<std::uint64_t, 65536 / 64> kSwapPairs = [] {
  std::array<std::uint64_t, 65536 / 64> t{};
  for (const auto& swap : kSwaps) {
    const std::size_t p = Pair(static_cast<unsigned char>(swap.first[0]), static_cast<unsigned char>(swap.first[1]));
    t[p / 64] |= std::uint64_t{1} << (p % 64);
  }
  return t;
}();

bool SwapPairAt(std::string_view text, std::size_t i) {
  const std::size_t p = Pair(static_cast<unsigned char>(text[i]), static_cast<unsigned char>(text[i + 1]));
  return (kSwapPairs[p / 64] >> (p % 64) & 1) != 0;
}

// The swap at text[i], or null.
const std::pair<std::string_view, std::string_view>* SwapAt(std::string_view text, std::size_t i) {
  for (const auto& swap : kSwaps) {
    if (swap.first[0] == text[i] && text.compare(i, swap.first.size(), swap.first) == 0) return &swap;
  }
  return nullptr;
}

// The first position at or after `from` where a swap applies, or npos.
// With SSE2 (every x86-64) 16 bytes are tested at once for the bytes a swap
// starts with: on long text this scan is most of the deobfuscation's cost.
std::size_t FirstSwap(std::string_view text, std::size_t from) {
  if (text.size() < kMinSwap) return std::string_view::npos;
  const std::size_t end = text.size() - kMinSwap + 1;  // a swap needs kMinSwap bytes
  const auto swap_at = [&](std::size_t i) { return SwapPairAt(text, i) && SwapAt(text, i) != nullptr; };
  std::size_t i = from;
#ifdef __SSE2__
  static constexpr std::size_t kStartCount = std::count(kSwapStart.begin(), kSwapStart.end(), true);
  static constexpr auto kStarts = [] {
    std::array<char, kStartCount> starts{};
    std::size_t n = 0;
    for (std::size_t b = 0; b < kSwapStart.size(); ++b) {
      if (kSwapStart[b]) starts[n++] = static_cast<char>(b);
    }
    return starts;
  }();
  for (; i + 16 <= end; i += 16) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + i));
    __m128i hit = _mm_setzero_si128();
    for (char c : kStarts) hit = _mm_or_si128(hit, _mm_cmpeq_epi8(chunk, _mm_set1_epi8(c)));
    for (unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(hit)); mask != 0; mask &= mask - 1) {
      const std::size_t at = i + static_cast<std::size_t>(__builtin_ctz(mask));
      if (swap_at(at)) return at;
    }
  }
#endif
  for (; i < end; ++i) {
    if (kSwapStart[static_cast<unsigned char>(text[i])] && swap_at(i)) return i;
  }
  return std::string_view::npos;
}

// Deobfuscate(text), given the first swap (not npos).
std::string DeobfuscateFrom(std::string_view text, std::size_t first) {
  std::string out;
  out.reserve(text.size());
  std::size_t done = 0;
  for (std::size_t i = first; i != std::string_view::npos; i = FirstSwap(text, i)) {
    const auto* swap = SwapAt(text, i);
    out.append(text.substr(done, i - done));
    out.append(swap->second);
    i += swap->first.size();
    done = i;
  }
  out.append(text.substr(done));
  return out;
}

// What a URL finder needs to scan for, so that passes that cannot match
// are skipped (most text has no URL at all).
struct UrlHints {
  bool scheme = false;  // "://"
  bool www = false;     // "www." in any case
  bool dotted = false;  // a '.' followed by a letter: some "label.tld"
};

UrlHints HintsOf(std::string_view text) {
  UrlHints h;
  h.scheme = text.find("://") != std::string_view::npos;
  for (std::size_t dot = text.find('.'); dot != std::string_view::npos; dot = text.find('.', dot + 1)) {
    // Non-ASCII counts too: RE2's case folding lets "\u017F" match 's' and
    // "\u212A" 'k', so only ASCII non-letters rule a top-level domain out.
    const unsigned char next = dot + 1 < text.size() ? static_cast<unsigned char>(text[dot + 1]) : 0;
    if (next >= 0x80 || absl::ascii_isalpha(next)) h.dotted = true;
    if (dot >= 3 && absl::EqualsIgnoreCase(AV(text.substr(dot - 3, 3)), "www")) h.www = true;
    if (h.dotted && h.www) break;
  }
  return h;
}

std::string PercentDecodeHost(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && absl::ascii_isxdigit(s[i + 1]) && absl::ascii_isxdigit(s[i + 2])) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::string Deobfuscate(std::string_view text) {
  const std::size_t first = FirstSwap(text, 0);
  return first == std::string_view::npos ? std::string(text) : DeobfuscateFrom(text, first);
}

bool ParseUrl(std::string_view href_in, Url& out) {
  const absl::string_view stripped = absl::StripAsciiWhitespace(AV(href_in));
  std::string_view href(stripped.data(), stripped.size());
  std::string scheme = "http";
  std::string_view rest = href;
  if (std::size_t colon = href.find("://"); colon != std::string_view::npos && colon < 10) {
    scheme = absl::AsciiStrToLower(absl::string_view(href.data(), colon));
    if (scheme != "http" && scheme != "https" && scheme != "ftp") return false;
    rest = href.substr(colon + 3);
  } else if (absl::StartsWith(absl::string_view(href.data(), href.size()), "//")) {
    rest = href.substr(2);
  } else if (!absl::StartsWithIgnoreCase(absl::string_view(href.data(), href.size()), "www.")) {
    return false;  // mailto:, javascript:, relative
  }
  const std::size_t host_end = rest.find_first_of("/?#\\");
  std::string_view authority = rest.substr(0, host_end);
  // "trusted.com@evil.com": the host is after the last '@'.
  if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) authority = authority.substr(at + 1);
  if (authority.size() > 0 && authority.front() != '[') {
    if (std::size_t colon = authority.find(':'); colon != std::string_view::npos) authority = authority.substr(0, colon);
  }
  std::string host = PercentDecodeHost(authority);
  absl::AsciiStrToLower(&host);
  while (!host.empty() && host.back() == '.') host.pop_back();
  if (host.empty() || host.size() > 253 || host.find_first_of(" \t<>\"'") != std::string::npos) return false;
  const std::string_view path = host_end == std::string_view::npos ? std::string_view() : rest.substr(host_end);
  out.url.clear();
  out.url.reserve(scheme.size() + 3 + host.size() + path.size());
  out.url.append(scheme).append("://").append(host).append(path);
  out.host = std::move(host);
  return true;
}

std::vector<Url> ExtractUrls(std::string_view text, std::size_t max_urls) {
  std::vector<Url> urls;
  std::set<std::string> seen;
  auto add = [&](std::string_view candidate, bool obfuscated) {
    if (urls.size() >= max_urls) return;
    // Trailing punctuation belongs to the sentence, not the URL.
    while (!candidate.empty() && std::string_view(".,;:!?)]}>'\"").find(candidate.back()) != std::string_view::npos) {
      candidate.remove_suffix(1);
    }
    Url u;
    std::string with_scheme(candidate);
    if (!absl::StrContains(with_scheme, "://")) with_scheme = "http://" + with_scheme;
    if (!ParseUrl(with_scheme, u)) return;
    u.obfuscated = obfuscated;
    if (seen.insert(u.url).second) urls.push_back(std::move(u));
  };
  // Unchanged text (the common case) is scanned in place, not copied.
  const std::size_t first_swap = FirstSwap(text, 0);
  const bool changed = first_swap != std::string_view::npos;
  const std::string swapped = changed ? DeobfuscateFrom(text, first_swap) : std::string();
  const std::string_view plain = changed ? std::string_view(swapped) : text;
  const UrlHints hints = HintsOf(plain);
  auto obfuscated = [&](std::string_view candidate) { return changed && !absl::StrContains(AV(text), AV(candidate)); };
  re2::StringPiece input(plain.data(), plain.size());
  re2::StringPiece match;
  while (hints.scheme && urls.size() < max_urls && RE2::FindAndConsume(&input, SchemeUrlRe(), &match)) {
    add(std::string_view(match.data(), match.size()), obfuscated(std::string_view(match.data(), match.size())));
  }
  for (const auto& [re, possible] : {std::pair{&WwwDomainRe(), hints.www}, std::pair{&BareDomainRe(), hints.dotted}}) {
    if (!possible) continue;
    input = re2::StringPiece(plain.data(), plain.size());
    re2::StringPiece host, path;
    while (urls.size() < max_urls && RE2::FindAndConsume(&input, *re, &host, &path)) {
      const std::size_t pos = static_cast<std::size_t>(host.data() - plain.data());
      // The host of a URL found with its scheme.
      if (pos >= 3 && plain.compare(pos - 3, 3, "://") == 0) continue;
      const std::string_view candidate(host.data(), static_cast<std::size_t>(path.data() + path.size() - host.data()));
      add(candidate, obfuscated(candidate));
    }
  }
  return urls;
}

}  // namespace hive::policy::content
