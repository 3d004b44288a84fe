// The time source of the rate limiter, injected so that tests control time
// and never sleep.
//
// Now() is monotonic (steady_clock in production): buckets must not jump
// when the wall clock is adjusted. ManualClock is for tests. Both are
// thread-safe.
#pragma once

#include <atomic>
#include <chrono>

namespace hive::policy::ratelimit {

using Nanos = std::chrono::nanoseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Nanos Now() const = 0;
};

class SteadyClock final : public Clock {
 public:
  Nanos Now() const override {
    return std::chrono::duration_cast<Nanos>(std::chrono::steady_clock::now().time_since_epoch());
  }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(Nanos start = std::chrono::hours(1)) : now_(start.count()) {}
  Nanos Now() const override { return Nanos(now_.load()); }
  void Advance(Nanos d) { now_ += d.count(); }

 private:
  std::atomic<Nanos::rep> now_;
};

}  // namespace hive::policy::ratelimit
