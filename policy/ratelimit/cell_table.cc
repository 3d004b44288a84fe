#include "ratelimit/cell_table.h"

#include <limits>

namespace hive::policy::ratelimit {

// One cache line: three entries and the overflow flag.
struct alignas(64) CellTable::Line {
  std::uint64_t key[3];     // 0: empty
  std::int64_t a[3];
  std::uint32_t b[3];       // wall-clock seconds, rounded up; 0: none
  std::uint32_t overflow;   // 1: some entry whose probe passed here lives further on
};

namespace {

constexpr std::size_t kSlots = 3;
constexpr std::size_t kMinLines = 16;

std::uint32_t ToSeconds(Nanos b) {
  if (b.count() <= 0) return 0;
  constexpr std::int64_t kSecond = 1'000'000'000;
  const std::int64_t s = b.count() / kSecond + (b.count() % kSecond != 0 ? 1 : 0);
  return s >= std::numeric_limits<std::uint32_t>::max() ? std::numeric_limits<std::uint32_t>::max()
                                                         : static_cast<std::uint32_t>(s);
}

}  // namespace

std::int64_t CellTable::Ref::a() const { return static_cast<const Line*>(line_)->a[slot_]; }
void CellTable::Ref::set_a(std::int64_t a) { static_cast<Line*>(line_)->a[slot_] = a; }
Nanos CellTable::Ref::b() const { return std::chrono::seconds(static_cast<const Line*>(line_)->b[slot_]); }
void CellTable::Ref::set_b(Nanos b) { static_cast<Line*>(line_)->b[slot_] = ToSeconds(b); }

CellTable::CellTable() : lines_(std::make_unique<Line[]>(kMinLines)), mask_(kMinLines - 1) {}
CellTable::~CellTable() = default;
CellTable::CellTable(CellTable&&) noexcept = default;
CellTable& CellTable::operator=(CellTable&&) noexcept = default;

std::size_t CellTable::capacity() const { return (mask_ + 1) * kSlots * 3 / 4; }

CellTable::Ref CellTable::Find(std::uint64_t hash) {
  const std::uint64_t k = Stored(hash);
  std::size_t i = k & mask_;
  for (std::size_t n = 0; n <= mask_; ++n) {
    Line& line = lines_[i];
    for (std::size_t s = 0; s < kSlots; ++s) {
      if (line.key[s] == k) return Ref(&line, static_cast<int>(s));
    }
    if (line.overflow == 0) return {};
    i = (i + 1) & mask_;
  }
  return {};
}

CellTable::Ref CellTable::Place(std::uint64_t stored) {
  // The table is never full (capacity() is 3/4 of the entries), so this ends.
  std::size_t i = stored & mask_;
  for (;;) {
    Line& line = lines_[i];
    for (std::size_t s = 0; s < kSlots; ++s) {
      if (line.key[s] == 0) {
        line.key[s] = stored;
        line.a[s] = 0;
        line.b[s] = 0;
        ++size_;
        return Ref(&line, static_cast<int>(s));
      }
    }
    line.overflow = 1;
    i = (i + 1) & mask_;
  }
}

CellTable::Ref CellTable::FindOrInsert(std::uint64_t hash) {
  if (Ref r = Find(hash)) return r;
  if (size_ + 1 > capacity()) Rehash((mask_ + 1) * 2);
  return Place(Stored(hash));
}

bool CellTable::Erase(std::uint64_t hash) {
  Ref r = Find(hash);
  if (!r) return false;
  static_cast<Line*>(r.line_)->key[r.slot_] = 0;
  --size_;
  return true;
}

std::size_t CellTable::Sweep(const std::function<bool(std::int64_t a, Nanos b)>& dead) {
  std::size_t dropped = 0;
  for (std::size_t i = 0; i <= mask_; ++i) {
    Line& line = lines_[i];
    for (std::size_t s = 0; s < kSlots; ++s) {
      if (line.key[s] != 0 && dead(line.a[s], std::chrono::seconds(line.b[s]))) {
        line.key[s] = 0;
        ++dropped;
      }
    }
  }
  if (dropped == 0) return 0;
  size_ -= dropped;
  // Rebuild: clears the flags the dropped entries left, and shrinks a table
  // that is now mostly empty (down to half full at most).
  std::size_t lines = mask_ + 1;
  while (lines > kMinLines && size_ <= (lines / 2) * kSlots * 3 / 8) lines /= 2;
  Rehash(lines);
  return dropped;
}

void CellTable::Rehash(std::size_t lines) {
  static_assert(sizeof(Line) == 64, "one entry line per cache line");
  std::unique_ptr<Line[]> old = std::move(lines_);
  const std::size_t old_lines = mask_ + 1;
  lines_ = std::make_unique<Line[]>(lines);
  mask_ = lines - 1;
  size_ = 0;
  for (std::size_t i = 0; i < old_lines; ++i) {
    const Line& line = old[i];
    for (std::size_t s = 0; s < kSlots; ++s) {
      if (line.key[s] == 0) continue;
      Ref r = Place(line.key[s]);
      Line& to = *static_cast<Line*>(r.line_);
      to.a[r.slot_] = line.a[s];
      to.b[r.slot_] = line.b[s];
    }
  }
}

}  // namespace hive::policy::ratelimit
