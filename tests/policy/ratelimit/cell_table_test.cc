#include "ratelimit/cell_table.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>

namespace hive::policy::ratelimit {
namespace {

using std::chrono::seconds;

TEST(CellTableTest, FindsWhatWasInsertedAndNothingElse) {
  CellTable t;
  EXPECT_FALSE(t.Find(42));
  CellTable::Ref r = t.FindOrInsert(42);
  ASSERT_TRUE(r);
  EXPECT_EQ(r.a(), 0);
  EXPECT_EQ(r.b(), Nanos(0));
  r.set_a(-7);
  EXPECT_EQ(t.Find(42).a(), -7);
  EXPECT_EQ(t.FindOrInsert(42).a(), -7);  // not a second entry
  EXPECT_EQ(t.size(), 1u);
  EXPECT_FALSE(t.Find(43));
}

TEST(CellTableTest, HashZeroIsAKeyLikeAnyOther) {
  CellTable t;
  t.FindOrInsert(0).set_a(5);
  EXPECT_EQ(t.Find(0).a(), 5);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_TRUE(t.Erase(0));
  EXPECT_FALSE(t.Find(0));
}

TEST(CellTableTest, WindowEndIsKeptInSecondsRoundedUp) {
  CellTable t;
  CellTable::Ref r = t.FindOrInsert(1);
  r.set_b(seconds(100) + Nanos(1));
  EXPECT_EQ(r.b(), seconds(101));  // never reads as ended early
  r.set_b(seconds(100));
  EXPECT_EQ(r.b(), seconds(100));
  r.set_b(Nanos(0));
  EXPECT_EQ(r.b(), Nanos(0));
}

// Hashes that share a home line (same low bits) overflow into the next
// lines; they must all stay findable, also after erasing the ones in front.
TEST(CellTableTest, CollidingHashesOverflowAndSurviveErase) {
  CellTable t;
  for (std::uint64_t i = 1; i <= 10; ++i) t.FindOrInsert(i << 32).set_a(static_cast<std::int64_t>(i));
  for (std::uint64_t i = 1; i <= 10; ++i) {
    ASSERT_TRUE(t.Find(i << 32)) << i;
    EXPECT_EQ(t.Find(i << 32).a(), static_cast<std::int64_t>(i));
  }
  EXPECT_TRUE(t.Erase(1ULL << 32));
  EXPECT_TRUE(t.Erase(2ULL << 32));
  EXPECT_FALSE(t.Erase(2ULL << 32));
  for (std::uint64_t i = 3; i <= 10; ++i) EXPECT_EQ(t.Find(i << 32).a(), static_cast<std::int64_t>(i)) << i;
  EXPECT_EQ(t.size(), 8u);
  // Reuses the freed entry, still one entry per key.
  t.FindOrInsert(11ULL << 32).set_a(11);
  EXPECT_EQ(t.size(), 9u);
  EXPECT_EQ(t.Find(11ULL << 32).a(), 11);
}

TEST(CellTableTest, GrowsAndShrinksLikeAMap) {
  CellTable t;
  std::map<std::uint64_t, std::int64_t> model;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 50000; ++i) {
    const std::uint64_t h = rng() % 20000 + 2;  // many repeats; 0 and 1 share an entry by design
    const std::int64_t v = static_cast<std::int64_t>(rng() % 1000);
    if (i % 7 == 3) {
      EXPECT_EQ(t.Erase(h), model.erase(h) == 1);
    } else {
      t.FindOrInsert(h).set_a(v);
      model[h] = v;
    }
  }
  EXPECT_EQ(t.size(), model.size());
  EXPECT_LE(t.size(), t.capacity());
  for (const auto& [h, v] : model) ASSERT_EQ(t.Find(h).a(), v) << h;

  // Sweep the odd values: the rest stay, and the table shrinks.
  const std::size_t before = t.capacity();
  std::size_t odd = 0;
  for (const auto& [h, v] : model) odd += v % 2 != 0 ? 1 : 0;
  EXPECT_EQ(t.Sweep([](std::int64_t a, Nanos) { return a % 2 != 0; }), odd);
  std::erase_if(model, [](const auto& e) { return e.second % 2 != 0; });
  EXPECT_EQ(t.size(), model.size());
  for (const auto& [h, v] : model) ASSERT_EQ(t.Find(h).a(), v) << h;
  EXPECT_EQ(t.Sweep([](std::int64_t, Nanos) { return true; }), model.size());
  EXPECT_EQ(t.size(), 0u);
  EXPECT_LT(t.capacity(), before);
  EXPECT_FALSE(t.Find(model.begin()->first));
}

TEST(CellTableTest, SweepSeesTheWindowEnd) {
  CellTable t;
  t.FindOrInsert(1).set_b(seconds(10));
  t.FindOrInsert(2).set_b(seconds(20));
  EXPECT_EQ(t.Sweep([](std::int64_t, Nanos b) { return b <= seconds(15); }), 1u);
  EXPECT_FALSE(t.Find(1));
  EXPECT_TRUE(t.Find(2));
}

}  // namespace
}  // namespace hive::policy::ratelimit
