// Rate-limit store benchmarks (issue 4; figures, commands and machine in
// docs/benchmarks.md, "## Rate limiter"). Google Benchmark, run by hand,
// never by ctest:
//   - BM_MemoryBytesPerKey: RSS growth of a fresh MemoryStore per live
//     bucket (1M buckets), as the counter bytes_per_key;
//   - BM_MemoryCheck: one RCPT-style check (a bucket key built, then one
//     Reserve of a GCRA window, no transaction) on random keys of a store
//     holding 1M live buckets, 1 and 2 threads;
//   - BM_MemoryReserveCommit: the same with a transaction ledger, as the
//     service does it (Reserve at RCPT, Commit at end of message);
//   - BM_MemoryReserveCommitTopN: the same with the op counting for top-N
//     usage (as the limiter marks a rule's first window), so every Commit
//     updates the rule's Space-Saving table (1,000 keys; 1M senders, so
//     nearly every commit replaces the smallest entry: the worst case);
//   - BM_SpaceSavingRepeatedKeys: one Space-Saving update of a key already
//     in the table (500 senders, capacity 1,000): what a steady sending
//     platform's commits do;
//   - BM_RedisReserve: one RCPT decision (one EVALSHA, ledger written) on a
//     private redis-server (started on a free loopback port, stopped by
//     PID at exit) from 32 concurrent callers.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/redis_server.h"
#include "proc_stats.h"
#include "ratelimit/clock.h"
#include "ratelimit/memory_store.h"
#include "ratelimit/redis_store.h"
#include "ratelimit/top_usage.h"

namespace {

namespace rl = hive::policy::ratelimit;

constexpr std::uint64_t kLiveKeys = 1'000'000;
constexpr std::uint64_t kRedisKeys = 100'000;

// 1000 a day: every check is allowed (a key is hit a few dozen times per
// run) and a touched bucket stays live (TAT ahead of now) for 86 s, so
// the idle sweep does not empty the store under the benchmark.
const rl::GcraParams kWindow = rl::GcraParams::From(1000, std::chrono::hours(24), 1000);

// xorshift64*: a cheap per-thread key picker that is not what is measured.
struct Rng {
  std::uint64_t s;
  std::uint64_t Next(std::uint64_t n) {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return (s * 2685821657736338717ULL) % n;
  }
};

// A reusable one-op request; SetKey rewrites the key in place (no
// allocation once the string has grown), as a limiter builds its keys.
struct OneOp {
  rl::ReserveRequest request;
  OneOp() {
    rl::BucketOp op;
    op.params = kWindow;
    op.key.reserve(64);
    request.ops.push_back(std::move(op));
  }
  void SetKey(std::uint64_t i) {
    std::string& k = request.ops[0].key;
    k.assign("sender");
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, i).ptr;
    k.append(digits, end);
    k.append("@customer.example");
  }
};

rl::SteadyClock& Clock() {
  static rl::SteadyClock clock;
  return clock;
}

void Fill(rl::Store& store, std::uint64_t keys) {
  OneOp one;
  for (std::uint64_t i = 0; i < keys; ++i) {
    one.SetKey(i);
    if (!store.Reserve(one.request).ok()) std::abort();
  }
}

// Registered first so that no earlier benchmark's freed memory hides the
// growth; runs once.
void BM_MemoryBytesPerKey(benchmark::State& state) {
  for (auto _ : state) {
    const long before = hive::bench::RssKib(getpid());
    auto store = std::make_unique<rl::MemoryStore>(Clock());
    Fill(*store, kLiveKeys);
    const long after = hive::bench::RssKib(getpid());
    if (store->BucketCount() != kLiveKeys) state.SkipWithError("store lost buckets while filling");
    state.counters["bytes_per_key"] = static_cast<double>(after - before) * 1024.0 / kLiveKeys;
    state.counters["buckets"] = static_cast<double>(store->BucketCount());
  }
}
BENCHMARK(BM_MemoryBytesPerKey)->Iterations(1)->Unit(benchmark::kMillisecond);

// One store with 1M live buckets, shared by every thread count.
rl::MemoryStore& LiveStore() {
  static rl::MemoryStore* store = [] {
    auto* s = new rl::MemoryStore(Clock());
    Fill(*s, kLiveKeys);
    return s;
  }();
  return *store;
}

void BM_MemoryCheck(benchmark::State& state) {
  rl::MemoryStore& store = LiveStore();
  Rng rng{0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(state.thread_index() + 1)};
  OneOp one;
  std::int64_t refused = 0;
  for (auto _ : state) {
    one.SetKey(rng.Next(kLiveKeys));
    absl::StatusOr<rl::ReserveResult> r = store.Reserve(one.request);
    refused += r.ok() && r->allowed ? 0 : 1;
    benchmark::DoNotOptimize(r);
  }
  if (refused != 0) state.SkipWithError("a check was refused: the numbers would not be the allowed path");
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) state.counters["buckets"] = static_cast<double>(store.BucketCount());
}
BENCHMARK(BM_MemoryCheck)->Threads(1)->Threads(2)->UseRealTime();

void ReserveCommit(benchmark::State& state, bool top) {
  rl::MemoryStore& store = LiveStore();
  Rng rng{0xD1B54A32D192ED03ULL * static_cast<std::uint64_t>(state.thread_index() + 1)};
  OneOp one;
  if (top) one.request.ops[0].usage_rule = "per-sender";
  one.request.transaction = "txn-" + std::to_string(state.thread_index()) + "-";
  const std::size_t stem = one.request.transaction.size();
  std::uint64_t n = 0;
  for (auto _ : state) {
    one.SetKey(rng.Next(kLiveKeys));
    if (top) one.request.ops[0].usage_key = one.request.ops[0].key;
    one.request.transaction.resize(stem);
    one.request.transaction += std::to_string(++n);
    benchmark::DoNotOptimize(store.Reserve(one.request));
    benchmark::DoNotOptimize(store.Commit(one.request.transaction));
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_MemoryReserveCommit(benchmark::State& state) { ReserveCommit(state, false); }
BENCHMARK(BM_MemoryReserveCommit)->Threads(1)->Threads(2)->UseRealTime();
void BM_MemoryReserveCommitTopN(benchmark::State& state) { ReserveCommit(state, true); }
BENCHMARK(BM_MemoryReserveCommitTopN)->Threads(1)->Threads(2)->UseRealTime();

void BM_SpaceSavingRepeatedKeys(benchmark::State& state) {
  constexpr std::uint64_t kSenders = 500;
  std::vector<std::string> keys;
  for (std::uint64_t i = 0; i < kSenders; ++i) keys.push_back("sender" + std::to_string(i) + "@customer.example");
  rl::SpaceSaving table;
  for (const std::string& k : keys) table.Add(k, 1);
  Rng rng{0xD1B54A32D192ED03ULL};
  for (auto _ : state) table.Add(keys[rng.Next(kSenders)], 1);
  benchmark::DoNotOptimize(table.size());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SpaceSavingRepeatedKeys);

struct RedisFixture {
  hive::testing::RedisServer server;
  std::unique_ptr<rl::RedisStore> store;
  RedisFixture() {
    rl::RedisStoreOptions options{.pool_size = 32, .timeout = std::chrono::seconds(1)};
    if (!rl::ParseRedisAddress(server.address(), options).ok()) std::abort();
    store = std::make_unique<rl::RedisStore>(options);
  }
};

RedisFixture& Redis() {
  static RedisFixture fixture;  // redis-server stopped by PID at exit
  return fixture;
}

void BM_RedisReserve(benchmark::State& state) {
  rl::RedisStore& store = *Redis().store;
  Rng rng{0xA0761D6478BD642FULL * static_cast<std::uint64_t>(state.thread_index() + 1)};
  OneOp one;
  // Short ledgers: the run writes hundreds of thousands of them.
  one.request.ttl = std::chrono::seconds(30);
  one.request.transaction = "bench-" + std::to_string(state.thread_index()) + "-";
  const std::size_t stem = one.request.transaction.size();
  std::uint64_t n = 0;
  std::int64_t errors = 0;
  for (auto _ : state) {
    one.SetKey(rng.Next(kRedisKeys));
    one.request.transaction.resize(stem);
    one.request.transaction += std::to_string(++n);
    absl::StatusOr<rl::ReserveResult> r = store.Reserve(one.request);
    errors += r.ok() ? 0 : 1;
  }
  if (errors != 0) state.SkipWithError("Redis calls failed (deadline or connection)");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RedisReserve)->Threads(32)->UseRealTime()->MinTime(3.0);

}  // namespace

BENCHMARK_MAIN();
