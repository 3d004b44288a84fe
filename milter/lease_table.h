// Degraded mode, the milter side: the quota leases hive-policyd granted
// (Verdict.lease), spent while the service is unreachable, and the usage
// waiting to be reported back (ReportLeaseUsage). The milter only stores
// and spends what it was granted; who gets how much is policy/'s.
//
// One lease per (sender, class) bucket, both compared case-insensitively:
// `units` recipients until `expires`. A new grant replaces the lease, except
// while the bucket holds unreported usage: then it is ignored, so that at
// most one lease per bucket is spent before hive-policyd has charged it
// (the bound on overshoot, docs/failure-modes.md). Spending records one
// Usage under the caller's id (the transaction id: unique, and the
// idempotency key of the report).
//
// Bounded memory: at most `max_leases` buckets, each with at most its
// lease's units of usage (a grant carries at most kMaxLeaseUnits). At the
// cap a grant for a new bucket first drops an expired bucket without
// usage, else the least recently granted one without usage, else is
// refused. Dropping a lease only loses local allowance (the safe side);
// usage is never dropped.
//
// Usage: LeaseTable leases(10000);  // main(), shared by every session
//   leases.Grant(...) after a delivered verdict carrying a lease;
//   leases.Spend(...) at end of message when the policy failed;
//   leases.Unreported / Acknowledge to report (lease_report.h).
// Time is injected (tests move it); by default monotonic.
//
// Thread-safety: all methods are thread-safe (one mutex; every call is a
// few map operations).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace hive::milter {

inline constexpr std::uint32_t kMaxLeaseUnits = 1000;
inline constexpr absl::Duration kMaxLeaseTtl = absl::Hours(24);
inline constexpr std::size_t kDefaultMaxLeases = 10000;

// One message delivered on a lease, until hive-policyd acknowledges it.
struct LeaseUsage {
  std::string usage_id;
  std::string sender;         // as the MTA gave it
  std::string message_class;  // lower case
  std::uint32_t recipients = 0;
  std::uint64_t body_size = 0;
  std::string queue_id;
};

class LeaseTable {
 public:
  using Clock = std::function<absl::Time()>;

  // The default clock is monotonic: a step of the milter host's wall clock
  // neither stretches nor cuts a lease's TTL (docs/failure-modes.md).
  static absl::Time SteadyNow();
  explicit LeaseTable(std::size_t max_leases = kDefaultMaxLeases, Clock clock = SteadyNow);
  LeaseTable(const LeaseTable&) = delete;
  LeaseTable& operator=(const LeaseTable&) = delete;

  // Stores a grant of `units` recipients valid for `ttl` from now. False
  // when it is invalid (empty sender or class, units 0 or above
  // kMaxLeaseUnits, ttl not in (0, kMaxLeaseTtl], over-long names), the
  // bucket holds unreported usage, or the table is full of usage.
  bool Grant(std::string_view sender, std::string_view message_class, std::uint32_t units, absl::Duration ttl);

  // Whether `sender` holds an unexpired lease with units left, any class.
  bool HasLease(std::string_view sender) const;

  // Spends `recipients` units (at least 1) of the sender's unexpired lease
  // for `message_class` and records the usage; false (nothing spent) when
  // there is no such lease or fewer units are left.
  bool Spend(std::string_view sender, std::string_view message_class, std::uint32_t recipients,
             std::uint64_t body_size, std::string_view usage_id, std::string_view queue_id);

  // Up to `max` usages not yet acknowledged, in bucket order.
  std::vector<LeaseUsage> Unreported(std::size_t max) const;
  // Forgets the usages with these ids (hive-policyd has charged them).
  void Acknowledge(const std::vector<std::string>& usage_ids);
  bool has_unreported() const { return unreported_.load(std::memory_order_relaxed) > 0; }

  // One reporter at a time (a second would only send duplicates):
  // TryBeginReport is true for the caller that must then EndReport.
  bool TryBeginReport() { return !reporting_.exchange(true); }
  void EndReport() { reporting_.store(false); }

  std::size_t size() const;
  // Units left in the sender's lease for the class (0: none or expired).
  std::uint32_t UnitsLeft(std::string_view sender, std::string_view message_class) const;

 private:
  struct Bucket {
    std::uint32_t units_left = 0;
    absl::Time expires = absl::InfinitePast();
    std::uint64_t granted_seq = 0;  // larger: granted more recently
    std::vector<LeaseUsage> usages;
  };
  // Makes room for one more bucket; false when every bucket holds usage.
  bool MakeRoom(absl::Time now);

  const std::size_t max_leases_;
  const Clock clock_;
  mutable std::mutex mu_;
  // Key: lower-case sender, '\x1f', lower-case class (so that one sender's
  // buckets are adjacent for HasLease).
  std::map<std::string, Bucket> buckets_;
  std::uint64_t next_seq_ = 1;
  std::atomic<std::size_t> unreported_{0};
  std::atomic<bool> reporting_{false};
};

}  // namespace hive::milter
