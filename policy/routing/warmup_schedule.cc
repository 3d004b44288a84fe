#include "routing/warmup_schedule.h"

#include <cmath>

namespace hive::policy::routing {

std::optional<std::uint64_t> WarmupSchedule::CapForDay(std::int64_t day) const {
  if (day < 1) day = 1;
  // Computed in double and compared before converting: growth^(N-1) leaves
  // the uint64 range long after warm_at is passed.
  const double cap = std::floor(static_cast<double>(day_one) * std::pow(growth, static_cast<double>(day - 1)));
  if (cap >= static_cast<double>(warm_at)) return std::nullopt;
  return static_cast<std::uint64_t>(cap);
}

std::int64_t WarmupSchedule::WarmDay() const {
  std::int64_t day = 1;
  // Bounded: config validation requires growth > 1 and warm_at <= 2^40,
  // so this ends within a few thousand steps even for growth 1.01.
  while (CapForDay(day).has_value()) ++day;
  return day;
}

}  // namespace hive::policy::routing
