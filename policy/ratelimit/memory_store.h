// The single-node Store (the embedded default): buckets in 64 shards, each
// a CellTable (cell_table.h: one cache line per lookup) under its own mutex,
// so parallel checks rarely contend.
//
// Memory is bounded: a bucket is keyed by a 64-bit hash of its key (never
// the text: ~30-45 bytes per live bucket instead of ~130), and a bucket that
// is idle (TAT in the past, or a quota window that ended) is
// indistinguishable from a new one, so each shard drops such entries every
// `sweep_interval`. `max_buckets` is a hard cap: a new bucket beyond it is
// refused with RESOURCE_EXHAUSTED (the service answers UNAVAILABLE and the
// milter its failure mode) rather than evicting live counters, which would
// hand out allowance. Two keys whose 64-bit hashes collide share a bucket
// (odds ~ n^2 / 2^65: 3e-8 at a million live keys), erring strict.
//
// GCRA runs on the injected monotonic clock; quota windows use its wall
// clock only to drop ended windows, and top-N usage to start a new day.
// An ended window keeps its count for `quota_grace` after its end, so that
// a wall clock stepped back across the boundary (NTP, an operator) finds the
// count again instead of a fresh window (docs/failure-modes.md, "Clock
// jump"). Top-N usage: per rule, a SpaceSaving table of kTopCapacity keys
// for the current UTC day (at most ~100 bytes per key: rules x 1000 x 100
// bytes). Transaction ledgers live in 16 shards
// and expire after their TTL (consumption kept). Thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "ratelimit/cell_table.h"
#include "ratelimit/store.h"

namespace hive::policy::ratelimit {

struct MemoryStoreOptions {
  std::size_t max_buckets = 20'000'000;
  Nanos sweep_interval = std::chrono::seconds(5);
  Nanos quota_grace = std::chrono::hours(1);
};

class MemoryStore final : public Store {
 public:
  explicit MemoryStore(const Clock& clock, MemoryStoreOptions options = {});

  absl::StatusOr<ReserveResult> Reserve(const ReserveRequest& request) override;
  absl::StatusOr<std::vector<BucketResult>> Peek(std::span<const BucketOp> ops) override;
  absl::Status Reset(std::span<const BucketOp> ops) override;
  absl::StatusOr<std::vector<UsageEntry>> Top(const std::string& rule, std::size_t n) override;
  absl::StatusOr<int> Commit(const std::string& transaction) override;
  absl::StatusOr<int> Release(const std::string& transaction) override;

  std::size_t BucketCount() const;
  std::size_t PendingTransactions() const;

 private:
  static constexpr std::size_t kShards = 64;
  static constexpr std::size_t kLedgerShards = 16;

  // A cell: rate, a = TAT (monotonic ns), b = 0; quota, a = count, b =
  // window end (wall), so the cell knows when it is dead.
  struct alignas(64) Shard {
    mutable std::mutex mu;
    CellTable cells;
    Nanos next_sweep{0};
  };
  struct Taken {
    std::uint64_t hash;
    BucketKind kind;
    Nanos interval;  // kRate: to give back
    std::int64_t cost;
  };
  struct Usage {
    std::string rule;
    std::string key;
    std::int64_t cost;
  };
  struct Ledger {
    std::vector<Taken> taken;
    std::vector<Usage> usage;
    std::set<std::string> tokens;
    int reservations = 0;
    Nanos expires{0};
  };
  struct alignas(64) LedgerShard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Ledger> ledgers;
    Nanos next_sweep{0};
  };

  static std::uint64_t HashOf(const BucketOp& op);
  Shard& ShardOf(std::uint64_t hash) { return shards_[hash >> 58]; }
  LedgerShard& LedgerShardOf(const std::string& transaction);
  // Evaluates ops (shards already locked); `apply` writes allowed groups.
  absl::Status Evaluate(std::span<const BucketOp> ops, std::span<const std::uint64_t> hashes,
                        const std::set<std::string>* paid, bool apply, Nanos now, ReserveResult& out);
  // `wall` is read from the clock on the first sweep that needs it and
  // written back, so one call reads it at most once (kWallUnread: not yet).
  static constexpr Nanos kWallUnread = Nanos::min();
  void SweepIfDue(Shard& shard, Nanos now, Nanos& wall);
  void SweepLedgersIfDue(LedgerShard& shard, Nanos now);
  void GiveBack(const std::vector<Taken>& taken);
  void CountUsage(const std::vector<Usage>& usage);
  // Today's UTC day number; a new day empties the top lists. top_mu_ held.
  std::int64_t TodayLocked();

  const Clock& clock_;
  const MemoryStoreOptions options_;
  const std::size_t max_per_shard_;
  std::array<Shard, kShards> shards_;
  std::array<LedgerShard, kLedgerShards> ledger_shards_;
  // Top-N usage of today (UTC), per rule: kTopCapacity keys each.
  std::mutex top_mu_;
  std::int64_t top_day_ = -1;                                 // guarded by top_mu_
  absl::flat_hash_map<std::string, SpaceSaving> top_;         // guarded by top_mu_
};

}  // namespace hive::policy::ratelimit
