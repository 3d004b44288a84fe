#include "content/fingerprint.h"

#include <openssl/evp.h>


#include <algorithm>
#include <array>
#include <bit>
#include <mutex>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "support/atomic_file.h"

namespace hive::policy::content {
namespace {

// Spreads a (FNV) token hash over all 64 bits (splitmix64's finaliser).
std::uint64_t Mix(std::uint64_t k) {
  k ^= k >> 31;
  k *= 0xBF58476D1CE4E5B9ull;
  k ^= k >> 29;
  return k;
}

}  // namespace

std::optional<std::uint64_t> SimHash(std::span<const std::uint64_t> body_tokens, std::size_t min_tokens) {
  if (body_tokens.size() < std::max<std::size_t>(min_tokens, 2)) return std::nullopt;
  std::array<std::int64_t, 64> votes{};
  for (std::uint64_t token : body_tokens) {
    const std::uint64_t h = Mix(token);
    for (int bit = 0; bit < 64; ++bit) votes[static_cast<std::size_t>(bit)] += (h >> bit) & 1 ? 1 : -1;
  }
  std::uint64_t out = 0;
  for (int bit = 0; bit < 64; ++bit) {
    if (votes[static_cast<std::size_t>(bit)] > 0) out |= std::uint64_t{1} << bit;
  }
  return out;
}

int HammingDistance(std::uint64_t a, std::uint64_t b) { return std::popcount(a ^ b); }

std::string ContentHash(std::span<const std::uint64_t> body_tokens, std::size_t min_tokens) {
  if (body_tokens.size() < std::max<std::size_t>(min_tokens, 2)) return "";
  std::string bytes;
  bytes.reserve(body_tokens.size() * 8);
  for (std::uint64_t token : body_tokens) {
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>(token >> (8 * i)));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &n, EVP_sha256(), nullptr) != 1 || n < 16) return "";
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), 16));
}

absl::StatusOr<std::shared_ptr<FingerprintStore>> FingerprintStore::Open(std::string path) {
  std::shared_ptr<FingerprintStore> store(new FingerprintStore(path));
  if (path.empty()) return store;
  absl::StatusOr<std::string> data = hive::support::ReadWholeFile(path);
  if (absl::IsNotFound(data.status())) return store;
  if (!data.ok()) return data.status();
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(*data, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(line, absl::MaxSplits(' ', 1));
    std::uint64_t fp = 0;
    if (parts.first.size() != 16 || !absl::SimpleHexAtoi(parts.first, &fp)) {
      return absl::InvalidArgumentError(absl::StrFormat("%s:%d: expected '<16 hex digits> <label>'", path, line_no));
    }
    if (absl::Status s = store->Add(fp, std::string(absl::StripAsciiWhitespace(parts.second))); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrFormat("%s:%d: %s", path, line_no, s.message()));
    }
  }
  return store;
}

std::optional<FingerprintMatch> FingerprintStore::Match(std::uint64_t fingerprint, int max_distance) const {
  std::shared_lock lock(mu_);
  std::optional<FingerprintMatch> best;
  for (const Entry& e : entries_) {
    const int d = HammingDistance(e.fingerprint, fingerprint);
    if (d <= max_distance && (!best || d < best->distance)) best = FingerprintMatch{e.fingerprint, e.label, d};
  }
  return best;
}

absl::Status FingerprintStore::CheckLabel(std::string& label) {
  if (label.size() > kMaxLabelBytes) label.resize(kMaxLabelBytes);
  for (char c : label) {
    if (static_cast<unsigned char>(c) <= ' ') return absl::InvalidArgumentError("a label is one word (no spaces)");
  }
  return absl::OkStatus();
}

FingerprintStore::Entries FingerprintStore::List() const {
  std::shared_lock lock(mu_);
  Entries out;
  out.reserve(entries_.size());
  for (const Entry& e : entries_) out.emplace_back(e.fingerprint, e.label);
  return out;
}

void FingerprintStore::Replace(const Entries& entries) {
  std::vector<Entry> next;
  next.reserve(entries.size());
  for (const auto& [fingerprint, label] : entries) next.push_back({fingerprint, label});
  std::unique_lock lock(mu_);
  entries_ = std::move(next);
}

absl::Status FingerprintStore::Add(std::uint64_t fingerprint, std::string label) {
  if (absl::Status s = CheckLabel(label); !s.ok()) return s;
  std::unique_lock lock(mu_);
  for (Entry& e : entries_) {
    if (e.fingerprint == fingerprint) {
      e.label = std::move(label);
      return absl::OkStatus();
    }
  }
  entries_.push_back({fingerprint, std::move(label)});
  return absl::OkStatus();
}

bool FingerprintStore::Remove(std::uint64_t fingerprint) {
  std::unique_lock lock(mu_);
  const auto it = std::find_if(entries_.begin(), entries_.end(),
                               [&](const Entry& e) { return e.fingerprint == fingerprint; });
  if (it == entries_.end()) return false;
  entries_.erase(it);
  return true;
}

std::size_t FingerprintStore::size() const {
  std::shared_lock lock(mu_);
  return entries_.size();
}

absl::Status FingerprintStore::Save() const {
  if (path_.empty()) return absl::FailedPreconditionError("the fingerprint store has no file");
  std::string out = "# hive known-bad fingerprints: <simhash> <label>\n";
  {
    std::shared_lock lock(mu_);
    for (const Entry& e : entries_) out += absl::StrFormat("%016x %s\n", e.fingerprint, e.label);
  }
  return hive::support::WriteFileAtomically(path_, out);
}

}  // namespace hive::policy::content
