#include "content/token_store.h"

#include <bit>
#include <cmath>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace hive::policy::content {
namespace {

constexpr std::string_view kMagic = "HIVEBAY3";
constexpr std::string_view kMagicV1 = "HIVEBAY1";  // counts only: refused
constexpr std::string_view kMagicV2 = "HIVEBAY2";  // no tokenizer version: refused
constexpr std::size_t kHeaderBytes = 8 + 4 + 4 + 3 * 8;  // magic, features, learns, n
constexpr std::size_t kEntryBytes = 20;

void PutU64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void PutU32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
std::uint64_t GetU64(std::string_view in, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[at + static_cast<std::size_t>(i)]);
  return v;
}
std::uint32_t GetU32(std::string_view in, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[at + static_cast<std::size_t>(i)]);
  return v;
}
std::uint64_t Checksum(std::string_view data) {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : data) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}
// Slot index from a hash whose low bits may be weak (FNV): mix first.
std::size_t Mix(std::uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  return static_cast<std::size_t>(k);
}

}  // namespace

TokenStore::Slot& TokenStore::Insert(std::uint64_t key) {
  if ((used_ + 1) * 10 > slots_.size() * 7) Grow();
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = Mix(key) & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.key == key) return s;
    if (s.key == 0) {
      s.key = key;
      ++used_;
      return s;
    }
  }
}

void TokenStore::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 1024 : old.size() * 2, Slot{});
  used_ = 0;
  for (const Slot& s : old) {
    if (s.key != 0) Insert(s.key).counts = s.counts;
  }
}

void TokenStore::Learn(std::span<const std::uint64_t> tokens, bool is_spam) {
  constexpr auto kMax = std::numeric_limits<std::uint32_t>::max();
  for (std::uint64_t t : tokens) {
    TokenCounts& c = Insert(Key(t)).counts;
    std::uint32_t& n = is_spam ? c.spam : c.ham;
    if (n < kMax) ++n;
  }
  ++(is_spam ? spam_learns_ : ham_learns_);
}

void TokenStore::AddWeight(std::span<const std::uint64_t> tokens, float delta, float keep) {
  for (std::uint64_t t : tokens) {
    float& w = Insert(Key(t)).counts.weight;
    w = w * keep + delta;
  }
}

TokenCounts TokenStore::Find(std::uint64_t token) const {
  if (slots_.empty()) return {};
  const std::uint64_t key = Key(token);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = Mix(key) & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.key == key) return s.counts;
    if (s.key == 0) return {};
  }
}

std::string TokenStore::Serialize() const {
  std::string out;
  out.reserve(kHeaderBytes + 8 + used_ * kEntryBytes);
  out.append(kMagic);
  PutU32(out, features_.tokenizer_version);
  PutU32(out, features_.flags);
  PutU64(out, spam_learns_);
  PutU64(out, ham_learns_);
  PutU64(out, used_);
  for (const Slot& s : slots_) {
    if (s.key == 0) continue;
    PutU64(out, s.key);
    PutU32(out, s.counts.spam);
    PutU32(out, s.counts.ham);
    PutU32(out, std::bit_cast<std::uint32_t>(s.counts.weight));
  }
  PutU64(out, Checksum(out));
  return out;
}

absl::StatusOr<TokenStore> TokenStore::Parse(std::string_view data) {
  const std::string_view magic = data.substr(0, kMagic.size());
  if (magic == kMagicV1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a format-1 model (token counts of the old Bayes classifier, no weights): it would score every message "
        "0.5. ",
        kRelearnModel));
  }
  if (magic == kMagicV2) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a format-2 model (written before models recorded the tokenizer version they were learned with): its "
        "tokens may not be the ones this hive-policyd makes, and it would score wrong without saying so. ",
        kRelearnModel));
  }
  const std::size_t header = kHeaderBytes;
  if (data.size() < header + 8 || magic != kMagic) {
    return absl::InvalidArgumentError("not a hive token statistics file (bad magic or too short)");
  }
  constexpr std::size_t entry = kEntryBytes;
  const std::uint64_t n = GetU64(data, header - 8);
  if (n > (data.size() - header - 8) / entry || header + n * entry + 8 != data.size()) {
    return absl::InvalidArgumentError("token statistics file is truncated or has trailing bytes");
  }
  const std::size_t body = header + n * entry;
  if (Checksum(data.substr(0, body)) != GetU64(data, body)) {
    return absl::InvalidArgumentError("token statistics file checksum mismatch (corrupted)");
  }
  TokenStore store({GetU32(data, kMagic.size()), GetU32(data, kMagic.size() + 4)});
  store.spam_learns_ = GetU64(data, kMagic.size() + 8);
  store.ham_learns_ = GetU64(data, kMagic.size() + 16);
  std::size_t capacity = 1024;
  while (capacity * 7 < n * 10 + 10) capacity *= 2;
  store.slots_.assign(capacity, Slot{});
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t at = header + i * entry;
    const std::uint64_t key = GetU64(data, at);
    if (key == 0) return absl::InvalidArgumentError("token statistics file holds a zero key");
    const float weight = std::bit_cast<float>(GetU32(data, at + 16));
    if (!std::isfinite(weight)) return absl::InvalidArgumentError("token statistics file holds a weight that is not finite");
    store.Insert(key).counts = {GetU32(data, at + 8), GetU32(data, at + 12), weight};
  }
  return store;
}

}  // namespace hive::policy::content
