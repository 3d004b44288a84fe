#include "ratelimit/memory_store.h"

#include <algorithm>

#include "absl/container/inlined_vector.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"

namespace hive::policy::ratelimit {
namespace {

// Per-call scratch lists sized for the common request (a recipient matches a
// handful of rules, each one to three windows) so that the hot path does not
// touch the heap; larger requests spill over transparently.
constexpr std::size_t kInlineOps = 8;
template <typename T>
using Small = absl::InlinedVector<T, kInlineOps>;

// Locks a few shards in ascending order (deadlock-free), unlocks on exit.
template <typename ShardT>
class MultiLock {
 public:
  explicit MultiLock(Small<ShardT*> shards) : shards_(std::move(shards)) {
    std::sort(shards_.begin(), shards_.end());
    shards_.erase(std::unique(shards_.begin(), shards_.end()), shards_.end());
    for (ShardT* s : shards_) s->mu.lock();
  }
  ~MultiLock() {
    for (auto it = shards_.rbegin(); it != shards_.rend(); ++it) (*it)->mu.unlock();
  }
  const Small<ShardT*>& shards() const { return shards_; }

 private:
  Small<ShardT*> shards_;
};

}  // namespace

MemoryStore::MemoryStore(const Clock& clock, MemoryStoreOptions options)
    : clock_(clock), options_(options), max_per_shard_(std::max<std::size_t>(1, options.max_buckets / kShards)) {}

std::uint64_t MemoryStore::HashOf(const BucketOp& op) {
  // A quota's window is part of its identity: the next window is a new
  // bucket that starts at zero.
  const std::int64_t window = op.kind == BucketKind::kQuota ? op.window_start.count() : -1;
  return absl::Hash<std::pair<std::string_view, std::int64_t>>{}({op.key, window});
}

MemoryStore::LedgerShard& MemoryStore::LedgerShardOf(const std::string& transaction) {
  return ledger_shards_[absl::Hash<std::string_view>{}(transaction) % kLedgerShards];
}

absl::Status MemoryStore::Evaluate(std::span<const BucketOp> ops, std::span<const std::uint64_t> hashes,
                                   const std::set<std::string>* paid, bool apply, Nanos now,
                                   ReserveResult& out) {
  out.buckets.assign(ops.size(), BucketResult{});
  auto eval = [&](std::size_t i) {
    const BucketOp& op = ops[i];
    BucketResult& r = out.buckets[i];
    if (!op.token.empty() && paid != nullptr && paid->contains(op.token)) {
      r.allowed = r.skipped = true;
      return;
    }
    const CellTable::Ref cell = ShardOf(hashes[i]).cells.Find(hashes[i]);
    if (op.kind == BucketKind::kQuota) {
      const std::int64_t count = cell ? cell.a() : 0;
      r.allowed = count + op.cost <= op.limit;
      r.remaining = std::max<std::int64_t>(0, op.limit - count - (r.allowed ? op.cost : 0));
      return;
    }
    const Nanos tat = cell ? Nanos(cell.a()) : Nanos(0);
    const GcraResult g = GcraTake(tat, now, op.params, op.cost);
    r.allowed = g.allowed;
    r.remaining = g.remaining;
    r.retry_after = g.retry_after;
    r.reset_after = std::max(Nanos(0), (g.allowed ? g.tat : tat) - now);
  };
  auto write = [&](std::size_t i) {
    const BucketOp& op = ops[i];
    if (out.buckets[i].skipped) return;
    // Room was checked by fits() before the first write.
    CellTable::Ref cell = ShardOf(hashes[i]).cells.FindOrInsert(hashes[i]);
    if (op.kind == BucketKind::kQuota) {
      cell.set_a(cell.a() + op.cost);
      cell.set_b(op.window_end);
    } else {
      cell.set_a(GcraTake(Nanos(cell.a()), now, op.params, op.cost).tat.count());
    }
  };
  // Capacity is checked before any write so that a full store refuses the
  // whole call instead of half-applying it.
  auto fits = [&](const Small<std::size_t>& idx) -> absl::Status {
    for (std::size_t i : idx) {
      CellTable& cells = ShardOf(hashes[i]).cells;
      if (!out.buckets[i].skipped && cells.size() >= max_per_shard_ && !cells.Contains(hashes[i])) {
        return absl::ResourceExhaustedError(
            absl::StrCat("in-memory rate-limit store full (max_buckets ", options_.max_buckets, ")"));
      }
    }
    return absl::OkStatus();
  };

  Small<int> groups;
  for (const BucketOp& op : ops) {
    if (std::find(groups.begin(), groups.end(), op.group) == groups.end()) groups.push_back(op.group);
  }
  std::sort(groups.begin(), groups.end());  // group 0 first
  out.allowed = true;
  for (int g : groups) {
    Small<std::size_t> idx;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].group == g) idx.push_back(i);
    }
    bool all = true;
    for (std::size_t i : idx) {
      eval(i);
      all = all && out.buckets[i].allowed;
    }
    if (g == 0 && !all) {
      out.allowed = false;
      if (!apply) continue;  // Peek reports every op
      return absl::OkStatus();
    }
    if (apply && all) {
      if (absl::Status s = fits(idx); !s.ok()) return s;
      for (std::size_t i : idx) write(i);
    }
  }
  return absl::OkStatus();
}

void MemoryStore::SweepIfDue(Shard& shard, Nanos now, Nanos& wall) {
  if (now < shard.next_sweep) return;
  shard.next_sweep = now + options_.sweep_interval;
  // The wall clock only matters to drop ended quota windows: read it when a
  // sweep is due (once per shard and interval), not on every check.
  if (wall == kWallUnread) wall = clock_.Wall();
  shard.cells.Sweep(
      [&](std::int64_t a, Nanos b) { return b != Nanos(0) ? b + options_.quota_grace <= wall : Nanos(a) <= now; });
}

void MemoryStore::SweepLedgersIfDue(LedgerShard& shard, Nanos now) {
  if (now < shard.next_sweep) return;
  shard.next_sweep = now + std::chrono::seconds(1);
  std::erase_if(shard.ledgers, [&](const auto& entry) { return entry.second.expires <= now; });
}

absl::StatusOr<ReserveResult> MemoryStore::Reserve(const ReserveRequest& request) {
  const Nanos now = clock_.Now();
  Nanos wall = kWallUnread;
  const bool ledgered = !request.transaction.empty();
  std::unique_lock<std::mutex> ledger_lock;
  LedgerShard* ls = nullptr;
  Ledger* ledger = nullptr;
  if (ledgered) {
    ls = &LedgerShardOf(request.transaction);
    ledger_lock = std::unique_lock(ls->mu);
    SweepLedgersIfDue(*ls, now);
    if (auto it = ls->ledgers.find(request.transaction); it != ls->ledgers.end()) {
      if (it->second.expires <= now) {
        ls->ledgers.erase(it);
      } else {
        ledger = &it->second;
      }
    }
    if (ledger != nullptr && !request.once.empty() && ledger->tokens.contains(request.once)) {
      return ReserveResult{.allowed = true, .repeated = true};
    }
  }

  Small<std::uint64_t> hashes;
  Small<Shard*> shards;
  for (const BucketOp& op : request.ops) {
    hashes.push_back(HashOf(op));
    shards.push_back(&ShardOf(hashes.back()));
  }
  ReserveResult result;
  {
    MultiLock<Shard> lock(std::move(shards));
    for (Shard* s : lock.shards()) SweepIfDue(*s, now, wall);
    if (absl::Status s = Evaluate(request.ops, hashes, ledger ? &ledger->tokens : nullptr, true, now, result);
        !s.ok()) {
      return s;
    }
  }
  if (!ledgered) return result;

  // Record what was taken: groups that were applied, ops not skipped.
  // A handful of ops per call: linear scans over inline lists beat sets.
  auto contains = [](const auto& list, const auto& v) { return std::find(list.begin(), list.end(), v) != list.end(); };
  Small<int> applied_groups;
  if (result.allowed) {
    for (std::size_t i = 0; i < request.ops.size(); ++i) {
      const int g = request.ops[i].group;
      if (contains(applied_groups, g)) continue;
      bool all = true;
      for (std::size_t j = 0; j < request.ops.size(); ++j) {
        if (request.ops[j].group == g) all = all && result.buckets[j].allowed;
      }
      if (all) applied_groups.push_back(g);
    }
  }
  Small<Taken> taken;
  Small<const BucketOp*> usage;
  Small<int> rules;
  Small<const std::string*> tokens;
  for (std::size_t i = 0; i < request.ops.size(); ++i) {
    const BucketOp& op = request.ops[i];
    if (!contains(applied_groups, op.group) || result.buckets[i].skipped) continue;
    taken.push_back({hashes[i], op.kind, op.params.emission_interval, op.cost});
    if (!op.usage_rule.empty()) usage.push_back(&op);
    if (!contains(rules, op.rule)) rules.push_back(op.rule);
    if (!op.token.empty()) tokens.push_back(&op.token);
  }
  if (taken.empty()) return result;
  Ledger& l = ledger != nullptr ? *ledger : ls->ledgers[request.transaction];
  l.taken.insert(l.taken.end(), taken.begin(), taken.end());
  for (const BucketOp* op : usage) l.usage.push_back({op->usage_rule, op->usage_key, op->cost});
  for (const std::string* t : tokens) l.tokens.insert(*t);
  if (!request.once.empty()) l.tokens.insert(request.once);
  l.reservations += static_cast<int>(rules.size());
  l.expires = now + request.ttl;
  return result;
}

absl::StatusOr<std::vector<BucketResult>> MemoryStore::Peek(std::span<const BucketOp> ops) {
  const Nanos now = clock_.Now();
  Small<std::uint64_t> hashes;
  Small<Shard*> shards;
  for (const BucketOp& op : ops) {
    hashes.push_back(HashOf(op));
    shards.push_back(&ShardOf(hashes.back()));
  }
  ReserveResult result;
  MultiLock<Shard> lock(std::move(shards));
  if (absl::Status s = Evaluate(ops, hashes, nullptr, false, now, result); !s.ok()) return s;
  return std::move(result.buckets);
}

absl::Status MemoryStore::Reset(std::span<const BucketOp> ops) {
  for (const BucketOp& op : ops) {
    const std::uint64_t hash = HashOf(op);
    Shard& shard = ShardOf(hash);
    std::lock_guard lock(shard.mu);
    shard.cells.Erase(hash);
  }
  return absl::OkStatus();
}

absl::StatusOr<int> MemoryStore::Commit(const std::string& transaction) {
  const Nanos now = clock_.Now();
  LedgerShard& ls = LedgerShardOf(transaction);
  std::unique_lock lock(ls.mu);
  auto it = ls.ledgers.find(transaction);
  if (it == ls.ledgers.end() || it->second.expires <= now) {
    if (it != ls.ledgers.end()) ls.ledgers.erase(it);
    return 0;
  }
  const int n = it->second.reservations;
  std::vector<Usage> usage = std::move(it->second.usage);
  ls.ledgers.erase(it);
  lock.unlock();
  if (!usage.empty()) CountUsage(usage);
  return n;
}

std::int64_t MemoryStore::TodayLocked() {
  const std::int64_t day = std::chrono::floor<std::chrono::days>(clock_.Wall()).count();
  if (day != top_day_) {
    top_.clear();
    top_day_ = day;
  }
  return day;
}

void MemoryStore::CountUsage(const std::vector<Usage>& usage) {
  std::lock_guard lock(top_mu_);
  TodayLocked();
  for (const Usage& u : usage) top_[u.rule].Add(u.key, u.cost);
}

absl::StatusOr<std::vector<UsageEntry>> MemoryStore::Top(const std::string& rule, std::size_t n) {
  std::lock_guard lock(top_mu_);
  TodayLocked();
  auto it = top_.find(rule);
  if (it == top_.end()) return std::vector<UsageEntry>{};
  return it->second.Top(n);
}

absl::StatusOr<int> MemoryStore::Release(const std::string& transaction) {
  const Nanos now = clock_.Now();
  Ledger ledger;
  {
    LedgerShard& ls = LedgerShardOf(transaction);
    std::lock_guard lock(ls.mu);
    auto it = ls.ledgers.find(transaction);
    if (it == ls.ledgers.end()) return 0;
    const bool expired = it->second.expires <= now;
    ledger = std::move(it->second);
    ls.ledgers.erase(it);
    if (expired) return 0;
  }
  GiveBack(ledger.taken);
  return ledger.reservations;
}

void MemoryStore::GiveBack(const std::vector<Taken>& taken) {
  const Nanos now = clock_.Now();
  for (const Taken& t : taken) {
    Shard& shard = ShardOf(t.hash);
    std::lock_guard lock(shard.mu);
    CellTable::Ref cell = shard.cells.Find(t.hash);
    if (!cell) continue;  // idle or window over: nothing to give back
    if (t.kind == BucketKind::kQuota) {
      cell.set_a(std::max<std::int64_t>(0, cell.a() - t.cost));
    } else {
      GcraParams p;
      p.emission_interval = t.interval;
      cell.set_a(GcraGiveBack(Nanos(cell.a()), now, p, t.cost).count());
    }
  }
}

std::size_t MemoryStore::BucketCount() const {
  std::size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.cells.size();
  }
  return n;
}

std::size_t MemoryStore::PendingTransactions() const {
  const Nanos now = clock_.Now();
  std::size_t n = 0;
  for (const LedgerShard& s : ledger_shards_) {
    std::lock_guard lock(s.mu);
    for (const auto& [id, l] : s.ledgers) n += l.expires > now ? 1 : 0;
  }
  return n;
}

}  // namespace hive::policy::ratelimit
