#pragma once

// Cron schedules for backups and restore drills: the five classic fields
//
//   minute(0-59) hour(0-23) day-of-month(1-31) month(1-12 | jan-dec) day-of-week(0-7 | sun-sat)
//
// each a comma-separated list of `*`, `N`, `N-M`, `*/S`, `N-M/S` or `N/S` (= `N-max/S`), names
// case-insensitive, 7 = Sunday like 0; or one macro: @yearly @annually @monthly @weekly @daily
// @midnight @hourly. Not supported (refused): @reboot, `?`, `L`, `W`, `#`, seconds, years.
//
// **Schedules are UTC.** There is no time zone and no daylight saving time: "0 3 * * *" fires
// at 03:00 UTC every day of the year, each hour exists exactly once.
//
// Day matching follows Vixie cron: when both day-of-month and day-of-week are restricted, a day
// matches when EITHER matches ("0 0 1 * mon" = the 1st and every Monday). A field counts as
// unrestricted when it starts with `*` (so `*/2` too, exactly as in Vixie cron and cronie):
// then both fields must match.
//
// A schedule that can never fire ("0 0 30 2 *", "0 0 31 4,6 *") is refused by parseCron, so
// next() of a parsed schedule always finds a time; its search is still bounded (the Gregorian
// calendar repeats every 400 years, a complete search) and returns nullopt past year 9999.

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace noa::controller::backups {

class CronSchedule {
 public:
  // The first fire time strictly after `after_unix_ms` (unix ms, UTC; fire times are whole
  // minutes). nullopt only when none exists before year 10000.
  std::optional<int64_t> next(int64_t after_unix_ms) const;

  // Whether the minute containing `unix_ms` is a fire time.
  bool matches(int64_t unix_ms) const;

  // The text it was parsed from, as given ("0 3 * * *", "@daily").
  const std::string& text() const { return text_; }

  bool operator==(const CronSchedule& other) const { return text_ == other.text_; }

 private:
  friend Result<CronSchedule> parseCron(std::string_view text);

  bool dayMatches(unsigned day_of_month, unsigned day_of_week) const;

  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_of_month_;  // bits 1..31
  std::bitset<13> months_;         // bits 1..12
  std::bitset<7> days_of_week_;    // 0 = Sunday
  bool day_of_month_star_ = true;  // the field started with '*'
  bool day_of_week_star_ = true;
  std::string text_;
};

// InvalidArgument naming the field and the bad token, e.g.
//   bad minute field '61': '61' is out of range 0-59
//   bad day-of-week field 'mon-fry': unknown day-of-week name 'fry'
//   expected 5 fields (minute hour day-of-month month day-of-week) or a macro, got 4
//   never fires: day-of-month '30' does not occur in month 'feb'
Result<CronSchedule> parseCron(std::string_view text);

}  // namespace noa::controller::backups
