// The arithmetic of an address warm-up: how many messages a new source
// address may send to one provider group on its Nth sending day.
//
//   cap(N) = floor(day_one * growth^(N-1)); warm once cap(N) >= warm_at.
//
// Days are *sending* days (days on which the address sent to that group),
// so a pause does not skip steps; feedback moves the day back (StepBack).
// Pure value type: thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace hive::policy::routing {

struct WarmupSchedule {
  std::string name;
  std::uint64_t day_one = 0;
  double growth = 1.5;
  std::uint64_t warm_at = 0;
  bool allow_transactional = false;
  std::uint32_t step_back_days = 2;

  // The day's cap, or nullopt when the address is warm on that day.
  // Days before the first count as day 1.
  std::optional<std::uint64_t> CapForDay(std::int64_t day) const;
  // The first sending day on which the address is warm.
  std::int64_t WarmDay() const;
};

}  // namespace hive::policy::routing
