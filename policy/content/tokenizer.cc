#include "content/tokenizer.h"

#include <algorithm>

#include "content/checks.h"
#include "content/domain.h"

namespace hive::policy::content {
namespace {

// Token kinds: the first byte hashed, so that the word "cn" in a subject,
// the host "cn" and the body word "cn" are different tokens.
enum Kind : unsigned char {
  kWord = 'w',
  kNumber = 'n',
  kCjkBigram = 'C',
  kCjkUnigram = 'c',
  kSubject = 's',  // added to the body kind of a subject token
  kFromDomain = 'f',
  kUrlHost = 'u',
  kUrlDomain = 'r',  // registrable domain of a URL host (Public Suffix List)
  kUrlTld = 't',     // its last label
  kUrlPath = 'P',    // prefix of the words of a URL's path and query
  kPunct = 'p',      // a run of symbols: "!!!", "://", "★", "【"
  kLineStart = 'L',  // the symbol a line starts with: "> ", ": ", "※"
  // Structure and header shapes (Tokenize with structure = true):
  kStructure = 'S',     // counts of parts, URLs, links, text size; anomalies
  kAttachType = 'A',    // declared type of each attachment
  kContentType = 'T',   // top-level Content-Type
};

constexpr std::uint64_t kFnvOffset = 14695981039346656037ull;
constexpr std::uint64_t kFnvPrime = 1099511628211ull;
constexpr std::size_t kMaxWordBytes = 24;
constexpr std::size_t kMaxPunctRun = 4;  // code points of a symbol run hashed

struct Fnv {
  std::uint64_t h = kFnvOffset;
  void Add(unsigned char c) { h = (h ^ c) * kFnvPrime; }
  void Add32(char32_t cp) {
    for (int i = 0; i < 4; ++i) Add(static_cast<unsigned char>(cp >> (8 * i)));
  }
};

// Decodes one UTF-8 sequence at text[pos]; invalid bytes decode as U+FFFD
// (a separator), one byte at a time.
char32_t NextCodePoint(std::string_view text, std::size_t& pos) {
  const auto b = static_cast<unsigned char>(text[pos++]);
  if (b < 0x80) return b;
  int extra = b >= 0xF0 && b < 0xF8 ? 3 : b >= 0xE0 ? 2 : b >= 0xC2 && b < 0xE0 ? 1 : -1;
  if (extra < 0 || pos + static_cast<std::size_t>(extra) > text.size()) return 0xFFFD;
  char32_t cp = b & (0x3F >> extra);
  for (int i = 0; i < extra; ++i) {
    const auto c = static_cast<unsigned char>(text[pos + static_cast<std::size_t>(i)]);
    if ((c & 0xC0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (c & 0x3F);
  }
  pos += static_cast<std::size_t>(extra);
  return cp;
}

bool IsCjk(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0xAC00 && cp <= 0xD7AF) || (cp >= 0x20000 && cp <= 0x2FFFF);
}

// Letters of alphabetic scripts that write words with spaces: ASCII, Latin
// supplements and extensions, Greek, Cyrillic.
bool IsLetter(char32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  return (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7) || (cp >= 0x370 && cp <= 0x4FF);
}

bool IsDigit(char32_t cp) { return cp >= '0' && cp <= '9'; }

bool IsSpace(char32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n' || cp == '\f' || cp == '\v' || cp == 0xA0 ||
         cp == 0x3000 || cp == 0xFFFD;
}

// One pass over text: words, numbers and CJK n-grams, each emitted as a
// hash of (prefix kind, kind, text) through `emit(hash, false)`; symbol
// runs and line-start symbols through `emit(hash, true)` (classifier
// features only: fingerprints read words).
template <typename Emit>
void Scan(std::string_view text, unsigned char prefix, Emit emit) {
  Fnv word;
  std::size_t word_bytes = 0;
  bool word_has_letter = false;
  char32_t prev_cjk = 0;
  std::size_t cjk_run = 0;
  Fnv punct;
  std::size_t punct_run = 0;
  bool line_start = true;
  auto start = [&](unsigned char kind) {
    Fnv f;
    if (prefix != 0) f.Add(prefix);
    f.Add(kind);
    return f;
  };
  auto end_word = [&]() {
    if (word_bytes == 0) return;
    if (!word_has_letter) {
      Fnv f = start(kNumber);
      f.Add(static_cast<unsigned char>(std::min<std::size_t>(word_bytes, 16)));
      emit(f.h, false);
    } else if (word_bytes >= 2) {
      emit(word.h, false);
    }
    word_bytes = 0;
    word_has_letter = false;
  };
  auto end_cjk = [&]() {
    if (cjk_run == 1) {
      Fnv f = start(kCjkUnigram);
      f.Add32(prev_cjk);
      emit(f.h, false);
    }
    cjk_run = 0;
  };
  auto end_punct = [&]() {
    if (punct_run > 0) emit(punct.h, true);
    punct_run = 0;
  };
  std::size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp = NextCodePoint(text, pos);
    if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0;  // full-width ASCII
    const bool space = IsSpace(cp);
    const bool symbol = !space && !IsLetter(cp) && !IsDigit(cp) && !IsCjk(cp);
    if (line_start && symbol) {
      Fnv f = start(kLineStart);
      f.Add32(cp);
      emit(f.h, true);
    }
    if (cp == '\n') line_start = true;
    else if (!space) line_start = false;
    if (symbol) {
      end_word();
      end_cjk();
      if (punct_run == 0) punct = start(kPunct);
      if (punct_run < kMaxPunctRun) punct.Add32(cp);
      ++punct_run;
      continue;
    }
    end_punct();
    if (IsLetter(cp) || IsDigit(cp)) {
      end_cjk();
      if (word_bytes == 0) word = start(kWord);
      if (word_bytes < kMaxWordBytes) {
        if (cp < 0x80) {
          // Digits inside a word are masked: "A12345" and "A67890" are one token.
          const char32_t c = IsDigit(cp) ? U'#' : (cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
          word.Add(static_cast<unsigned char>(c));
        } else {
          word.Add32(cp);
        }
      }
      ++word_bytes;
      word_has_letter = word_has_letter || IsLetter(cp);
    } else if (IsCjk(cp)) {
      end_word();
      if (cjk_run > 0) {
        Fnv f = start(kCjkBigram);
        f.Add32(prev_cjk);
        f.Add32(cp);
        emit(f.h, false);
      }
      prev_cjk = cp;
      ++cjk_run;
    } else {
      end_word();
      end_cjk();
    }
  }
  end_word();
  end_cjk();
  end_punct();
}

// A (kind, lower-cased text) token.
void AddHostToken(unsigned char kind, std::string_view host, std::vector<std::uint64_t>& out) {
  if (host.empty()) return;
  Fnv f;
  f.Add(kind);
  for (char c : host) f.Add(static_cast<unsigned char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
  out.push_back(f.h);
}

// A (structure, name, small value) token.
void AddStructureToken(std::string_view name, std::size_t value, std::vector<std::uint64_t>& out) {
  Fnv f;
  f.Add(kStructure);
  for (char c : name) f.Add(static_cast<unsigned char>(c));
  f.Add(static_cast<unsigned char>(std::min<std::size_t>(value, 255)));
  out.push_back(f.h);
}

// Bit length: 0, 1, 2-3, 4-7, ... share a token.
std::size_t Magnitude(std::size_t n) {
  std::size_t b = 0;
  for (; n != 0; n >>= 1) ++b;
  return b;
}

void AddStructureTokens(const ParsedMessage& parsed, std::vector<std::uint64_t>& out) {
  AddStructureToken("parts", static_cast<std::size_t>(std::max(parsed.parts, 0)), out);
  AddStructureToken("plain", static_cast<std::size_t>(std::clamp(parsed.plain_parts, 0, 4)), out);
  AddStructureToken("html", static_cast<std::size_t>(std::clamp(parsed.html_parts, 0, 4)), out);
  AddStructureToken("image", static_cast<std::size_t>(std::clamp(parsed.image_parts, 0, 4)), out);
  AddStructureToken("attachments", std::min<std::size_t>(parsed.attachments.size(), 4), out);
  AddStructureToken("urls", Magnitude(parsed.urls.size()), out);
  AddStructureToken("links", Magnitude(parsed.links.size()), out);
  AddStructureToken("text", Magnitude(parsed.text.size()), out);
  const Anomalies& a = parsed.anomalies;
  const std::size_t anomalies = (a.bad_base64 ? 1 : 0) | (a.bad_qp ? 2 : 0) | (a.unknown_charset ? 4 : 0) |
                                (a.charset_errors ? 8 : 0) | (a.bad_encoded_word ? 16 : 0) |
                                (a.missing_boundary ? 32 : 0) | (a.bad_header_line ? 64 : 0) |
                                (a.bad_params ? 128 : 0);
  AddStructureToken("anomalies", anomalies, out);
  for (const Attachment& at : parsed.attachments) AddHostToken(kAttachType, at.declared_type, out);
  if (const std::string* type = FindHeader(parsed.headers, "Content-Type")) {
    const std::string_view v(*type);
    AddHostToken(kContentType, v.substr(0, v.find(';')), out);
  }
}

// A URL's host, registrable domain, top-level label, and the words of its
// path and query ("/cheap-meds/buy.php?id=1" -> cheap, meds, buy, php, id,
// a number).
void AddUrlTokens(const Url& url, std::vector<std::uint64_t>& out) {
  AddHostToken(kUrlHost, url.host, out);
  const std::string domain = RegistrableDomain(url.host);
  if (domain != url.host) AddHostToken(kUrlDomain, domain, out);
  const std::string_view host(url.host);
  if (const std::size_t dot = host.rfind('.'); dot != std::string_view::npos) AddHostToken(kUrlTld, host.substr(dot + 1), out);
  const std::string_view u(url.url);
  const std::size_t scheme = u.find("://");
  const std::size_t path = u.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  if (path == std::string_view::npos) return;
  Scan(u.substr(path, 512), kUrlPath, [&](std::uint64_t h, bool symbol) {
    if (!symbol) out.push_back(h);
  });
}

}  // namespace

void TokenizeText(std::string_view text, std::vector<std::uint64_t>& out) {
  const std::size_t limit = out.size() + kMaxTokens;
  Scan(text, 0, [&](std::uint64_t h, bool symbol) {
    if (!symbol && out.size() < limit) out.push_back(h);
  });
}

void Tokenize(const ParsedMessage& parsed, Tokens& out, bool structure) {
  out.body.clear();
  out.features.clear();
  // Words go to both lists, symbols to the features only.
  Scan(parsed.text, 0, [&](std::uint64_t h, bool symbol) {
    if (!symbol && out.body.size() < kMaxTokens) out.body.push_back(h);
    if (out.features.size() < 2 * kMaxTokens) out.features.push_back(h);
  });
  // The subject twice: as subject tokens, and as text like the body's (a
  // word says the same in both places, and a short message is mostly its
  // subject).
  for (const unsigned char prefix : {static_cast<unsigned char>(kSubject), static_cast<unsigned char>(0)}) {
    Scan(parsed.subject, prefix, [&](std::uint64_t h, bool) {
      if (out.features.size() < 3 * kMaxTokens) out.features.push_back(h);
    });
  }
  if (const std::string* from = FindHeader(parsed.headers, "From")) {
    AddHostToken(kFromDomain, AddressDomain(*from), out.features);
  }
  for (const Url& url : parsed.urls) AddUrlTokens(url, out.features);
  if (structure) AddStructureTokens(parsed, out.features);
  std::sort(out.features.begin(), out.features.end());
  out.features.erase(std::unique(out.features.begin(), out.features.end()), out.features.end());
}

}  // namespace hive::policy::content
