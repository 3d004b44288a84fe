// ONE contract for every rate-limit Store (policy/ratelimit/store.h): the
// in-memory store (injected clock) and the Redis store against a real
// redis-server on a free loopback port (real time: its script uses the
// server's TIME, so "time passes" there is a short bounded sleep).
// Then the Redis-only behaviour: deadlines during an outage, the outage
// failure modes, recovery after a Redis restart.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <numeric>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "harness/redis_server.h"
#include "ratelimit/memory_store.h"
#include "ratelimit/outage_store.h"
#include "ratelimit/redis_store.h"

namespace hive::policy::ratelimit {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

struct MemoryEnv {
  ManualClock clock;
  MemoryStore store{clock};
  static constexpr bool kRealTime = false;
  void Advance(Nanos d) { clock.Advance(d); }
  Nanos Wall() const { return clock.Wall(); }
};

struct RedisEnv {
  static hive::testing::RedisServer* server;
  static int next_prefix;
  SteadyClock clock;
  RedisStore store{Options()};
  static constexpr bool kRealTime = true;
  static RedisStoreOptions Options() {
    RedisStoreOptions o;
    EXPECT_TRUE(ParseRedisAddress(server->address(), o).ok());
    o.pool_size = 16;
    o.timeout = milliseconds(500);  // generous: ctest -j shares 2 cores
    o.key_prefix = "contract" + std::to_string(next_prefix++);  // each test its own keys
    return o;
  }
  void Advance(Nanos d) { std::this_thread::sleep_for(d); }
  Nanos Wall() const { return clock.Wall(); }
};
hive::testing::RedisServer* RedisEnv::server = nullptr;
int RedisEnv::next_prefix = 0;

BucketOp Rate(const std::string& key, std::uint64_t limit, Nanos period, std::int64_t cost = 1, int group = 0) {
  BucketOp op;
  op.key = key;
  op.params = GcraParams::From(limit, period, 0);
  op.cost = cost;
  op.group = group;
  return op;
}

BucketOp QuotaOp(const std::string& key, std::int64_t limit, Nanos start, Nanos end) {
  BucketOp op;
  op.key = key;
  op.kind = BucketKind::kQuota;
  op.limit = limit;
  op.window_start = start;
  op.window_end = end;
  return op;
}

template <typename Env>
class StoreContractTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if constexpr (Env::kRealTime) RedisEnv::server = new hive::testing::RedisServer();
  }
  static void TearDownTestSuite() {
    if constexpr (Env::kRealTime) {
      delete RedisEnv::server;
      RedisEnv::server = nullptr;
    }
  }
  ReserveResult Reserve(const std::string& txn, std::vector<BucketOp> ops, const std::string& once = "",
                        Nanos ttl = std::chrono::minutes(10)) {
    absl::StatusOr<ReserveResult> r = env_.store.Reserve({txn, once, std::move(ops), ttl});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.value_or(ReserveResult{});
  }
  int Commit(const std::string& txn) { return env_.store.Commit(txn).value(); }
  int Release(const std::string& txn) { return env_.store.Release(txn).value(); }

  Env env_;
};

using Stores = ::testing::Types<MemoryEnv, RedisEnv>;
class StoreNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, MemoryEnv> ? "Memory" : "Redis";
  }
};
TYPED_TEST_SUITE(StoreContractTest, Stores, StoreNames);

TYPED_TEST(StoreContractTest, AllOrNothingAcrossBuckets) {
  const std::vector<BucketOp> ops = {Rate("a", 2, hours(1)), Rate("b", 1, hours(1))};
  EXPECT_TRUE(this->Reserve("t1", ops).allowed);
  ReserveResult second = this->Reserve("t2", ops);
  EXPECT_FALSE(second.allowed);
  ASSERT_EQ(second.buckets.size(), 2u);
  EXPECT_TRUE(second.buckets[0].allowed);
  EXPECT_FALSE(second.buckets[1].allowed);
  EXPECT_GT(second.buckets[1].retry_after, std::chrono::minutes(59));
  // "a" was not charged by the refusal: one more fits alone.
  EXPECT_TRUE(this->Reserve("t3", {Rate("a", 2, hours(1))}).allowed);
  EXPECT_FALSE(this->Reserve("t4", {Rate("a", 2, hours(1))}).allowed);
}

TYPED_TEST(StoreContractTest, ReserveCommitRelease) {
  const std::vector<BucketOp> one = {Rate("k", 1, hours(24))};
  EXPECT_TRUE(this->Reserve("t1", one).allowed);
  EXPECT_FALSE(this->Reserve("t2", one).allowed);  // t1 holds it
  EXPECT_EQ(this->Release("t1"), 1);
  EXPECT_EQ(this->Release("t1"), 0);  // idempotent
  EXPECT_TRUE(this->Reserve("t3", one).allowed);
  EXPECT_EQ(this->Commit("t3"), 1);
  EXPECT_EQ(this->Release("t3"), 0);  // committed: nothing to give back
  EXPECT_FALSE(this->Reserve("t4", one).allowed);
  EXPECT_EQ(this->Commit("never"), 0);
}

TYPED_TEST(StoreContractTest, TokensMakeRetriesAndPerMessageCostsCountOnce) {
  BucketOp per_message = Rate("m", 2, hours(1));
  per_message.token = "m:k";
  EXPECT_TRUE(this->Reserve("t1", {per_message}, "r:a").allowed);
  ReserveResult again = this->Reserve("t1", {per_message}, "r:a");  // an RPC retry
  EXPECT_TRUE(again.repeated);
  ReserveResult second_rcpt = this->Reserve("t1", {per_message}, "r:b");
  EXPECT_TRUE(second_rcpt.allowed);
  EXPECT_TRUE(second_rcpt.buckets[0].skipped);  // paid by the first recipient
  EXPECT_EQ(this->Commit("t1"), 1);
  EXPECT_TRUE(this->Reserve("t2", {per_message}, "r:a").allowed);
  EXPECT_FALSE(this->Reserve("t3", {per_message}, "r:a").allowed);
}

TYPED_TEST(StoreContractTest, IndependentGroupsNeverRefuseGroupZero) {
  const BucketOp enforced = Rate("e", 5, hours(1));
  BucketOp shadow = Rate("s", 1, hours(1), 1, 1);
  shadow.rule = 1;
  EXPECT_TRUE(this->Reserve("t1", {enforced, shadow}).allowed);
  ReserveResult r = this->Reserve("t2", {enforced, shadow});
  EXPECT_TRUE(r.allowed);
  EXPECT_FALSE(r.buckets[1].allowed);
  EXPECT_EQ(this->Release("t2"), 1);  // only the enforced one was taken
  EXPECT_EQ(this->Release("t1"), 2);
}

// A later group reads a bucket as an earlier group of the same call left it
// (the Redis script reads every bucket up front, so this is its own case).
TYPED_TEST(StoreContractTest, ALaterGroupSeesWhatAnEarlierGroupTookInTheSameCall) {
  const BucketOp enforced = Rate("shared", 1, hours(1));
  BucketOp shadow = Rate("shared", 1, hours(1), 1, 1);
  shadow.rule = 1;
  ReserveResult r = this->Reserve("t1", {enforced, shadow});
  EXPECT_TRUE(r.allowed);
  ASSERT_EQ(r.buckets.size(), 2u);
  EXPECT_TRUE(r.buckets[0].allowed);
  EXPECT_FALSE(r.buckets[1].allowed);  // group 0 took the one unit first
  EXPECT_EQ(this->Release("t1"), 1);
}

TYPED_TEST(StoreContractTest, QuotaWindowsCountSeparately) {
  const Nanos day = hours(24);
  const Nanos start = std::chrono::floor<std::chrono::days>(this->env_.Wall());
  const BucketOp today = QuotaOp("q", 2, start, start + day);
  const BucketOp tomorrow = QuotaOp("q", 2, start + day, start + 2 * day);
  EXPECT_TRUE(this->Reserve("t1", {today}).allowed);
  EXPECT_TRUE(this->Reserve("t2", {today}).allowed);
  ReserveResult full = this->Reserve("t3", {today});
  EXPECT_FALSE(full.allowed);
  EXPECT_EQ(full.buckets[0].remaining, 0);
  EXPECT_EQ(this->Release("t2"), 1);
  EXPECT_TRUE(this->Reserve("t4", {today}).allowed);
  EXPECT_EQ(this->Commit("t4"), 1);
  EXPECT_TRUE(this->Reserve("t5", {tomorrow}).allowed);  // a new window starts at zero
}

TYPED_TEST(StoreContractTest, PeekChangesNothing) {
  const std::vector<BucketOp> ops = {Rate("p", 1, hours(1)), QuotaOp("pq", 1, Nanos(0), hours(24 * 365 * 100))};
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<std::vector<BucketResult>> r = this->env_.store.Peek(ops);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE((*r)[0].allowed && (*r)[1].allowed);
  }
  EXPECT_TRUE(this->Reserve("t1", ops).allowed);
  absl::StatusOr<std::vector<BucketResult>> r = this->env_.store.Peek(ops);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE((*r)[0].allowed);
  EXPECT_FALSE((*r)[1].allowed);
}

// An operator's reset (AdminService.AdjustCounters reset) forgets exactly
// the named buckets: rate and quota read as idle, others keep their count.
TYPED_TEST(StoreContractTest, ResetForgetsOnlyTheNamedBuckets) {
  const Nanos day = hours(24);
  const Nanos start = std::chrono::floor<std::chrono::days>(this->env_.Wall());
  const std::vector<BucketOp> named = {Rate("rs", 2, hours(1)), QuotaOp("rq", 2, start, start + day)};
  const std::vector<BucketOp> other = {Rate("ro", 1, hours(1))};
  EXPECT_TRUE(this->Reserve("t1", named).allowed);
  EXPECT_TRUE(this->Reserve("t2", named).allowed);
  EXPECT_TRUE(this->Reserve("t3", other).allowed);
  EXPECT_EQ(this->Commit("t1"), 1);
  EXPECT_FALSE(this->Reserve("t4", named).allowed);
  ASSERT_TRUE(this->env_.store.Reset(named).ok());
  std::vector<BucketOp> read = named;
  for (BucketOp& op : read) op.cost = 0;
  absl::StatusOr<std::vector<BucketResult>> r = this->env_.store.Peek(read);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)[0].remaining, 2);
  EXPECT_EQ((*r)[1].remaining, 2);
  EXPECT_FALSE(this->Reserve("t5", other).allowed);  // untouched
  // t2's reservation was wiped with its buckets: releasing it gives back
  // nothing below zero (the windows stay full, never over-full).
  EXPECT_EQ(this->Release("t2"), 1);
  r = this->env_.store.Peek(read);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].remaining, 2);
  EXPECT_EQ((*r)[1].remaining, 2);
  // Resetting buckets nobody used is fine.
  EXPECT_TRUE(this->env_.store.Reset(std::vector<BucketOp>{Rate("never", 1, hours(1))}).ok());
}

// An operator's adjustment (AdjustCounters consume) is an ordinary
// reservation of `consume` units committed at once, in every window.
TYPED_TEST(StoreContractTest, AdjustConsumesInEveryWindow) {
  const Nanos day = hours(24);
  const Nanos start = std::chrono::floor<std::chrono::days>(this->env_.Wall());
  std::vector<BucketOp> windows = {Rate("as", 10, hours(1)), QuotaOp("aq", 10, start, start + day)};
  for (BucketOp& op : windows) op.cost = 7;
  EXPECT_TRUE(this->Reserve("adj", windows).allowed);
  EXPECT_EQ(this->Commit("adj"), 1);
  for (BucketOp& op : windows) op.cost = 0;
  absl::StatusOr<std::vector<BucketResult>> r = this->env_.store.Peek(windows);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)[0].remaining, 3);
  EXPECT_EQ((*r)[1].remaining, 3);
  for (BucketOp& op : windows) op.cost = 4;
  EXPECT_FALSE(this->Reserve("adj2", windows).allowed);  // more than is left
}

// Top-N usage: committed costs count for the op's key in its rule's list,
// released ones do not; largest first; at most kTopCapacity keys per rule,
// a heavy key entering a full table still listed (Space-Saving).
TYPED_TEST(StoreContractTest, TopCountsCommittedUsagePerRuleWithinItsBound) {
  auto op = [](const std::string& rule, const std::string& key, std::int64_t cost) {
    BucketOp o = Rate(rule + ":" + key, 1000000, hours(1), cost);
    o.usage_rule = rule;
    o.usage_key = key;
    return o;
  };
  EXPECT_TRUE(this->Reserve("t1", {op("r", "alice", 3)}).allowed);
  EXPECT_EQ(this->Commit("t1"), 1);
  EXPECT_TRUE(this->Reserve("t2", {op("r", "bob", 5), op("other", "bob", 9)}).allowed);
  EXPECT_EQ(this->Commit("t2"), 1);
  EXPECT_TRUE(this->Reserve("t3", {op("r", "alice", 4)}).allowed);
  EXPECT_EQ(this->Commit("t3"), 1);
  EXPECT_TRUE(this->Reserve("t4", {op("r", "carol", 50)}).allowed);
  EXPECT_EQ(this->Release("t4"), 1);  // released: not usage
  absl::StatusOr<std::vector<UsageEntry>> top = this->env_.store.Top("r", 10);
  ASSERT_TRUE(top.ok()) << top.status();
  ASSERT_EQ(top->size(), 2u);
  EXPECT_EQ((*top)[0].key, "alice");
  EXPECT_EQ((*top)[0].used, 7);
  EXPECT_EQ((*top)[1].key, "bob");
  EXPECT_EQ((*top)[1].used, 5);
  EXPECT_EQ(this->env_.store.Top("r", 1)->size(), 1u);
  EXPECT_EQ(this->env_.store.Top("other", 10)->front().used, 9);
  EXPECT_TRUE(this->env_.store.Top("nobody", 10)->empty());

  // Fill the rule's table, then a heavy newcomer: listed first, counted at
  // least its own cost; the table never grows past its bound.
  for (std::size_t i = 0; i < kTopCapacity; ++i) {
    const std::string txn = "f" + std::to_string(i);
    ASSERT_TRUE(this->Reserve(txn, {op("full", "k" + std::to_string(i), 1)}).allowed);
    this->Commit(txn);
  }
  ASSERT_TRUE(this->Reserve("heavy", {op("full", "heavy", 100)}).allowed);
  this->Commit("heavy");
  top = this->env_.store.Top("full", 2 * kTopCapacity);
  ASSERT_TRUE(top.ok()) << top.status();
  EXPECT_EQ(top->size(), kTopCapacity);
  EXPECT_EQ(top->front().key, "heavy");
  EXPECT_GE(top->front().used, 100);
  EXPECT_LE(top->front().used, 101);
}

TYPED_TEST(StoreContractTest, RateRefillsAfterTheInterval) {
  const BucketOp op = Rate("fast", 5, milliseconds(500));  // T = 100ms, burst 5
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(this->Reserve("", {op}).allowed) << i;
  ReserveResult r = this->Reserve("", {op});
  ASSERT_FALSE(r.allowed);
  EXPECT_GT(r.buckets[0].retry_after, Nanos(0));
  EXPECT_LE(r.buckets[0].retry_after, milliseconds(100));
  this->env_.Advance(milliseconds(150));
  EXPECT_TRUE(this->Reserve("", {op}).allowed);
}

TYPED_TEST(StoreContractTest, ExpiredReservationsStayConsumed) {
  const std::vector<BucketOp> one = {Rate("ttl", 1, hours(1))};
  EXPECT_TRUE(this->Reserve("t1", one, "", milliseconds(100)).allowed);
  this->env_.Advance(milliseconds(250));
  EXPECT_EQ(this->Release("t1"), 0);
  EXPECT_FALSE(this->Reserve("t2", one).allowed);
}

TYPED_TEST(StoreContractTest, ExactUnderConcurrency) {
  const std::vector<BucketOp> ops = {Rate("hot", 100, hours(1)), Rate("ip", 1000, hours(1))};
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        const std::string txn = "c" + std::to_string(t) + "-" + std::to_string(i);
        absl::StatusOr<ReserveResult> r = this->env_.store.Reserve({txn, "", ops, std::chrono::minutes(1)});
        if (r.ok() && r->allowed) ++allowed;
        if (i % 4 == 0) (void)this->env_.store.Release(txn);
        else (void)this->env_.store.Commit(txn);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  // 320 attempts; released ones free their unit again, so count what is left.
  int more = 0;
  while (this->Reserve("m" + std::to_string(more), ops).allowed) {
    ASSERT_LT(++more, 200);
  }
  int committed_estimate = allowed.load();
  EXPECT_GE(committed_estimate, 100);
  EXPECT_LE(more, 100);
  // Exactness: consumed = 100 after the drain, whatever the interleaving.
  absl::StatusOr<std::vector<BucketResult>> r = this->env_.store.Peek(ops);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].remaining, 0);
  EXPECT_FALSE((*r)[0].allowed);
}

// ---- Redis only: outage behaviour.

// The two stores side by side on one random sequence of reserves (groups,
// tokens, retries), commits, releases and peeks: every answer must agree.
// Periods of 100 days make the answers independent of the milliseconds that
// pass on the Redis side (a unit comes back after 20 days). DIFF_SEED=N
// replays another sequence.
TEST(StoreDifferentialTest, RandomSequencesGetTheSameAnswersFromBothStores) {
  hive::testing::RedisServer server;
  RedisStoreOptions options;
  ASSERT_TRUE(ParseRedisAddress(server.address(), options).ok());
  options.timeout = seconds(2);
  RedisStore redis(options);
  ManualClock clock;
  MemoryStore memory(clock);

  const Nanos period = hours(24 * 100);
  // A quota window that has not ended on either clock (Redis expires its
  // key at the window's end, by its own time).
  const Nanos now = std::chrono::duration_cast<Nanos>(std::chrono::system_clock::now().time_since_epoch());
  const Nanos window_start = now - hours(1);
  const Nanos window_end = now + hours(24);
  std::vector<BucketOp> pool;
  for (int k = 0; k < 4; ++k) {
    BucketOp op = Rate("rate" + std::to_string(k), 3 + k, period);
    op.rule = k;
    pool.push_back(op);
  }
  for (int k = 0; k < 2; ++k) {
    BucketOp op = QuotaOp("quota" + std::to_string(k), 3 + k, window_start, window_end);
    op.rule = 4 + k;
    pool.push_back(op);
  }
  const std::vector<std::string> tokens = {"", "", "m:a", "m:b"};
  const std::vector<std::string> onces = {"", "", "r:x", "r:y", "r:z"};

  const char* seed = getenv("DIFF_SEED");
  std::mt19937 rng(seed != nullptr ? std::atoi(seed) : 20261126);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  for (int step = 0; step < 400; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    const std::string txn = "t" + std::to_string(pick(6));
    const std::size_t what = pick(10);
    if (what < 6) {
      ReserveRequest request{txn, onces[pick(onces.size())], {}, std::chrono::minutes(10)};
      // Distinct buckets, as the limiter sends them (a rule's windows have
      // distinct periods, rule names are unique).
      std::vector<std::size_t> order(pool.size());
      std::iota(order.begin(), order.end(), 0);
      std::shuffle(order.begin(), order.end(), rng);
      const std::size_t n = 1 + pick(3);
      for (std::size_t i = 0; i < n; ++i) {
        BucketOp op = pool[order[i]];
        op.group = static_cast<int>(pick(3) == 0);
        op.token = tokens[pick(tokens.size())];
        op.cost = 1 + static_cast<std::int64_t>(pick(4) == 0);
        request.ops.push_back(op);
      }
      absl::StatusOr<ReserveResult> m = memory.Reserve(request);
      absl::StatusOr<ReserveResult> r = redis.Reserve(request);
      ASSERT_TRUE(m.ok()) << m.status();
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(m->repeated, r->repeated);
      if (m->repeated || r->repeated) continue;
      EXPECT_EQ(m->allowed, r->allowed);
      ASSERT_EQ(m->buckets.size(), r->buckets.size());
      for (std::size_t i = 0; i < m->buckets.size(); ++i) {
        SCOPED_TRACE("op " + std::to_string(i) + " " + request.ops[i].key);
        EXPECT_EQ(m->buckets[i].allowed, r->buckets[i].allowed);
        EXPECT_EQ(m->buckets[i].skipped, r->buckets[i].skipped);
        EXPECT_EQ(m->buckets[i].remaining, r->buckets[i].remaining);
      }
    } else if (what < 8) {
      absl::StatusOr<int> m = what == 6 ? memory.Commit(txn) : memory.Release(txn);
      absl::StatusOr<int> r = what == 6 ? redis.Commit(txn) : redis.Release(txn);
      ASSERT_TRUE(m.ok() && r.ok());
      EXPECT_EQ(*m, *r) << (what == 6 ? "commit " : "release ") << txn;
    } else {
      const std::vector<BucketOp> ops = {pool[pick(pool.size())], pool[pick(pool.size())]};
      absl::StatusOr<std::vector<BucketResult>> m = memory.Peek(ops);
      absl::StatusOr<std::vector<BucketResult>> r = redis.Peek(ops);
      ASSERT_TRUE(m.ok() && r.ok());
      for (std::size_t i = 0; i < ops.size(); ++i) {
        EXPECT_EQ((*m)[i].allowed, (*r)[i].allowed) << ops[i].key;
        EXPECT_EQ((*m)[i].remaining, (*r)[i].remaining) << ops[i].key;
      }
    }
  }
}

class RedisOutageTest : public ::testing::Test {
 protected:
  hive::testing::RedisServer server_;
  RedisStore Store(Nanos timeout = milliseconds(200)) {
    RedisStoreOptions o;
    EXPECT_TRUE(ParseRedisAddress(server_.address(), o).ok());
    o.timeout = timeout;
    o.pool_size = 4;
    return RedisStore(o);
  }
};

TEST_F(RedisOutageTest, AnOutageFailsWithinTheDeadlineAndRecoversAfterARestart) {
  RedisStore store = Store();
  const std::vector<BucketOp> ops = {Rate("o", 2, hours(1))};
  ASSERT_TRUE(store.Reserve({"t1", "", ops}).ok());
  server_.Stop();
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<ReserveResult> down = store.Reserve({"t2", "", ops});
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(400));
  ASSERT_FALSE(down.ok());
  EXPECT_TRUE(absl::IsUnavailable(down.status()) || absl::IsDeadlineExceeded(down.status())) << down.status();
  server_.Start();  // empty again (no persistence), scripts flushed: NOSCRIPT is handled
  absl::StatusOr<ReserveResult> up = store.Reserve({"t3", "", ops});
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_TRUE(up->allowed);
}

TEST_F(RedisOutageTest, TempfailModeRefusesAndLocalModeGrantsAShareMarkedDegraded) {
  RedisStore redis = Store();
  ManualClock clock;
  MemoryStore local(clock);
  OutageStore tempfail(redis, nullptr, clock, {OutageMode::kTempfail, 0.5, seconds(1)});
  OutageStore fallback(redis, &local, clock, {OutageMode::kLocal, 0.5, seconds(1)});
  const std::vector<BucketOp> ops = {Rate("f", 10, hours(1))};
  ASSERT_TRUE(fallback.Reserve({"t0", "", ops}).ok());
  EXPECT_FALSE(fallback.Reserve({"t0", "", ops})->degraded);
  server_.Stop();
  EXPECT_TRUE(absl::IsUnavailable(tempfail.Reserve({"t1", "", ops}).status()));
  int granted = 0;
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<ReserveResult> r = fallback.Reserve({"f" + std::to_string(i), "", ops});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->degraded);
    granted += r->allowed ? 1 : 0;
  }
  EXPECT_EQ(granted, 5);  // share 0.5 of 10: the bounded overshoot of this replica
  // While marked down, calls do not wait for Redis at all.
  const auto start = std::chrono::steady_clock::now();
  (void)tempfail.Reserve({"t2", "", ops});
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(50));
}

}  // namespace
}  // namespace hive::policy::ratelimit
