#include "milter/lease_table.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace hive::milter {
namespace {

// Bounds on what a verdict may make us store.
constexpr std::size_t kMaxSenderBytes = 512;
constexpr std::size_t kMaxClassBytes = 128;
constexpr char kSeparator = '\x1f';

std::string Lower(std::string_view s) { return absl::AsciiStrToLower(absl::string_view(s.data(), s.size())); }

std::string KeyPrefix(std::string_view sender) { return absl::StrCat(Lower(sender), std::string(1, kSeparator)); }

std::string Key(std::string_view sender, std::string_view message_class) {
  return absl::StrCat(KeyPrefix(sender), Lower(message_class));
}

}  // namespace

absl::Time LeaseTable::SteadyNow() {
  // Only differences of these instants matter: leases are relative.
  return absl::UnixEpoch() + absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
}

LeaseTable::LeaseTable(std::size_t max_leases, Clock clock)
    : max_leases_(max_leases == 0 ? 1 : max_leases), clock_(std::move(clock)) {}

bool LeaseTable::Grant(std::string_view sender, std::string_view message_class, std::uint32_t units,
                       absl::Duration ttl) {
  if (sender.empty() || sender.size() > kMaxSenderBytes || message_class.empty() ||
      message_class.size() > kMaxClassBytes || sender.find(kSeparator) != std::string_view::npos) {
    return false;
  }
  if (units == 0 || units > kMaxLeaseUnits || ttl <= absl::ZeroDuration() || ttl > kMaxLeaseTtl) return false;
  const absl::Time now = clock_();
  std::lock_guard lock(mu_);
  const std::string key = Key(sender, message_class);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_leases_ && !MakeRoom(now)) return false;
    it = buckets_.emplace(key, Bucket{}).first;
  } else if (!it->second.usages.empty()) {
    // Spent and not yet charged: hive-policyd granted this without
    // knowing; wait until the usage is reported.
    return false;
  }
  it->second.units_left = units;
  it->second.expires = now + ttl;
  it->second.granted_seq = next_seq_++;
  return true;
}

bool LeaseTable::MakeRoom(absl::Time now) {
  auto victim = buckets_.end();
  for (auto it = buckets_.begin(); it != buckets_.end(); ++it) {
    if (!it->second.usages.empty()) continue;
    if (it->second.expires <= now) {
      victim = it;
      break;
    }
    if (victim == buckets_.end() || it->second.granted_seq < victim->second.granted_seq) victim = it;
  }
  if (victim == buckets_.end()) return false;
  buckets_.erase(victim);
  return true;
}

bool LeaseTable::HasLease(std::string_view sender) const {
  const std::string prefix = KeyPrefix(sender);
  const absl::Time now = clock_();
  std::lock_guard lock(mu_);
  for (auto it = buckets_.lower_bound(prefix); it != buckets_.end() && it->first.starts_with(prefix); ++it) {
    if (it->second.units_left > 0 && it->second.expires > now) return true;
  }
  return false;
}

bool LeaseTable::Spend(std::string_view sender, std::string_view message_class, std::uint32_t recipients,
                       std::uint64_t body_size, std::string_view usage_id, std::string_view queue_id) {
  if (message_class.empty() || usage_id.empty()) return false;
  const std::uint32_t units = std::max<std::uint32_t>(recipients, 1);
  const absl::Time now = clock_();
  std::lock_guard lock(mu_);
  auto it = buckets_.find(Key(sender, message_class));
  if (it == buckets_.end()) return false;
  Bucket& b = it->second;
  if (b.expires <= now || b.units_left < units) return false;
  b.units_left -= units;
  b.usages.push_back(LeaseUsage{std::string(usage_id), std::string(sender), Lower(message_class), units, body_size,
                                std::string(queue_id)});
  unreported_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

std::vector<LeaseUsage> LeaseTable::Unreported(std::size_t max) const {
  std::vector<LeaseUsage> out;
  std::lock_guard lock(mu_);
  for (const auto& [key, bucket] : buckets_) {
    for (const LeaseUsage& u : bucket.usages) {
      if (out.size() == max) return out;
      out.push_back(u);
    }
  }
  return out;
}

void LeaseTable::Acknowledge(const std::vector<std::string>& usage_ids) {
  if (usage_ids.empty()) return;
  const std::set<std::string_view> done(usage_ids.begin(), usage_ids.end());
  std::lock_guard lock(mu_);
  for (auto& [key, bucket] : buckets_) {
    if (bucket.usages.empty()) continue;
    const std::size_t before = bucket.usages.size();
    std::erase_if(bucket.usages, [&](const LeaseUsage& u) { return done.contains(u.usage_id); });
    unreported_.fetch_sub(before - bucket.usages.size(), std::memory_order_relaxed);
  }
}

std::size_t LeaseTable::size() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

std::uint32_t LeaseTable::UnitsLeft(std::string_view sender, std::string_view message_class) const {
  const absl::Time now = clock_();
  std::lock_guard lock(mu_);
  auto it = buckets_.find(Key(sender, message_class));
  if (it == buckets_.end() || it->second.expires <= now) return 0;
  return it->second.units_left;
}

}  // namespace hive::milter
