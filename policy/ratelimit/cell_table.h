// The bucket table of the in-memory store (memory_store.h): 64-bit bucket
// hashes mapped to two counters, laid out so that a lookup costs ONE cache
// miss. The table is an array of 64-byte lines; a line holds three entries
// (hash, a, b) and an overflow flag. A hash lives in its home line (low bits
// of the hash) or, when that line was full at insertion, in the first line
// after it with room; every full line passed on the way is flagged, and a
// lookup stops at the first line without the flag. A general-purpose map
// (absl::flat_hash_map) keeps control bytes and slots in two arrays: two
// misses per lookup on a table far larger than the cache (docs/benchmarks.md,
// "Rate limiter").
//
// Values: `a` is any int64 (a GCRA TAT or a quota count); `b` is a wall-clock
// instant in ns (a quota window's end, 0 for none) kept in whole seconds,
// rounded UP: an entry reads as ended at most one second late, never early.
// Hash 0 is stored as 1 (it marks an empty entry); two keys whose hashes
// differ only there share a bucket, like any other 64-bit collision.
//
// Erase empties an entry and leaves the flags; Sweep rebuilds the lines
// after dropping entries, which also clears stale flags. The table grows
// (doubling, rehash) past 3/4 of its entries. Not thread-safe: the store
// holds the shard's mutex around every call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "ratelimit/clock.h"

namespace hive::policy::ratelimit {

class CellTable {
 public:
  // A found or inserted entry; valid until the next Insert, Erase or Sweep.
  class Ref {
   public:
    Ref() = default;
    explicit operator bool() const { return line_ != nullptr; }
    std::int64_t a() const;
    void set_a(std::int64_t a);
    Nanos b() const;  // 0 when none
    void set_b(Nanos b);

   private:
    friend class CellTable;
    Ref(void* line, int slot) : line_(line), slot_(slot) {}
    void* line_ = nullptr;
    int slot_ = 0;
  };

  CellTable();
  ~CellTable();
  CellTable(CellTable&&) noexcept;
  CellTable& operator=(CellTable&&) noexcept;

  Ref Find(std::uint64_t hash);
  bool Contains(std::uint64_t hash) { return static_cast<bool>(Find(hash)); }
  // The entry of `hash`, created with a = b = 0 if absent.
  Ref FindOrInsert(std::uint64_t hash);
  bool Erase(std::uint64_t hash);
  // Drops every entry for which dead(a, b) is true; returns how many.
  std::size_t Sweep(const std::function<bool(std::int64_t a, Nanos b)>& dead);
  std::size_t size() const { return size_; }
  std::size_t capacity() const;  // entries before the next growth

 private:
  struct Line;
  static std::uint64_t Stored(std::uint64_t hash) { return hash == 0 ? 1 : hash; }
  Ref Place(std::uint64_t stored);
  void Rehash(std::size_t lines);

  std::unique_ptr<Line[]> lines_;
  std::size_t mask_ = 0;  // lines - 1
  std::size_t size_ = 0;
};

}  // namespace hive::policy::ratelimit
