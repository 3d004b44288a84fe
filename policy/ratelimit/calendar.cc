#include "ratelimit/calendar.h"

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"

namespace hive::policy::ratelimit {
namespace {

Nanos ToNanos(absl::Time t) { return Nanos(absl::ToUnixNanos(t)); }

}  // namespace

std::string_view CalendarUnitName(CalendarUnit unit) {
  switch (unit) {
    case CalendarUnit::kDay: return "day";
    case CalendarUnit::kWeek: return "week";
    case CalendarUnit::kMonth: return "month";
  }
  return "?";
}

absl::StatusOr<TimeZone> TimeZone::Load(std::string_view name) {
  TimeZone tz;
  if (!absl::LoadTimeZone(std::string(name), &tz.zone_)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown time zone '", std::string(name), "' (an IANA name such as Asia/Shanghai, from "
                     "/usr/share/zoneinfo)"));
  }
  tz.name_ = std::string(name);
  return tz;
}

CalendarWindow TimeZone::WindowAt(CalendarUnit unit, Nanos wall) const {
  const absl::Time t = absl::FromUnixNanos(wall.count());
  const absl::CivilDay day = absl::ToCivilDay(t, zone_);
  absl::CivilDay first, next;
  switch (unit) {
    case CalendarUnit::kDay:
      first = day;
      next = day + 1;
      break;
    case CalendarUnit::kWeek:
      // Weeks start on Monday (ISO 8601).
      first = absl::PrevWeekday(day + 1, absl::Weekday::monday);
      next = first + 7;
      break;
    case CalendarUnit::kMonth: {
      const absl::CivilMonth month(day);
      first = absl::CivilDay(month);
      next = absl::CivilDay(month + 1);
      break;
    }
  }
  // FromCivil picks the first instant of a civil second that happens twice
  // and the transition instant for one that is skipped: midnight always maps.
  return {ToNanos(absl::FromCivil(first, zone_)), ToNanos(absl::FromCivil(next, zone_))};
}

}  // namespace hive::policy::ratelimit
