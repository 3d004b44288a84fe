#include "ratelimit/calendar.h"

#include <gtest/gtest.h>

#include "absl/time/civil_time.h"

namespace hive::policy::ratelimit {
namespace {

Nanos At(const char* zone, absl::CivilSecond cs) {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone(zone, &tz));
  return Nanos(absl::ToUnixNanos(absl::FromCivil(cs, tz)));
}

std::chrono::hours Hours(const CalendarWindow& w) {
  return std::chrono::duration_cast<std::chrono::hours>(w.end - w.start);
}

TEST(CalendarTest, DayEndsAtLocalMidnightInAZoneWithoutDst) {
  const TimeZone tz = TimeZone::Load("Asia/Shanghai").value();
  // 23:59:59 and 00:00:00 local are in different days; UTC would put the
  // boundary at 08:00 local.
  const CalendarWindow before = tz.WindowAt(CalendarUnit::kDay, At("Asia/Shanghai", absl::CivilSecond(2024, 3, 10, 23, 59, 59)));
  const CalendarWindow after = tz.WindowAt(CalendarUnit::kDay, At("Asia/Shanghai", absl::CivilSecond(2024, 3, 11, 0, 0, 0)));
  EXPECT_EQ(before.end, after.start);
  EXPECT_EQ(after.start, At("Asia/Shanghai", absl::CivilSecond(2024, 3, 11, 0, 0, 0)));
  EXPECT_EQ(Hours(before), std::chrono::hours(24));
  // 2024-03-11 00:00 in Shanghai is 2024-03-10 16:00 UTC.
  EXPECT_EQ(after.start, At("UTC", absl::CivilSecond(2024, 3, 10, 16, 0, 0)));
  const CalendarWindow at_8 = tz.WindowAt(CalendarUnit::kDay, At("UTC", absl::CivilSecond(2024, 3, 11, 0, 0, 0)));
  EXPECT_EQ(at_8.start, after.start);  // 08:00 local is still the same day
}

TEST(CalendarTest, DstDaysLast23And25HoursInNewYork) {
  const TimeZone tz = TimeZone::Load("America/New_York").value();
  // Spring forward 2024-03-10 02:00 -> 03:00; fall back 2024-11-03 02:00 -> 01:00.
  const CalendarWindow spring = tz.WindowAt(CalendarUnit::kDay, At("America/New_York", absl::CivilSecond(2024, 3, 10, 12, 0, 0)));
  EXPECT_EQ(Hours(spring), std::chrono::hours(23));
  EXPECT_EQ(spring.start, At("America/New_York", absl::CivilSecond(2024, 3, 10, 0, 0, 0)));
  const CalendarWindow fall = tz.WindowAt(CalendarUnit::kDay, At("America/New_York", absl::CivilSecond(2024, 11, 3, 1, 30, 0)));
  EXPECT_EQ(Hours(fall), std::chrono::hours(25));
  // Across midnight after the DST day: the next window starts where this ends.
  const CalendarWindow next = tz.WindowAt(CalendarUnit::kDay, fall.end);
  EXPECT_EQ(next.start, fall.end);
  EXPECT_EQ(next.start, At("America/New_York", absl::CivilSecond(2024, 11, 4, 0, 0, 0)));
  EXPECT_EQ(Hours(next), std::chrono::hours(24));
}

TEST(CalendarTest, BerlinWeekAndMonthAcrossDst) {
  const TimeZone tz = TimeZone::Load("Europe/Berlin").value();
  // The week of 2024-03-31 (DST starts that Sunday) begins Monday 03-25.
  const CalendarWindow week = tz.WindowAt(CalendarUnit::kWeek, At("Europe/Berlin", absl::CivilSecond(2024, 3, 31, 23, 0, 0)));
  EXPECT_EQ(week.start, At("Europe/Berlin", absl::CivilSecond(2024, 3, 25, 0, 0, 0)));
  EXPECT_EQ(week.end, At("Europe/Berlin", absl::CivilSecond(2024, 4, 1, 0, 0, 0)));
  EXPECT_EQ(Hours(week), std::chrono::hours(7 * 24 - 1));
  // A Monday 00:00 opens a new week.
  EXPECT_EQ(tz.WindowAt(CalendarUnit::kWeek, week.end).start, week.end);
  // Months are calendar months, not 30 days: February 2024 has 29 days.
  const CalendarWindow feb = tz.WindowAt(CalendarUnit::kMonth, At("Europe/Berlin", absl::CivilSecond(2024, 2, 29, 23, 59, 59)));
  EXPECT_EQ(feb.start, At("Europe/Berlin", absl::CivilSecond(2024, 2, 1, 0, 0, 0)));
  EXPECT_EQ(feb.end, At("Europe/Berlin", absl::CivilSecond(2024, 3, 1, 0, 0, 0)));
  EXPECT_EQ(Hours(feb), std::chrono::hours(29 * 24));
  const CalendarWindow march = tz.WindowAt(CalendarUnit::kMonth, feb.end);
  EXPECT_EQ(Hours(march), std::chrono::hours(31 * 24 - 1));  // DST took an hour
}

TEST(CalendarTest, UnknownZoneIsAnError) {
  EXPECT_FALSE(TimeZone::Load("Mars/Olympus_Mons").ok());
  EXPECT_EQ(TimeZone().name(), "UTC");
}

}  // namespace
}  // namespace hive::policy::ratelimit
