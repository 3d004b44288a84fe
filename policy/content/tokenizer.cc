#include "content/tokenizer.h"

#include <algorithm>

#include "content/checks.h"

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
};

constexpr std::uint64_t kFnvOffset = 14695981039346656037ull;
constexpr std::uint64_t kFnvPrime = 1099511628211ull;
constexpr std::size_t kMaxWordBytes = 24;

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

// One pass over text: words, numbers and CJK n-grams, each emitted as a
// hash of (prefix kind, kind, text) through `emit`.
template <typename Emit>
void Scan(std::string_view text, unsigned char prefix, Emit emit) {
  Fnv word;
  std::size_t word_bytes = 0;
  bool word_has_letter = false;
  char32_t prev_cjk = 0;
  std::size_t cjk_run = 0;
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
      emit(f.h);
    } else if (word_bytes >= 2) {
      emit(word.h);
    }
    word_bytes = 0;
    word_has_letter = false;
  };
  auto end_cjk = [&]() {
    if (cjk_run == 1) {
      Fnv f = start(kCjkUnigram);
      f.Add32(prev_cjk);
      emit(f.h);
    }
    cjk_run = 0;
  };
  std::size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp = NextCodePoint(text, pos);
    if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0;  // full-width ASCII
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
        emit(f.h);
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
}

void AddHostToken(unsigned char kind, std::string_view host, std::vector<std::uint64_t>& out) {
  if (host.empty()) return;
  Fnv f;
  f.Add(kind);
  for (char c : host) f.Add(static_cast<unsigned char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
  out.push_back(f.h);
}

}  // namespace

void TokenizeText(std::string_view text, std::vector<std::uint64_t>& out) {
  const std::size_t limit = out.size() + kMaxTokens;
  Scan(text, 0, [&](std::uint64_t h) {
    if (out.size() < limit) out.push_back(h);
  });
}

void Tokenize(const ParsedMessage& parsed, Tokens& out) {
  out.body.clear();
  out.features.clear();
  TokenizeText(parsed.text, out.body);
  out.features.assign(out.body.begin(), out.body.end());
  Scan(parsed.subject, kSubject, [&](std::uint64_t h) {
    if (out.features.size() < 2 * kMaxTokens) out.features.push_back(h);
  });
  if (const std::string* from = FindHeader(parsed.headers, "From")) {
    AddHostToken(kFromDomain, AddressDomain(*from), out.features);
  }
  for (const Url& url : parsed.urls) AddHostToken(kUrlHost, url.host, out.features);
  std::sort(out.features.begin(), out.features.end());
  out.features.erase(std::unique(out.features.begin(), out.features.end()), out.features.end());
}

}  // namespace hive::policy::content
