// Calendar windows for quotas: "50,000 per day" resets at local midnight
// in the operator's time zone (not at 00:00 UTC, not every 86,400 s), a
// week on Monday 00:00, a month on the 1st at 00:00.
//
// Time zones come from the system tz database (/usr/share/zoneinfo, Debian
// package tzdata) through absl::time (which bundles cctz): libstdc++ 12 has
// no std::chrono::locate_zone (it arrived in GCC 14), and absl is already a
// dependency through gRPC. DST is handled by cctz: a day in a zone with a
// DST switch lasts 23 or 25 hours; when midnight itself does not exist
// (e.g. America/Havana, America/Santiago) the window starts at the first
// instant of the day.
//
// Usage: auto tz = TimeZone::Load("Asia/Shanghai");
//        CalendarWindow w = tz->WindowAt(CalendarUnit::kDay, wall_now);
// Immutable after Load: thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ratelimit/clock.h"

namespace hive::policy::ratelimit {

enum class CalendarUnit { kDay, kWeek, kMonth };

std::string_view CalendarUnitName(CalendarUnit unit);  // "day", "week", "month"

// [start, end) in wall-clock nanoseconds since the Unix epoch.
struct CalendarWindow {
  Nanos start{0};
  Nanos end{0};
};

class TimeZone {
 public:
  TimeZone() : zone_(absl::UTCTimeZone()), name_("UTC") {}
  // An IANA name ("Europe/Berlin", "UTC"); an unknown name is an error, not
  // a silent fallback to UTC.
  static absl::StatusOr<TimeZone> Load(std::string_view name);

  CalendarWindow WindowAt(CalendarUnit unit, Nanos wall) const;
  const std::string& name() const { return name_; }

 private:
  absl::TimeZone zone_;
  std::string name_;
};

}  // namespace hive::policy::ratelimit
