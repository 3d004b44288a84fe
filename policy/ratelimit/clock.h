// The time sources of the rate limiter, injected so that tests control time
// and never sleep.
//
// Now() is monotonic (steady_clock in production): GCRA buckets must not
// jump when the wall clock is adjusted. Wall() is civil time (nanoseconds
// since the Unix epoch): calendar quotas reset at local midnight, which only
// the wall clock knows. ManualClock is for tests and moves both together.
// Both are thread-safe.
#pragma once

#include <atomic>
#include <chrono>

namespace hive::policy::ratelimit {

using Nanos = std::chrono::nanoseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Nanos Now() const = 0;
  virtual Nanos Wall() const = 0;
};

class SteadyClock final : public Clock {
 public:
  Nanos Now() const override {
    return std::chrono::duration_cast<Nanos>(std::chrono::steady_clock::now().time_since_epoch());
  }
  Nanos Wall() const override {
    return std::chrono::duration_cast<Nanos>(std::chrono::system_clock::now().time_since_epoch());
  }
};

class ManualClock final : public Clock {
 public:
  // `wall_start`: the civil time at construction (default 2024-01-01T00:00Z).
  explicit ManualClock(Nanos start = std::chrono::hours(1),
                       Nanos wall_start = std::chrono::seconds(1704067200))
      : now_(start.count()), wall_offset_((wall_start - start).count()) {}
  Nanos Now() const override { return Nanos(now_.load()); }
  Nanos Wall() const override { return Nanos(now_.load() + wall_offset_.load()); }
  void Advance(Nanos d) { now_ += d.count(); }
  // Moves the wall clock only (an NTP step): monotonic time is unaffected.
  void SetWall(Nanos wall) { wall_offset_ = wall.count() - now_.load(); }

 private:
  std::atomic<Nanos::rep> now_;
  std::atomic<Nanos::rep> wall_offset_;
};

}  // namespace hive::policy::ratelimit
